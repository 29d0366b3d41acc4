// What the publish commands need from the realtime hub, and the broker failure they translate.
import { BrokerUnavailableError } from '../../broker/index.js';
import { AppError } from '../../http/index.js';
import type { Hub } from '../../realtime/index.js';

export type Publisher = Pick<Hub, 'publish' | 'push' | 'broadcast'>;

/** Runs a hub call, turning an unreachable broker into the catalogue's 503. */
export async function viaBroker<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof BrokerUnavailableError) {
      throw new AppError('broker_unavailable', undefined, undefined, { 'retry-after': '2' });
    }
    throw err;
  }
}
