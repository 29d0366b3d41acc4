// The `switchboard` command: serve, migrate, config check.
import { Command, InvalidArgumentError } from 'commander';
import {
  ConfigError,
  describeConfig,
  loadConfig,
  rolesSchema,
  type LoadedConfig,
  type Role,
} from './config/index.js';
import { createShutdown, openStoreWithRetry, startServer } from './main.js';
import { createLogger } from './observability/index.js';
import { runMigrations } from './store/index.js';

function parseRoles(value: string): Role[] {
  const parsed = rolesSchema.safeParse(value);
  if (!parsed.success) {
    throw new InvalidArgumentError('expected a comma-separated list of api, gateway, worker');
  }
  return parsed.data;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError('expected an integer from 0 to 65535');
  }
  return port;
}

function load(overrides: Parameters<typeof loadConfig>[0] = {}): LoadedConfig {
  try {
    return loadConfig(overrides);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      console.error('Fix the keys above (see docs/operations.md), then start again.');
      process.exit(2);
    }
    throw err;
  }
}

const program = new Command()
  .name('switchboard')
  .description(
    'Switchboard: realtime messaging server (gateway, API and workers in one deployable)',
  )
  .showHelpAfterError('(run with --help for usage)');

program
  .command('serve')
  .description(
    'start the server (embedded PGlite + in-memory broker unless DATABASE_URL/REDIS_URL are set)',
  )
  .option('--roles <roles>', 'comma-separated roles to run: api, gateway, worker', parseRoles)
  .option('--port <port>', 'HTTP port (overrides PORT)', parsePort)
  .action(async (opts: { roles?: Role[]; port?: number }) => {
    const overrides: Record<string, unknown> = {};
    if (opts.roles) overrides.ROLES = opts.roles;
    if (opts.port !== undefined) overrides.PORT = opts.port;
    const loaded = load({ overrides, secrets: 'persist' });
    const { config } = loaded;
    const logger = createLogger({ level: config.LOG_LEVEL, instanceId: config.INSTANCE_ID });
    if (loaded.generatedNow.length > 0) {
      logger.warn(
        { keys: loaded.generatedNow, file: `${config.DATA_DIR}/secrets.json` },
        'generated missing secrets for embedded mode and saved them in the data directory',
      );
      if (loaded.generatedNow.includes('ADMIN_PASSWORD')) {
        // Shown once so the operator can sign in to the admin console; kept in secrets.json.
        logger.warn({ adminPassword: config.ADMIN_PASSWORD }, 'admin console password');
      }
    }
    // Signals are wired before start-up so one that arrives mid-start still shuts down cleanly.
    const shutdown = createShutdown(config, logger);
    shutdown.installSignalHandlers();
    const starting = startServer({ config, logger, shutdown });
    shutdown.waitFor(starting);
    try {
      await starting;
    } catch (err) {
      logger.fatal({ err }, 'failed to start');
      process.exit(1);
    }
  });

program
  .command('migrate')
  .description('apply pending database migrations and exit')
  .action(async () => {
    const { config } = load({ secrets: 'readOnly' });
    const logger = createLogger({ level: config.LOG_LEVEL, instanceId: config.INSTANCE_ID });
    const store = await openStoreWithRetry(config, logger);
    try {
      const result = await runMigrations(store.db, logger.child({ component: 'migrate' }));
      console.log(
        `Applied ${result.applied.length} migration(s); ${result.alreadyApplied} were already applied.`,
      );
    } finally {
      await store.close();
    }
  });

const configCommand = program.command('config').description('inspect configuration');
configCommand
  .command('check')
  .description('validate configuration and print the effective values (secrets masked)')
  .action(() => {
    const loaded = load({ secrets: 'readOnly' });
    for (const line of describeConfig(loaded)) console.log(line);
    console.log('Configuration is valid.');
  });

await program.parseAsync(process.argv);
