import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../test-support/services.js';
import { ConfigError, describeConfig, loadConfig } from './load.js';

describe('loadConfig', () => {
  let dir: { path: string; remove(): void };
  beforeEach(() => {
    dir = makeTempDir('sb-config-');
    mkdirSync(join(dir.path, 'config'));
  });
  afterEach(() => dir.remove());

  const write = (file: string, text: string) => writeFileSync(join(dir.path, file), text);
  const load = (env: NodeJS.ProcessEnv = {}, overrides = {}) =>
    loadConfig({ env, cwd: dir.path, overrides, secrets: 'persist' });

  it('uses documented defaults with no sources at all', () => {
    const { config, sources } = load();
    expect(config.PORT).toBe(8080);
    expect(config.NODE_ENV).toBe('development');
    expect(config.ROLES).toEqual(['api', 'gateway', 'worker']);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.DATA_DIR).toBe(join(dir.path, 'data'));
    expect(sources.PORT).toBe('default');
  });

  it('applies precedence: environment > .env > config/<env>.yaml > config/default.yaml', () => {
    write(
      'config/default.yaml',
      'PORT: 1001\nLOG_LEVEL: warn\nHOST: 127.0.0.2\nBODY_LIMIT_BYTES: 4096\n',
    );
    write('config/test.yaml', 'PORT: 1002\nLOG_LEVEL: error\nHOST: 127.0.0.3\n');
    write('.env', 'NODE_ENV=test\nPORT=1003\nLOG_LEVEL=debug\n');
    const { config, sources } = load({ PORT: '1004' });
    expect(config.PORT).toBe(1004);
    expect(sources.PORT).toBe('environment');
    expect(config.LOG_LEVEL).toBe('debug');
    expect(sources.LOG_LEVEL).toBe('.env');
    expect(config.HOST).toBe('127.0.0.3');
    expect(sources.HOST).toContain('test.yaml');
    expect(config.BODY_LIMIT_BYTES).toBe(4096);
    expect(sources.BODY_LIMIT_BYTES).toContain('default.yaml');
  });

  it('lets command-line overrides win over everything', () => {
    const { config } = load({ PORT: '1004', ROLES: 'api' }, { PORT: 2000, ROLES: ['worker'] });
    expect(config.PORT).toBe(2000);
    expect(config.ROLES).toEqual(['worker']);
  });

  it('parses roles, booleans and URLs', () => {
    const { config } = load({
      ROLES: 'api, gateway',
      MIGRATE_ON_START: 'false',
      TRUST_PROXY: 'yes',
      DATABASE_URL: 'postgres://u:p@db:5432/app',
      REDIS_URL: 'redis://cache:6379',
    });
    expect(config.ROLES).toEqual(['api', 'gateway']);
    expect(config.MIGRATE_ON_START).toBe(false);
    expect(config.TRUST_PROXY).toBe(true);
    expect(config.DATABASE_URL).toBe('postgres://u:p@db:5432/app');
  });

  it('treats empty strings as unset for optional keys', () => {
    const { config } = load({ DATABASE_URL: '', REDIS_URL: '  ' });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
  });

  it('reports every bad key on its own line with what was expected and where it came from', () => {
    write('config/default.yaml', 'LOG_LEVEL: loud\n');
    let error: unknown;
    try {
      load({
        PORT: 'abc',
        ROLES: 'api,cook',
        DATABASE_URL: 'mysql://x',
        SHUTDOWN_TIMEOUT_SECONDS: '99',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(5);
    expect(problems).toContain(
      'PORT: expected an integer from 0 to 65535 (0 picks a free port); got "abc" from environment',
    );
    expect(problems.find((p) => p.startsWith('ROLES:'))).toContain(
      'expected a comma-separated list of api, gateway, worker',
    );
    expect(problems.find((p) => p.startsWith('LOG_LEVEL:'))).toMatch(
      /got "loud" from .*default\.yaml/,
    );
    // URLs can carry passwords: never echoed.
    expect(problems.find((p) => p.startsWith('DATABASE_URL:'))).toContain('(hidden)');
    expect(problems.find((p) => p.startsWith('SHUTDOWN_TIMEOUT_SECONDS:'))).toContain('1 to 29');
  });

  it('rejects unknown keys and invalid YAML in config files', () => {
    write('config/default.yaml', 'PROT: 8080\n');
    expect(() => load()).toThrow(/PROT: unknown key/);
    write('config/default.yaml', 'PORT: [unclosed\n');
    expect(() => load()).toThrow(/not valid YAML/);
  });

  it('generates missing secrets once outside production and keeps them in the data directory', () => {
    const first = load();
    expect(first.generatedNow).toEqual([
      'JWT_SECRET',
      'ADMIN_PASSWORD',
      'ADMIN_SESSION_SECRET',
      'PORTAL_SESSION_SECRET',
    ]);
    expect(first.config.JWT_SECRET.length).toBeGreaterThanOrEqual(32);
    const file = join(dir.path, 'data', 'secrets.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = load();
    expect(second.generatedNow).toEqual([]);
    expect(second.config.JWT_SECRET).toBe(first.config.JWT_SECRET);
    expect(second.sources.JWT_SECRET).toBe('data directory');
    // A secret given explicitly wins and is not written to the file.
    const explicit = load({ JWT_SECRET: 'x'.repeat(40) });
    expect(explicit.config.JWT_SECRET).toBe('x'.repeat(40));
    expect(JSON.parse(readFileSync(file, 'utf8')).JWT_SECRET).toBe(first.config.JWT_SECRET);
  });

  it('does not write secrets in read-only mode', () => {
    const loaded = loadConfig({ env: {}, cwd: dir.path, secrets: 'readOnly' });
    expect(loaded.generatedNow.length).toBe(4);
    expect(existsSync(join(dir.path, 'data', 'secrets.json'))).toBe(false);
  });

  it('requires every generated secret in production', () => {
    expect(() => load({ NODE_ENV: 'production', JWT_SECRET: 'y'.repeat(32) })).toThrow(ConfigError);
    try {
      load({ NODE_ENV: 'production', JWT_SECRET: 'y'.repeat(32) });
    } catch (err) {
      const problems = (err as ConfigError).problems;
      expect(problems).toEqual([
        expect.stringMatching(/^ADMIN_PASSWORD: required in production; expected at least 8/),
        expect.stringMatching(/^ADMIN_SESSION_SECRET: required in production/),
        expect.stringMatching(/^PORTAL_SESSION_SECRET: required in production/),
      ]);
    }
    expect(existsSync(join(dir.path, 'data'))).toBe(false);
  });

  it('describes the effective config with secrets masked and URL passwords hidden', () => {
    const loaded = load({
      DATABASE_URL: 'postgres://user:hunter2@db/app',
      ADMIN_PASSWORD: 'hunter22',
    });
    const text = describeConfig(loaded).join('\n');
    expect(text).toContain('PORT=8080  # default');
    expect(text).toContain('DATABASE_URL=postgres://user:****@db/app  # environment');
    expect(text).toContain('ADMIN_PASSWORD=****  # environment');
    expect(text).not.toContain('hunter2');
    expect(text).toContain('JWT_SECRET=****  # generated');
  });
});
