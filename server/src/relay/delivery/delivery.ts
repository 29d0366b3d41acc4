// What every agent stream and long-poll of this node shares: the delivered marker, the open
// streams (for the heartbeat and for shutdown) and the waiting long-polls.
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../observability/index.js';
import type { RelayContext } from '../context.js';
import type { AgentStream } from './agent-stream.js';
import { DeliveredMarker } from './delivered-marker.js';
import { PING_FRAME } from './frames.js';

export interface AgentDelivery {
  readonly marker: DeliveredMarker;
  readonly streams: Set<AgentStream>;
  /** Long-polls waiting for a message; each ends its wait when called. */
  readonly waiters: Set<() => void>;
  readonly log: Logger;
}

export function createAgentDelivery(app: FastifyInstance, ctx: RelayContext): AgentDelivery {
  const log = ctx.logger.child({ part: 'delivery' });
  const delivery: AgentDelivery = {
    marker: new DeliveredMarker(ctx.db, log, ctx.now),
    streams: new Set(),
    waiters: new Set(),
    log,
  };
  // One timer for every stream: proxies close connections that stay silent.
  const ping = setInterval(() => {
    for (const stream of delivery.streams) stream.ping(PING_FRAME);
  }, ctx.config.REALTIME_PING_INTERVAL_SECONDS * 1000);
  ping.unref();

  // Streams never finish on their own and a long-poll may wait 30 s: end both before Fastify
  // waits for requests in flight. A cleanly ended stream makes the plugin reconnect at once.
  app.addHook('preClose', (done) => {
    clearInterval(ping);
    for (const stream of [...delivery.streams]) stream.close('going_away_reconnect');
    for (const wake of [...delivery.waiters]) wake();
    done();
  });
  // The database is still open here; marks gathered in the last milliseconds are written.
  app.addHook('onClose', async () => {
    clearInterval(ping);
    await delivery.marker.flush();
  });
  return delivery;
}
