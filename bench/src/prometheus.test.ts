import { describe, expect, it } from 'vitest';
import { histogramQuantile, readHistogram, subtractHistogram } from './prometheus.js';

const scrape = (fast: number[], worker: number[]) => {
  const bounds = ['0.001', '0.01', '0.1', '+Inf'];
  const lines = ['# HELP outbox_commit_to_publish_seconds x', '# TYPE x histogram'];
  for (const [path, counts] of [
    ['fast', fast],
    ['worker', worker],
  ] as const) {
    bounds.forEach((le, i) =>
      lines.push(`outbox_commit_to_publish_seconds_bucket{le="${le}",path="${path}"} ${counts[i]}`),
    );
    lines.push(`outbox_commit_to_publish_seconds_sum{path="${path}"} ${counts[3]! * 0.005}`);
    lines.push(`outbox_commit_to_publish_seconds_count{path="${path}"} ${counts[3]}`);
  }
  lines.push('outbox_commit_to_publish_seconds_other 1');
  return lines.join('\n');
};

describe('readHistogram', () => {
  it('reads one label set’s cumulative buckets, count and sum', () => {
    const h = readHistogram(
      scrape([10, 50, 100, 100], [0, 0, 1, 2]),
      'outbox_commit_to_publish_seconds',
      {
        path: 'fast',
      },
    );
    expect(h).toEqual({
      buckets: [
        { le: 0.001, count: 10 },
        { le: 0.01, count: 50 },
        { le: 0.1, count: 100 },
        { le: Infinity, count: 100 },
      ],
      count: 100,
      sum: 0.5,
    });
  });

  it('sums series over labels not asked for, and is undefined for a missing metric', () => {
    const text = scrape([10, 50, 100, 100], [0, 0, 1, 2]);
    expect(readHistogram(text, 'outbox_commit_to_publish_seconds')?.count).toBe(102);
    expect(readHistogram(text, 'nope_seconds')).toBeUndefined();
  });
});

describe('histogramQuantile', () => {
  it('interpolates inside the bucket, as Prometheus does', () => {
    const name = 'outbox_commit_to_publish_seconds';
    const before = readHistogram(scrape([10, 50, 100, 100], [0, 0, 0, 0]), name, { path: 'fast' });
    const after = readHistogram(scrape([10, 150, 200, 200], [0, 0, 0, 0]), name, { path: 'fast' })!;
    const window = subtractHistogram(after, before);
    expect(window.count).toBe(100);
    // 100 new observations: all in (0.001, 0.01]; the median is halfway through that bucket.
    expect(histogramQuantile(window, 0.5)).toBeCloseTo(0.0055, 6);
    expect(histogramQuantile(window, 0.99)).toBeCloseTo(0.00991, 6);
  });

  it('reports the highest finite bound for the +Inf bucket and null when empty', () => {
    const h = {
      buckets: [
        { le: 0.1, count: 1 },
        { le: Infinity, count: 10 },
      ],
      count: 10,
      sum: 5,
    };
    expect(histogramQuantile(h, 0.99)).toBe(0.1);
    expect(
      histogramQuantile({ buckets: [{ le: Infinity, count: 0 }], count: 0, sum: 0 }, 0.5),
    ).toBeNull();
  });
});
