// Switchboard wire protocol: frames, SSE framing, error catalogue and close codes shared by the
// server and every client.
export * from './errors.js';
export * from './close-codes.js';
export * from './frames.js';
export * from './sse.js';
export * from './version.js';
