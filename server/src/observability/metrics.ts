// Prometheus metrics (prom-client). The composition root creates one Registry and one Metrics and
// passes them down; hot paths only increment counters that are already labelled, once per
// delivery per node rather than once per socket.
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type LabelValues,
} from 'prom-client';

/** What the push API (HTTP and gRPC) reports; kept small so callers need no prom-client. */
export interface PushMetrics {
  /** Starts timing one push; call the result once it is done with how many deliveries failed. */
  startPush(api: 'http' | 'grpc'): (result: { failed?: number }) => void;
  /** Starts timing one gRPC call; call the result with its status name (e.g. `OK`, `INTERNAL`). */
  startGrpc(method: string): (status: string) => void;
}

export interface MetricsOptions {
  registry: Registry;
  /** Process metrics (CPU, memory, event loop lag, GC); on unless turned off. */
  defaultMetrics?: boolean;
}

const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type Transport = 'ws' | 'sse';

/** Every metric the server exports, created once per Registry. */
export class Metrics implements PushMetrics {
  readonly registry: Registry;

  readonly wsActive: Gauge;
  readonly wsTotal: Counter;
  readonly sseActive: Gauge;
  readonly sseTotal: Counter;
  readonly pulse: Counter<'kind'>;
  readonly received: Counter<'op'>;
  readonly sent: Counter<'transport'>;
  readonly deliveryLatency: Histogram;
  readonly slowConsumers: Counter;
  readonly resumes: Counter<'result'>;
  readonly refused: Counter<'transport' | 'reason'>;
  readonly closedByServer: Counter<'transport' | 'code'>;
  readonly brokerUp: Gauge;
  readonly pushDuration: Histogram<'api'>;
  readonly pushFailed: Counter<'api'>;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly httpErrors: Counter<'method' | 'route' | 'status'>;
  readonly grpcRequests: Counter<'method' | 'status'>;
  readonly grpcDuration: Histogram<'method'>;
  readonly grpcErrors: Counter<'method' | 'status'>;

  /** Read at scrape time: bytes queued per connection (subscriber lag). */
  private lagSource?: () => Iterable<{ transport: Transport; buffered: number }>;
  /** Read at scrape time: events written so far per transport (the hub counts them). */
  private sentSource?: () => Readonly<Record<Transport, number>>;

  constructor(options: MetricsOptions) {
    const registers = [options.registry];
    this.registry = options.registry;
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: options.registry });

    this.wsActive = new Gauge({
      name: 'gateway_websocket_connections_active',
      help: 'Authenticated WebSocket connections open on this node.',
      registers,
    });
    this.wsTotal = new Counter({
      name: 'gateway_websocket_connections_total',
      help: 'Authenticated WebSocket connections opened on this node.',
      registers,
    });
    this.sseActive = new Gauge({
      name: 'gateway_sse_connections_active',
      help: 'Server-Sent Events streams open on this node.',
      registers,
    });
    this.sseTotal = new Counter({
      name: 'gateway_sse_connections_total',
      help: 'Server-Sent Events streams opened on this node.',
      registers,
    });
    this.pulse = new Counter({
      name: 'gateway_messages_pulse_total',
      help: 'Heartbeats: pongs answering server pings (kind=pong) and application ping ops (kind=ping).',
      labelNames: ['kind'],
      registers,
    });
    this.received = new Counter({
      name: 'gateway_messages_received_total',
      help: 'Client frames received over WebSocket, by op (invalid: not a frame; other: unknown op).',
      labelNames: ['op'],
      registers,
    });
    const sentSource = () => this.sentSource;
    const reported: Record<Transport, number> = { ws: 0, sse: 0 };
    this.sent = new Counter({
      name: 'gateway_messages_sent_total',
      help: 'Events written to client connections.',
      labelNames: ['transport'],
      registers,
      // The hub counts with plain integers on the hot path; the difference is added here.
      collect() {
        const counts = sentSource()?.();
        if (!counts) return;
        for (const transport of ['ws', 'sse'] as const) {
          const delta = counts[transport] - reported[transport];
          if (delta > 0) this.inc({ transport }, delta);
          reported[transport] = counts[transport];
        }
      },
    });
    this.deliveryLatency = new Histogram({
      name: 'gateway_delivery_latency_seconds',
      help: 'From publish (on any node) to being written to the local sockets, per delivery.',
      buckets: latencyBuckets,
      registers,
    });
    this.slowConsumers = new Counter({
      name: 'gateway_slow_consumer_disconnects_total',
      help: 'Connections closed because their outgoing buffer was full (4008 slow_consumer).',
      registers,
    });
    this.resumes = new Counter({
      name: 'gateway_resume_total',
      help: 'Replays from history per connection and topic: resumed, or resync_required when history no longer covered it.',
      labelNames: ['result'],
      registers,
    });
    this.refused = new Counter({
      name: 'gateway_connections_refused_total',
      help: 'Connection attempts refused by limits or IP lists, by reason.',
      labelNames: ['transport', 'reason'],
      registers,
    });
    this.closedByServer = new Counter({
      name: 'gateway_connections_closed_total',
      help: 'Connections the server closed, by close code name.',
      labelNames: ['transport', 'code'],
      registers,
    });
    this.brokerUp = new Gauge({
      name: 'gateway_broker_up',
      help: '1 while the broker is connected, 0 while it is down.',
      registers,
    });
    this.brokerUp.set(1);
    const lagSource = () => this.lagSource;
    new Gauge({
      name: 'gateway_subscriber_lag_bytes',
      help: 'Bytes queued for clients and not yet written: the largest per connection (stat=max) and the sum (stat=sum).',
      labelNames: ['transport', 'stat'],
      registers,
      collect() {
        const source = lagSource();
        if (!source) return;
        const max = { ws: 0, sse: 0 };
        const sum = { ws: 0, sse: 0 };
        for (const { transport, buffered } of source()) {
          max[transport] = Math.max(max[transport], buffered);
          sum[transport] += buffered;
        }
        for (const transport of ['ws', 'sse'] as const) {
          this.set({ transport, stat: 'max' }, max[transport]);
          this.set({ transport, stat: 'sum' }, sum[transport]);
        }
      },
    });
    this.pushDuration = new Histogram({
      name: 'gateway_push_duration_seconds',
      help: 'Time to handle one push request (HTTP publish API or gRPC PushService).',
      labelNames: ['api'],
      buckets: latencyBuckets,
      registers,
    });
    this.pushFailed = new Counter({
      name: 'gateway_push_failed_total',
      help: 'Push deliveries that failed.',
      labelNames: ['api'],
      registers,
    });
    this.httpRequests = new Counter({
      name: 'gateway_http_requests_total',
      help: 'HTTP requests answered, by route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'gateway_http_request_duration_seconds',
      help: 'HTTP request duration by route pattern.',
      labelNames: ['method', 'route'],
      buckets: latencyBuckets,
      registers,
    });
    this.httpErrors = new Counter({
      name: 'gateway_http_errors_total',
      help: 'HTTP requests answered with a 4xx or 5xx status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.grpcRequests = new Counter({
      name: 'gateway_grpc_requests_total',
      help: 'gRPC calls handled, by method and status.',
      labelNames: ['method', 'status'],
      registers,
    });
    this.grpcDuration = new Histogram({
      name: 'gateway_grpc_request_duration_seconds',
      help: 'gRPC call duration by method.',
      labelNames: ['method'],
      buckets: latencyBuckets,
      registers,
    });
    this.grpcErrors = new Counter({
      name: 'gateway_grpc_errors_total',
      help: 'gRPC calls that ended with a status other than OK.',
      labelNames: ['method', 'status'],
      registers,
    });
  }

  /** Where the sent-messages counter reads the hub's running totals from at scrape time. */
  observeSent(source: () => Readonly<Record<Transport, number>>): void {
    this.sentSource = source;
  }

  /** Where the subscriber-lag gauge reads buffered bytes from at scrape time. */
  observeLag(source: () => Iterable<{ transport: Transport; buffered: number }>): void {
    this.lagSource = source;
  }

  startPush(api: 'http' | 'grpc'): (result: { failed?: number }) => void {
    const end = this.pushDuration.startTimer({ api });
    return ({ failed = 0 }) => {
      end();
      if (failed > 0) this.pushFailed.inc({ api }, failed);
    };
  }

  startGrpc(method: string): (status: string) => void {
    const end = this.grpcDuration.startTimer({ method });
    return (status) => {
      end();
      const labels: LabelValues<'method' | 'status'> = { method, status };
      this.grpcRequests.inc(labels);
      if (status !== 'OK') this.grpcErrors.inc(labels);
    };
  }
}

/** Creates a Registry with every server metric registered in it. */
export function createMetrics(options: Partial<MetricsOptions> = {}): Metrics {
  return new Metrics({ registry: options.registry ?? new Registry(), ...options });
}

export { Registry };
