// A private Redis for one system's run: no persistence, pinned to the server core, so nothing
// another system left behind (channels, streams) and nobody else's traffic is in the numbers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnPinned, waitForPort, type Pinned } from './procs.js';

export interface RedisInstance {
  readonly url: string;
  readonly process: Pinned;
  stop(): Promise<void>;
}

export async function startRedis(cpu: number, redisServer: string): Promise<RedisInstance> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-redis-'));
  const process = spawnPinned(
    'redis-server',
    cpu,
    redisServer,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--maxclients',
      '1000',
    ],
    {},
  );
  try {
    await waitForPort(process, port, 15_000);
  } catch (err) {
    await process.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    process,
    async stop() {
      await process.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
