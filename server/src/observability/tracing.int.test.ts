// With OTEL_EXPORTER_OTLP_ENDPOINT set, spans for HTTP requests and for publish → deliver reach
// an OTLP/HTTP receiver (a local HTTP server that records what is posted to it).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { target } from '../test-support/services.js';
import { connectWs } from '../test-support/ws-client.js';

interface Posted {
  path: string;
  contentType: string;
  body: string;
}

describe(`tracing (${target})`, () => {
  let collector: Server;
  const posted: Posted[] = [];
  let endpoint: string;
  beforeAll(async () => {
    collector = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        posted.push({
          path: req.url ?? '',
          contentType: String(req.headers['content-type']),
          body,
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    collector.closeAllConnections();
    await new Promise((resolve) => collector.close(resolve));
  });

  it('exports HTTP, publish and deliver spans to the OTLP endpoint', async () => {
    const t: TestServer = await startTestServer({
      env: { GRPC_PORT: '0', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint },
    });
    try {
      const traceId = 'a'.repeat(32);
      expect(
        (
          await fetch(`${t.url}/health`, {
            headers: { traceparent: `00-${traceId}-${'b'.repeat(16)}-01` },
          })
        ).status,
      ).toBe(200);
      const token = await t.token('traced', { topics: ['trace.*'] });
      const socket = await connectWs(`${t.wsUrl}/ws?token=${token}`);
      await socket.request({ op: 'subscribe', topics: ['trace.t'] });
      await t.server.realtime.hub.publish('trace.t', { type: 'traced.event' });
      await socket.next((f) => f.op === 'event');
      await t.server.realtime.hub.push(['traced'], { type: 'traced.push' });
      await socket.next((f) => f.op === 'event' && f.type === 'traced.push');
      socket.close();
      await socket.closed;
    } finally {
      // Stopping flushes the batch of spans to the collector.
      await t.stop();
    }
    const traces = posted.filter((p) => p.path === '/v1/traces');
    expect(traces.length).toBeGreaterThan(0);
    const all = traces.map((p) => p.body).join('\n');
    expect(traces[0]!.contentType).toContain('application/json');
    expect(all).toContain('GET /health');
    expect(all).toContain('realtime.publish');
    expect(all).toContain('realtime.deliver');
    expect(all).toContain('realtime.push');
    expect(all).toContain('trace.t');
    // The request span joined the caller's trace from `traceparent`.
    expect(all).toContain('a'.repeat(32));
  });

  it('exports nothing and registers no hooks when the endpoint is not set', async () => {
    const before = posted.length;
    const t = await startTestServer({ env: { GRPC_PORT: '0' } });
    try {
      await fetch(`${t.url}/health`);
    } finally {
      await t.stop();
    }
    expect(posted.length).toBe(before);
  });
});
