// Broker: the cross-node pub/sub port and its implementations.
export { BrokerUnavailableError } from './broker.js';
export type {
  Broker,
  BrokerState,
  Delivery,
  HistoryEntry,
  HistoryOptions,
  HistoryPage,
} from './broker.js';
export { createMemoryBroker } from './memory-broker.js';
export type { MemoryBrokerOptions } from './memory-broker.js';
