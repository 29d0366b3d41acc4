// Reads configuration once: environment > .env > config/<NODE_ENV>.yaml > config/default.yaml.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { parse as parseYaml } from 'yaml';
import {
  configKeys,
  configSchema,
  generatedSecretKeys,
  type Config,
  type ConfigKey,
  type GeneratedSecretKey,
  type KeySpec,
} from './keys.js';

/** Thrown when configuration is invalid: one line per bad key, saying what is wrong and expected. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Directory `.env` is read from; defaults to process.cwd(). */
  cwd?: string;
  /** Overrides applied above every source (e.g. CLI flags). */
  overrides?: Partial<Record<ConfigKey, unknown>>;
  /**
   * Outside production, missing generated secrets are read from (or created in) DATA_DIR.
   * `readOnly` reports them without creating the file (for `config check`).
   */
  secrets?: 'persist' | 'readOnly';
}

export interface LoadedConfig {
  config: Config;
  /** Where each key's value came from: a source name, `default`, or `generated`. */
  sources: Record<ConfigKey, string>;
  /** Secrets created during this load (so the caller can tell the operator once). */
  generatedNow: GeneratedSecretKey[];
}

const knownKeys = new Set(Object.keys(configKeys));

function readYamlLayer(path: string, problems: string[]): Record<string, unknown> {
  if (!existsSync(path)) return {};
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    problems.push(`${path}: not valid YAML (${(err as Error).message.split('\n')[0]})`);
    return {};
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    problems.push(`${path}: expected a mapping of KEY: value pairs`);
    return {};
  }
  for (const key of Object.keys(parsed)) {
    if (!knownKeys.has(key)) {
      problems.push(
        `${key}: unknown key in ${path}; expected one of the keys in docs/operations.md`,
      );
    }
  }
  return parsed as Record<string, unknown>;
}

function readDotenv(path: string): Record<string, string> {
  return existsSync(path) ? parseDotenv(readFileSync(path)) : {};
}

function describeValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Loads, merges and validates configuration; throws ConfigError listing every bad key. */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const problems: string[] = [];

  const dotenvPath = join(cwd, '.env');
  const dotenv = readDotenv(dotenvPath);
  // NODE_ENV and CONFIG_DIR choose the YAML files, so they come from the environment or .env only.
  const nodeEnv = env.NODE_ENV ?? dotenv.NODE_ENV ?? 'development';
  const configDir = resolve(cwd, env.CONFIG_DIR ?? dotenv.CONFIG_DIR ?? './config');
  const defaultPath = join(configDir, 'default.yaml');
  const envPath = join(configDir, `${nodeEnv}.yaml`);

  const layers: Array<[string, Record<string, unknown>]> = [
    [defaultPath, readYamlLayer(defaultPath, problems)],
    [envPath, readYamlLayer(envPath, problems)],
    ['.env', dotenv],
    ['environment', env],
    ['command line', options.overrides ?? {}],
  ];

  const raw: Record<string, unknown> = {};
  const sources = {} as Record<ConfigKey, string>;
  for (const key of knownKeys as Set<ConfigKey>) {
    sources[key] = 'default';
    for (const [name, layer] of layers) {
      const value = layer[key];
      if (value !== undefined) {
        raw[key] = value;
        sources[key] = name;
      }
    }
  }

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const seen = new Set<string>();
    for (const issue of result.error.issues) {
      const key = String(issue.path[0] ?? '');
      if (seen.has(key)) continue;
      seen.add(key);
      const spec = configKeys[key as ConfigKey] as KeySpec | undefined;
      const got = raw[key];
      const shown = spec?.secret ? '(hidden)' : `"${describeValue(got)}"`;
      problems.push(
        `${key}: expected ${spec?.expected ?? 'a valid value'}; got ${shown} from ${sources[key as ConfigKey]}`,
      );
    }
  }
  if (!result.success || problems.length > 0) throw new ConfigError(problems);

  const parsed = result.data;
  const generatedNow: GeneratedSecretKey[] = [];
  const secrets: Partial<Record<GeneratedSecretKey, string>> = {};
  const missing = generatedSecretKeys.filter((k) => parsed[k] === undefined);

  if (missing.length > 0) {
    if (parsed.NODE_ENV === 'production') {
      throw new ConfigError(
        missing.map(
          (k) =>
            `${k}: required in production; expected ${(configKeys[k] as KeySpec).expected} (set it in the environment or a secret store)`,
        ),
      );
    }
    const stored = readStoredSecrets(resolve(cwd, parsed.DATA_DIR));
    for (const key of missing) {
      const value = stored[key];
      if (value) {
        secrets[key] = value;
        sources[key] = 'data directory';
      } else {
        secrets[key] = generateSecret(key);
        sources[key] = 'generated';
        generatedNow.push(key);
      }
    }
    if (generatedNow.length > 0 && options.secrets !== 'readOnly') {
      writeStoredSecrets(resolve(cwd, parsed.DATA_DIR), { ...stored, ...secrets });
    }
  }

  if (parsed.NODE_ENV === 'production' && parsed.JWT_PUBLIC_KEY === 'dev-placeholder') {
    throw new ConfigError([
      'JWT_PUBLIC_KEY: dev-placeholder (dev mode: tokens are user ids) is refused in production; expected a PEM public key, or unset it',
    ]);
  }

  if (parsed.NODE_ENV === 'production' && parsed.RELAY_CALLBACK_INSECURE_HOSTS?.length) {
    throw new ConfigError([
      'RELAY_CALLBACK_INSECURE_HOSTS: extra callback hosts are for test doubles and are refused in production; unset it',
    ]);
  }

  const instanceId =
    parsed.INSTANCE_ID ?? `${hostname().slice(0, 40)}-${randomBytes(3).toString('hex')}`;

  const config = {
    ...parsed,
    ...secrets,
    DATA_DIR: resolve(cwd, parsed.DATA_DIR),
    CONFIG_DIR: configDir,
    INSTANCE_ID: instanceId,
  } as Config;
  return { config, sources, generatedNow };
}

const secretsFile = (dataDir: string) => join(dataDir, 'secrets.json');

function readStoredSecrets(dataDir: string): Record<string, string> {
  const path = secretsFile(dataDir);
  if (!existsSync(path)) return {};
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, string>) : {};
  } catch {
    throw new ConfigError([
      `${path}: not valid JSON; fix it or delete it to generate new secrets (sessions will be signed out)`,
    ]);
  }
}

function writeStoredSecrets(dataDir: string, secrets: Record<string, string>): void {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(secretsFile(dataDir), `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
}

function generateSecret(key: GeneratedSecretKey): string {
  // Passwords are typed by people, so they are shorter; keys are 256-bit.
  return key === 'ADMIN_PASSWORD'
    ? randomBytes(12).toString('base64url')
    : randomBytes(32).toString('base64url');
}

/** The effective configuration as printable lines, secrets masked. */
export function describeConfig(loaded: LoadedConfig): string[] {
  const lines: string[] = [];
  for (const key of Object.keys(configKeys) as ConfigKey[]) {
    const spec = configKeys[key] as KeySpec;
    const value = (loaded.config as Record<string, unknown>)[key];
    let shown: string;
    if (value === undefined) shown = '(unset)';
    else if (spec.secret) shown = maskSecret(key, stringify(value));
    else shown = Array.isArray(value) ? value.join(',') : stringify(value);
    lines.push(`${key}=${shown}  # ${loaded.sources[key]}`);
  }
  return lines;
}

function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function maskSecret(key: string, value: string): string {
  if (key.endsWith('_URL')) {
    // Show where it points, never the password.
    try {
      const url = new URL(value);
      if (url.password) url.password = '****';
      return url.toString();
    } catch {
      return '****';
    }
  }
  return '****';
}
