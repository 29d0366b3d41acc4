// A seeded random generator for the fuzz and property tests (mulberry32: small, fast, and the
// same sequence for the same seed everywhere), so a failure replays from its printed seed.

export interface Rng {
  /** A float in [0, 1). */
  readonly next: () => number;
  /** An integer in [0, n). */
  readonly int: (n: number) => number;
  readonly pick: <T>(items: readonly T[]) => T;
  readonly bytes: (n: number) => Buffer;
}

export function prng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    pick: <T>(items: readonly T[]): T => items[int(items.length)]!,
    bytes: (n: number) => Buffer.from(Array.from({ length: n }, () => int(256))),
  };
}

/** The seed of this run: FUZZ_SEED when set (to replay a failure), else a random one. */
export const fuzzSeed = (): number =>
  Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
