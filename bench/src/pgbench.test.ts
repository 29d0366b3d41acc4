import { describe, expect, it } from 'vitest';
import {
  checkPgbench,
  parsePgbench,
  PGBENCH_MISSING,
  pgbenchArgs,
  pgbenchScript,
} from './pgbench.js';

const OUTPUT = `pgbench (15.20 (Debian 15.20-0+deb12u1))
transaction type: /tmp/insert.sql
scaling factor: 1
query mode: prepared
number of clients: 8
number of threads: 2
maximum number of tries: 1
duration: 3 s
number of transactions actually processed: 6656
number of failed transactions: 0 (0.000%)
latency average = 3.474 ms
initial connection time = 139.369 ms
tps = 2302.676758 (without initial connection time)
`;

describe('pgbench', () => {
  it('reads tps, transactions and latency from the summary', () => {
    expect(parsePgbench(OUTPUT)).toEqual({
      tps: 2302.676758,
      transactions: 6656,
      failed: 0,
      latencyAverageMs: 3.474,
    });
  });

  it('fails with the output when there is no tps line', () => {
    expect(() => parsePgbench('connection to server failed')).toThrow(/no tps line/);
  });

  it('takes the URL apart into -h -p -U and the database', () => {
    const args = pgbenchArgs('postgres://postgres@127.0.0.1:5432/switchboard_bench_1', '/t/x.sql', {
      clients: 8,
      threads: 2,
      seconds: 15,
    });
    expect(args.join(' ')).toBe(
      '-n -M prepared -c 8 -j 2 -T 15 -f /t/x.sql -h 127.0.0.1 -p 5432 -U postgres switchboard_bench_1',
    );
  });

  it('spreads inserts over the same topics as the pipeline', () => {
    const script = pgbenchScript(16);
    expect(script).toContain('\\set n random(0, 15)');
    expect(script).toMatch(/^insert into \w+ \(topic, payload\) values /m);
  });

  it('says which package to install when pgbench is missing', async () => {
    await expect(checkPgbench('/nonexistent/pgbench')).rejects.toThrow(PGBENCH_MISSING);
    expect(PGBENCH_MISSING).toMatch(/postgresql-contrib/);
    expect(PGBENCH_MISSING).toMatch(/postgresql-client/);
  });
});
