import { describe, expect, it } from 'vitest';
import { parseOptions } from './options.js';

describe('parseOptions', () => {
  it('defaults to every scenario and system', () => {
    const o = parseOptions([]);
    expect(o).toMatchObject({
      scenarios: ['A', 'B', 'C', 'D', 'E', 'R'],
      systems: ['switchboard', 'socketio', 'ws', 'ws-redis'],
      subscribers: [1000, 5000],
      nodes: 2,
      rate: 20_000,
    });
  });

  it('reads flags', () => {
    const o = parseOptions([
      '--scenario=a,c',
      '--subscribers=1000',
      '--systems=switchboard,ws',
      '--publish=broker',
    ]);
    expect(o).toMatchObject({
      scenarios: ['A', 'C'],
      subscribers: [1000],
      systems: ['switchboard', 'ws'],
      publish: 'broker',
    });
  });

  it('refuses unknown flags and out-of-range values', () => {
    expect(parseOptions(['--scenario=Z'])).toHaveProperty('error');
    expect(parseOptions(['--subscribers=0'])).toHaveProperty('error');
    expect(parseOptions(['--subscribers=1.5'])).toHaveProperty('error');
    expect(parseOptions(['--frobnicate=1'])).toHaveProperty('error');
    expect(parseOptions(['positional'])).toHaveProperty('error');
    expect(parseOptions(['--publish=carrier-pigeon'])).toHaveProperty('error');
    expect(parseOptions(['--help'])).toEqual({ help: true });
  });

  it('reads the team chat scenario’s flags', () => {
    const o = parseOptions([
      '--scenario=e',
      '--chat-users=200',
      '--chat-channels=20',
      '--chat-rate=200',
      '--chat-warmup=3',
      '--chat-window=10',
    ]);
    expect(o).toMatchObject({
      scenarios: ['E'],
      chat: { users: 200, channels: 20, rate: 200, warmupSeconds: 3, windowSeconds: 10 },
    });
    expect(parseOptions([])).toMatchObject({
      chat: { users: 1000, channels: 100, rate: 1000, warmupSeconds: 10, windowSeconds: 20 },
    });
    expect(parseOptions(['--chat-warmup=-1'])).toHaveProperty('error');
    expect(parseOptions(['--chat-users=1000', '--chat-channels=3'])).toHaveProperty('error');
  });

  it('takes a CPU list for PostgreSQL and leaves it unpinned by default', () => {
    expect(parseOptions(['--postgres-cpus=0'])).toMatchObject({ postgresCpus: '0' });
    expect(parseOptions(['--postgres-cpus=0,2-3'])).toMatchObject({ postgresCpus: '0,2-3' });
    expect(parseOptions([])).toMatchObject({ postgresCpus: undefined });
    expect(parseOptions(['--postgres-cpus=all'])).toHaveProperty('error');
    expect(parseOptions(['--postgres-cpus='])).toHaveProperty('error');
  });

  it('reads the relay scenario’s flags', () => {
    const o = parseOptions([
      '--scenario=r',
      '--relay-accounts=10',
      '--relay-conversations=50',
      '--relay-rate=100',
      '--relay-warmup=0',
      '--relay-window=5',
    ]);
    expect(o).toMatchObject({
      scenarios: ['R'],
      relay: { accounts: 10, conversations: 50, rate: 100, warmupSeconds: 0, windowSeconds: 5 },
    });
    expect(parseOptions([])).toMatchObject({
      relay: {
        accounts: 100,
        conversations: 1000,
        rate: 500,
        warmupSeconds: 10,
        windowSeconds: 30,
      },
    });
    expect(parseOptions(['--relay-accounts=10', '--relay-conversations=5'])).toHaveProperty(
      'error',
    );
  });

  it('reads the durable scenario’s flags', () => {
    const o = parseOptions([
      '--scenario=d',
      '--durable-topics=4',
      '--durable-subscribers=3',
      '--durable-publishers=8,32,128',
      '--durable-rate=500',
      '--durable-window=20',
      '--pgbench-clients=4',
      '--pgbench-threads=1',
      '--pgbench-seconds=5',
      '--server-cpu-prof=/tmp/profiles',
    ]);
    expect(o).toMatchObject({
      scenarios: ['D'],
      serverCpuProfileDir: '/tmp/profiles',
      durable: {
        topics: 4,
        subscribers: 3,
        publishers: [8, 32, 128],
        rate: 500,
        windowSeconds: 20,
        pgbenchClients: 4,
        pgbenchThreads: 1,
        pgbenchSeconds: 5,
      },
    });
  });

  it('defaults the durable scenario to 16 topics, 1,000 events/s and pgbench -c 8 -j 2 -T 15', () => {
    expect(parseOptions([])).toMatchObject({
      serverCpuProfileDir: undefined,
      durable: {
        topics: 16,
        rate: 1000,
        windowSeconds: 15,
        pgbenchClients: 8,
        pgbenchThreads: 2,
        pgbenchSeconds: 15,
      },
    });
  });

  it('refuses durable flags pgbench or the scenario could not run', () => {
    expect(parseOptions(['--pgbench-clients=2', '--pgbench-threads=4'])).toHaveProperty('error');
    expect(parseOptions(['--durable-publishers=0'])).toHaveProperty('error');
    expect(parseOptions(['--durable-rate=1,2'])).toHaveProperty('error');
    expect(parseOptions(['--server-cpu-prof='])).toHaveProperty('error');
  });

  it('reads extra Switchboard configuration', () => {
    expect(
      parseOptions(['--switchboard-env=DATABASE_POOL_MAX=32,OUTBOX_FAST_PATH_GRACE_MS=5000']),
    ).toMatchObject({
      switchboardEnv: { DATABASE_POOL_MAX: '32', OUTBOX_FAST_PATH_GRACE_MS: '5000' },
    });
    expect(parseOptions([])).toMatchObject({ switchboardEnv: {} });
    expect(parseOptions(['--switchboard-env=lower=1'])).toHaveProperty('error');
    expect(parseOptions(['--switchboard-env=NOEQUALS'])).toHaveProperty('error');
  });

  it('reads diagnostic options for the nodes', () => {
    expect(
      parseOptions([
        '--server-node-options= --trace-gc  --max-semi-space-size=2',
        '--server-output=/tmp/o',
      ]),
    ).toMatchObject({
      serverNodeOptions: ['--trace-gc', '--max-semi-space-size=2'],
      serverOutputDir: '/tmp/o',
    });
    expect(parseOptions([])).toMatchObject({ serverNodeOptions: [], serverOutputDir: undefined });
    expect(parseOptions(['--server-node-options=trace-gc'])).toHaveProperty('error');
    expect(parseOptions(['--server-output='])).toHaveProperty('error');
  });
});
