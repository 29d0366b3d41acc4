// Switchboard TypeScript SDK for browsers and Node.js.
export { PROTOCOL_VERSION } from '@switchboard/protocol';
