// Lifecycle: ordered graceful shutdown.
export { Shutdown } from './shutdown.js';
export type { ShutdownOptions, ShutdownStep } from './shutdown.js';
