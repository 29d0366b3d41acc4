// Connects the hub and broker to the metrics: connection gauges from the hub's change events,
// and scrape-time readings (events sent, bytes queued) so the delivery path only counts integers.
import type { Broker } from '../broker/index.js';
import type { Metrics } from '../observability/index.js';
import type { Hub } from './hub.js';

export function instrumentRealtime(hub: Hub, broker: Broker, metrics: Metrics): () => void {
  const stopWatching = hub.observeConnections(({ kind, connection }) => {
    const [active, total] =
      connection.transport === 'ws'
        ? [metrics.wsActive, metrics.wsTotal]
        : [metrics.sseActive, metrics.sseTotal];
    if (kind === 'opened') {
      active.inc();
      total.inc();
    } else {
      active.dec();
    }
  });
  const stopBrokerState = broker.onStateChange((state) =>
    metrics.brokerUp.set(state === 'up' ? 1 : 0),
  );
  metrics.observeSent(() => hub.sentCounts());
  metrics.observeLag(function* () {
    for (const connection of hub.allConnections()) {
      yield { transport: connection.transport, buffered: connection.sink.bufferedBytes() };
    }
  });
  return () => {
    stopWatching();
    stopBrokerState();
  };
}
