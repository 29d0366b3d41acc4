import { createMemoryPresenceStore } from './presence-store-memory.js';
import { describePresenceStoreContract } from './presence-store.contract.js';

describePresenceStoreContract('memory', () =>
  Promise.resolve({ store: createMemoryPresenceStore(), cleanup: () => Promise.resolve() }),
);
