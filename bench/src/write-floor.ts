// What one delivery costs the sending process when it is nothing but a TCP write: a server
// process pinned to core 1 writes the same pre-built frame to N loopback sockets at a fixed rate
// of deliveries/s, and reports its own CPU per delivery (user and system apart); the sockets'
// other ends are read on core 0 by this process. It is the floor under scenario A's headline for
// any server written on Node that sends each event in a write of its own: no JSON, no WebSocket
// framing, no broker. `--batch=K` writes K events in one write (what coalescing K events per
// subscriber would buy), and `--cork` corks every socket for the fan-out and uncorks them together
// (how the Switchboard fan-out writes).
//
//   taskset -c 0 node --import tsx bench/src/write-floor.ts [--connections=1000] [--rate=20000]
//        [--bytes=110] [--batch=1] [--cork] [--warmup=2] [--window=10]
import { spawn } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

interface Flags {
  connections: number;
  rate: number;
  bytes: number;
  batch: number;
  cork: boolean;
  warmup: number;
  window: number;
}

function parseFlags(argv: readonly string[]): Flags {
  const value = (name: string, fallback: number) => {
    const text = argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
    const parsed = text === undefined ? fallback : Number(text);
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`--${name} takes a number > 0`);
    return parsed;
  };
  return {
    connections: value('connections', 1000),
    rate: value('rate', 20_000),
    bytes: value('bytes', 110),
    batch: value('batch', 1),
    cork: argv.includes('--cork'),
    warmup: value('warmup', 2),
    window: value('window', 10),
  };
}

const flags = parseFlags(process.argv.slice(2));

if (process.argv.includes('--serve')) {
  serve(flags);
} else {
  await drive(flags);
}

/** The sending side: accepts the connections, then fans out until the window ends. */
function serve(f: Flags): void {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    sockets.push(socket);
    if (sockets.length === f.connections) void fanOut();
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    if (address && typeof address === 'object') process.stdout.write(`${address.port}\n`);
  });

  async function fanOut(): Promise<void> {
    const frame = Buffer.alloc(f.bytes * f.batch, 'x');
    const writesPerSecond = f.rate / f.connections / f.batch;
    const intervalMs = 1000 / writesPerSecond;
    const started = performance.now();
    let sent = 0;
    let windowStart: { cpu: NodeJS.CpuUsage; writes: number } | undefined;
    const endAt = started + (f.warmup + f.window) * 1000;
    for (;;) {
      const now = performance.now();
      if (now >= endAt) break;
      if (!windowStart && now - started >= f.warmup * 1000) {
        windowStart = { cpu: process.cpuUsage(), writes: sent };
      }
      if (f.cork) for (const socket of sockets) socket.cork();
      for (const socket of sockets) socket.write(frame);
      if (f.cork) for (const socket of sockets) socket.uncork();
      sent += sockets.length;
      const next = started + (sent / sockets.length) * intervalMs;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
    }
    if (!windowStart) throw new Error('the window never started');
    const cpu = process.cpuUsage(windowStart.cpu);
    const deliveries = (sent - windowStart.writes) * f.batch;
    process.stdout.write(
      `${JSON.stringify({
        deliveries,
        userMicrosPerDelivery: cpu.user / deliveries,
        systemMicrosPerDelivery: cpu.system / deliveries,
      })}\n`,
    );
    for (const socket of sockets) socket.destroy();
    server.close();
  }
}

/** The receiving side: starts the pinned sender, connects, reads everything, reports. */
async function drive(f: Flags): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(
    'taskset',
    ['-c', '1', process.execPath, '--import', 'tsx', self, '--serve', ...process.argv.slice(2)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines: string[] = [];
  let pending = '';
  let portSeen: (port: number) => void = () => {};
  const port = new Promise<number>((resolve) => (portSeen = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    for (let at = pending.indexOf('\n'); at >= 0; at = pending.indexOf('\n')) {
      const line = pending.slice(0, at);
      pending = pending.slice(at + 1);
      if (lines.length === 0 && /^\d+$/.test(line)) portSeen(Number(line));
      lines.push(line);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const target = await port;
  let received = 0;
  for (let i = 0; i < f.connections; i++) {
    const socket = connect(target, '127.0.0.1');
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  }
  const code = await exited;
  const result = lines.slice(1).find((line) => line.startsWith('{'));
  if (code !== 0 || !result) throw new Error(`the sender exited with ${code}`);
  const measured = JSON.parse(result) as {
    deliveries: number;
    userMicrosPerDelivery: number;
    systemMicrosPerDelivery: number;
  };
  const round = (n: number) => Math.round(n * 100) / 100;
  process.stdout.write(
    `${JSON.stringify({
      scenario: 'write-floor',
      parameters: f,
      metrics: {
        deliveriesInWindow: measured.deliveries,
        bytesReceived: received,
        userMicrosPerDelivery: round(measured.userMicrosPerDelivery),
        systemMicrosPerDelivery: round(measured.systemMicrosPerDelivery),
        cpuMicrosPerDelivery: round(
          measured.userMicrosPerDelivery + measured.systemMicrosPerDelivery,
        ),
      },
    })}\n`,
  );
}
