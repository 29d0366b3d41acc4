// Headers for the console APIs and pages: no MIME sniffing, no framing (clickjacking), no
// referrer leaking paths, and a CSP that lets the pages load only their own scripts and styles.
import type { FastifyInstance } from 'fastify';

export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Adds the headers to every response of `scope`; HSTS only in production (served over https). */
export function addSecurityHeaders(scope: FastifyInstance, production: boolean): void {
  scope.addHook('onSend', (_request, reply, payload, done) => {
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('x-frame-options', 'DENY');
    void reply.header('referrer-policy', 'same-origin');
    void reply.header('content-security-policy', CONSOLE_CSP);
    void reply.header('cache-control', reply.getHeader('cache-control') ?? 'no-store');
    if (production) {
      void reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
    }
    done(null, payload);
  });
}
