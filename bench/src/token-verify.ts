// CPU per access-token verification, the first step of every WebSocket handshake, SSE stream and
// authenticated REST call: the server's authenticator (HS256, its secret imported into a key
// once) against jose given the raw secret bytes on each call, as the authenticator used to.
//
//   node --import tsx bench/src/token-verify.ts [--tokens=20000] [--rounds=3]
import { jwtVerify } from 'jose';
import { createAuthenticator } from '../../server/src/realtime/auth.js';
import { signHs256 } from './jwt.js';

const flag = (name: string, fallback: number) => {
  const value = process.argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1];
  return value ? Number(value) : fallback;
};
const count = flag('tokens', 20_000);
const rounds = flag('rounds', 3);
const secret = 'bench-secret-'.padEnd(48, 'x');
const exp = Math.floor(Date.now() / 1000) + 3600;
const tokens = Array.from({ length: count }, (_, i) => signHs256(secret, { sub: `u${i}`, exp }));

const authenticator = await createAuthenticator({
  JWT_SECRET: secret,
  JWT_PUBLIC_KEY: undefined,
  JWT_JWKS_URL: undefined,
  JWT_ISSUER: undefined,
  JWT_AUDIENCE: undefined,
  NODE_ENV: 'production',
});
const rawSecret = new TextEncoder().encode(secret);

const ways: Record<string, (token: string) => Promise<unknown>> = {
  'authenticator (key imported once)': (token) => authenticator.verify(token),
  'jose with the raw secret bytes': (token) =>
    jwtVerify(token, rawSecret, { algorithms: ['HS256'] }),
};

for (let round = 1; round <= rounds; round++) {
  for (const [name, verify] of Object.entries(ways)) {
    const before = process.cpuUsage();
    const started = performance.now();
    await Promise.all(tokens.map(verify));
    const cpu = process.cpuUsage(before);
    const wallMs = performance.now() - started;
    const perToken = (cpu.user + cpu.system) / count;
    process.stdout.write(
      `${JSON.stringify({ round, way: name, tokens: count, cpuMicrosPerVerification: Math.round(perToken * 10) / 10, wallMs: Math.round(wallMs) })}\n`,
    );
  }
}
