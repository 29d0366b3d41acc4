// Switchboard wire protocol: types, error catalogue and close codes shared by server and clients.
export * from './errors.js';
export * from './close-codes.js';
export * from './version.js';
