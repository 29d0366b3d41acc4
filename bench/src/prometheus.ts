// Reading one histogram out of a server's /metrics text, the difference of two scrapes, and its
// quantiles the way Prometheus's histogram_quantile() estimates them.

export interface Histogram {
  /** Cumulative counts by upper bound, ascending; the last bound is Infinity. */
  readonly buckets: ReadonlyArray<{ le: number; count: number }>;
  readonly count: number;
  readonly sum: number;
}

function labelsOf(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const match of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
    labels[match[1]!] = match[2]!.replace(/\\(.)/g, '$1');
  }
  return labels;
}

/** The series of `name` whose labels include `labels`, summed over the other labels. */
export function readHistogram(
  text: string,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): Histogram | undefined {
  const buckets = new Map<number, number>();
  let count = 0;
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^(\w+)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const [, metric, labelText = '', valueText] = match;
    const series = labelsOf(labelText);
    if (Object.entries(labels).some(([k, v]) => series[k] !== v)) continue;
    const value = Number(valueText);
    if (metric === `${name}_bucket`) {
      const le = series.le === '+Inf' ? Infinity : Number(series.le);
      buckets.set(le, (buckets.get(le) ?? 0) + value);
      found = true;
    } else if (metric === `${name}_count`) count += value;
    else if (metric === `${name}_sum`) sum += value;
  }
  if (!found) return undefined;
  return {
    buckets: [...buckets.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([le, c]) => ({ le, count: c })),
    count,
    sum,
  };
}

/** What was observed between two scrapes of the same histogram. */
export function subtractHistogram(later: Histogram, earlier: Histogram | undefined): Histogram {
  if (!earlier) return later;
  const before = new Map(earlier.buckets.map((b) => [b.le, b.count]));
  return {
    buckets: later.buckets.map((b) => ({ le: b.le, count: b.count - (before.get(b.le) ?? 0) })),
    count: later.count - earlier.count,
    sum: later.sum - earlier.sum,
  };
}

/**
 * The q-quantile, interpolated linearly inside its bucket (the first bucket from 0). A quantile
 * in the +Inf bucket is reported as the highest finite bound, as Prometheus does.
 */
export function histogramQuantile(h: Histogram, q: number): number | null {
  const total = h.buckets.at(-1)?.count ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const bucket of h.buckets) {
    if (bucket.count >= rank) {
      if (bucket.le === Infinity) return lower;
      const inBucket = bucket.count - below;
      return inBucket > 0 ? lower + ((bucket.le - lower) * (rank - below)) / inBucket : bucket.le;
    }
    lower = bucket.le;
    below = bucket.count;
  }
  return lower;
}
