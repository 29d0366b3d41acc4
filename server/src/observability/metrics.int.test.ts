// /metrics over a real server: after WebSocket, SSE, HTTP and publish activity the gateway's
// counters, gauges and histograms have moved, with route patterns (not raw URLs) as labels.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrape, sampleValue } from '../test-support/metrics-text.js';
import { startTestServer, type TestServer } from '../test-support/server.js';
import { target } from '../test-support/services.js';
import { connectWs } from '../test-support/ws-client.js';

describe(`metrics (${target})`, () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ env: { GRPC_PORT: '0', REALTIME_PING_INTERVAL_SECONDS: '1' } });
  });
  afterAll(() => t.stop());

  it('serves Prometheus text with process metrics and the broker state', async () => {
    const res = await fetch(`${t.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(sampleValue(text, 'gateway_broker_up')).toBe(1);
    for (const name of [
      'gateway_websocket_connections_active',
      'gateway_websocket_connections_total',
      'gateway_messages_pulse_total',
      'gateway_messages_received_total',
      'gateway_messages_sent_total',
      'gateway_push_duration_seconds',
      'gateway_push_failed_total',
      'gateway_http_requests_total',
      'gateway_http_request_duration_seconds',
      'gateway_http_errors_total',
      'gateway_grpc_requests_total',
      'gateway_grpc_request_duration_seconds',
      'gateway_grpc_errors_total',
      'gateway_sse_connections_active',
      'gateway_delivery_latency_seconds',
      'gateway_slow_consumer_disconnects_total',
      'gateway_resume_total',
      'gateway_subscriber_lag_bytes',
    ]) {
      expect(text, name).toContain(`# TYPE ${name} `);
    }
  });

  it('counts connections, frames, heartbeats, deliveries and resumes as they happen', async () => {
    const before = await scrape(t.url);
    const token = await t.token('metered', { topics: ['meter.*'] });
    const socket = await connectWs(`${t.wsUrl}/ws?token=${token}`);
    await socket.request({ op: 'ping' });
    await socket.request({ op: 'subscribe', topics: ['meter.a'] });
    socket.send({ op: 'no-such-op' });
    socket.ws.send('{broken');
    const hub = t.server.realtime.hub;
    for (let i = 1; i <= 5; i++) await hub.publish('meter.a', { type: 'tick', n: i });
    await socket.next((f) => f.op === 'event' && f.n === 5);
    // A server ping round trip (1 s interval) proves pongs are counted.
    const pongsBefore = sampleValue(before, 'gateway_messages_pulse_total', { kind: 'pong' });
    let after = await scrape(t.url);
    const deadline = Date.now() + 10_000;
    while (sampleValue(after, 'gateway_messages_pulse_total', { kind: 'pong' }) <= pongsBefore) {
      if (Date.now() > deadline) throw new Error('no pong counted');
      await new Promise((r) => setTimeout(r, 200));
      after = await scrape(t.url);
    }

    const delta = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);
    expect(sampleValue(after, 'gateway_websocket_connections_active')).toBe(1);
    expect(delta('gateway_websocket_connections_total')).toBe(1);
    expect(delta('gateway_messages_pulse_total', { kind: 'ping' })).toBe(1);
    expect(delta('gateway_messages_received_total', { op: 'subscribe' })).toBe(1);
    expect(delta('gateway_messages_received_total', { op: 'other' })).toBe(1);
    expect(delta('gateway_messages_received_total', { op: 'invalid' })).toBe(1);
    expect(delta('gateway_messages_sent_total', { transport: 'ws' })).toBe(5);
    expect(delta('gateway_delivery_latency_seconds_count')).toBeGreaterThanOrEqual(5);

    // A resume from history counts once per connection and topic.
    const last = socket.events('meter.a').at(-1)!.seq as number;
    socket.close();
    await socket.closed;
    await hub.publish('meter.a', { type: 'tick', n: 6 });
    const again = await connectWs(`${t.wsUrl}/ws?token=${token}`);
    await again.request({ op: 'subscribe', topics: ['meter.a'], positions: { 'meter.a': last } });
    await again.next((f) => f.op === 'event' && f.n === 6);
    const resumed = await scrape(t.url);
    expect(
      sampleValue(resumed, 'gateway_resume_total', { result: 'resumed' }) -
        sampleValue(before, 'gateway_resume_total', { result: 'resumed' }),
    ).toBe(1);
    again.close();
    await again.closed;
    const closed = await scrape(t.url);
    expect(sampleValue(closed, 'gateway_websocket_connections_active')).toBe(0);
  });

  it('labels HTTP requests by route pattern and counts errors', async () => {
    const before = await scrape(t.url);
    await fetch(`${t.url}/health`);
    await fetch(`${t.url}/no/such/path/12345`);
    const after = await scrape(t.url);
    const delta = (name: string, labels: Record<string, string>) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);
    expect(delta('gateway_http_requests_total', { route: '/health', status: '200' })).toBe(1);
    expect(delta('gateway_http_errors_total', { route: 'unmatched', status: '404' })).toBe(1);
    expect(after).not.toContain('12345');
    expect(
      delta('gateway_http_request_duration_seconds_count', { route: '/health', method: 'GET' }),
    ).toBe(1);
  });

  it('counts SSE streams', async () => {
    const controller = new AbortController();
    const res = await fetch(`${t.url}/api/v1/events/stream`, {
      headers: { authorization: `Bearer ${await t.token('sse-metered')}` },
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (marker: string) => {
      const deadline = Date.now() + 5000;
      while (!text.includes(marker)) {
        if (Date.now() > deadline) throw new Error(`stream so far: ${text}`);
        text += decoder.decode((await reader.read()).value);
      }
    };
    // Subscribed once `connected` arrives; a push before it could precede the subscription.
    await readUntil('event: connected');
    await t.server.realtime.hub.push(['sse-metered'], { type: 'hello' });
    await readUntil('event: hello');
    const during = await scrape(t.url);
    expect(sampleValue(during, 'gateway_sse_connections_active')).toBe(1);
    expect(sampleValue(during, 'gateway_messages_sent_total', { transport: 'sse' })).toBe(1);
    controller.abort();
  });

  it('times pushes through the HTTP publish API', async () => {
    const { key } = await t.server.push.createApiKey({ name: 'metrics test' });
    const before = await scrape(t.url);
    const res = await fetch(`${t.url}/api/v1/push`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userIds: ['pushed-a', 'pushed-b'], event: { type: 'note.created' } }),
    });
    expect(res.status).toBeLessThan(300);
    const after = await scrape(t.url);
    const delta = (name: string, labels: Record<string, string>) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);
    expect(delta('gateway_push_duration_seconds_count', { api: 'http' })).toBe(1);
    expect(delta('gateway_http_requests_total', { route: '/api/v1/push', method: 'POST' })).toBe(1);
  });

  it('records push and gRPC calls through the interface the push API uses', async () => {
    const metrics = t.server.metrics;
    const before = await scrape(t.url);
    metrics.startPush('grpc')({ failed: 2 });
    metrics.startGrpc('/switchboard.push.v1.PushService/Push')('UNAVAILABLE');
    const after = await scrape(t.url);
    const delta = (name: string, labels: Record<string, string>) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);
    expect(delta('gateway_push_duration_seconds_count', { api: 'grpc' })).toBe(1);
    expect(delta('gateway_push_failed_total', { api: 'grpc' })).toBe(2);
    expect(delta('gateway_grpc_requests_total', { status: 'UNAVAILABLE' })).toBe(1);
    expect(delta('gateway_grpc_errors_total', { status: 'UNAVAILABLE' })).toBe(1);
  });
});
