// Configuration: one schema-validated object, parsed once at start-up and passed down.
export { ConfigError, describeConfig, loadConfig } from './load.js';
export type { LoadConfigOptions, LoadedConfig } from './load.js';
export { configKeys, roleNames, rolesSchema, secretKeys } from './keys.js';
export type { Config, ConfigKey, Role } from './keys.js';
