/** The wire protocol version; bumped on any incompatible change to frames or close codes. */
export const PROTOCOL_VERSION = 1;
