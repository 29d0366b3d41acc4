// Readiness: named dependency checks run on demand, each with its own deadline.
export interface ReadinessCheck {
  readonly name: string;
  /** Resolves when the dependency is usable; throws with a message saying what is wrong. */
  check(): Promise<void>;
}

export interface CheckResult {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

export interface ReadinessReport {
  ready: boolean;
  draining: boolean;
  checks: Record<string, CheckResult>;
}

export class Readiness {
  private readonly checks: ReadinessCheck[] = [];
  private draining = false;

  constructor(private readonly timeoutMs = 2000) {}

  add(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  /** From now on the instance reports not-ready so load balancers stop sending it work. */
  startDraining(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  async report(): Promise<ReadinessReport> {
    const results = await Promise.all(this.checks.map((c) => this.run(c)));
    const checks = Object.fromEntries(this.checks.map((c, i) => [c.name, results[i]!]));
    return {
      ready: !this.draining && results.every((r) => r.ok),
      draining: this.draining,
      checks,
    };
  }

  private async run(check: ReadinessCheck): Promise<CheckResult> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        check.check(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${this.timeoutMs} ms`)),
            this.timeoutMs,
          );
        }),
      ]);
      return { ok: true, latencyMs: Math.round(performance.now() - started) };
    } catch (err) {
      return {
        ok: false,
        latencyMs: Math.round(performance.now() - started),
        error: err instanceof Error ? err.message : String(err),
      };
    } finally {
      clearTimeout(timer);
    }
  }
}
