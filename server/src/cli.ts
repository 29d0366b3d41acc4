// The `switchboard` command: serve, migrate, config check, apikey, outbox, seed-demo.
import { Command, InvalidArgumentError } from 'commander';
import {
  ConfigError,
  describeConfig,
  loadConfig,
  rolesSchema,
  type LoadedConfig,
  type Role,
} from './config/index.js';
import { createShutdown, openStoreWithRetry, startServer, type RunningServer } from './main.js';
import { createLogger } from './observability/index.js';
import {
  DEAD_LETTER_PAGE_DEFAULT,
  DEAD_LETTER_PAGE_MAX,
  listDeadLetters,
  readDeadLetterPage,
  readStats,
  redriveDeadLetters,
} from './pipeline/index.js';
import {
  apiKeyScopes,
  createApiKey,
  isApiKeyReference,
  listApiKeys,
  revokeApiKey,
  type ApiKeyScope,
  type ApiKeyView,
} from './push/index.js';
import { runMigrations, type Store } from './store/index.js';

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

function parseScopes(value: string): ApiKeyScope[] {
  const scopes = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const known: readonly string[] = apiKeyScopes;
  if (scopes.length === 0 || scopes.some((s) => !known.includes(s))) {
    throw new InvalidArgumentError(`expected a comma-separated list of ${apiKeyScopes.join(', ')}`);
  }
  return scopes as ApiKeyScope[];
}

/** Opens the configured store (migrated like `serve` would), runs `work`, closes it. */
async function withStore(work: (store: Store) => Promise<void>): Promise<void> {
  const { config } = load({ secrets: 'readOnly' });
  // Output of these commands is for people and scripts: only warnings and worse get logged.
  const quiet = ['error', 'fatal', 'silent'].includes(config.LOG_LEVEL) ? config.LOG_LEVEL : 'warn';
  const logger = createLogger({ level: quiet, instanceId: config.INSTANCE_ID });
  let store: Store;
  try {
    store = await openStoreWithRetry(config, logger);
  } catch (err) {
    console.error(`Cannot open the database: ${(err as Error).message}`);
    process.exit(1);
  }
  try {
    if (config.MIGRATE_ON_START) await runMigrations(store.db, logger);
    await work(store);
  } finally {
    await store.close();
  }
}

function formatDate(date: Date | null): string {
  return date ? date.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-';
}

/** Prints rows as columns padded to their widest cell; the first row is the header. */
function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) {
    console.log(
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
  }
}

function printKeyTable(keys: ApiKeyView[]): void {
  printTable([
    ['ID', 'PREFIX', 'NAME', 'SCOPES', 'CREATED', 'LAST USED', 'REVOKED'],
    ...keys.map((k) => [
      k.id,
      k.prefix,
      k.name,
      k.scopes.join(','),
      formatDate(k.createdAt),
      formatDate(k.lastUsedAt),
      formatDate(k.revokedAt),
    ]),
  ]);
}

function parseIntegerOption(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return n;
  };
}

function parseOutboxIds(value: string, previous: number[] | undefined): number[] {
  const id = Number(value);
  if (!/^\d+$/.test(value) || id < 1 || !Number.isSafeInteger(id)) {
    throw new InvalidArgumentError('expected dead letter ids (positive integers, as listed)');
  }
  return [...(previous ?? []), id];
}

/** The first line of an error, cut to fit a table column. */
function errorSummary(error: string | null): string {
  const line = (error ?? '-').split('\n')[0]!;
  return line.length > 60 ? `${line.slice(0, 59)}…` : line;
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

const apikeyCommand = program
  .command('apikey')
  .description('manage server API keys for the publish API (HTTP and gRPC)');
apikeyCommand
  .command('create')
  .description('create an API key and print it once (only its hash is stored)')
  .requiredOption('--name <name>', 'what the key is for, e.g. "email backend"')
  .option(
    '--scopes <scopes>',
    `comma-separated scopes: ${apiKeyScopes.join(', ')} (admin implies all; default: publish,push,broadcast)`,
    parseScopes,
  )
  .option('--json', 'print the key and its details as JSON')
  .action(async (opts: { name: string; scopes?: ApiKeyScope[]; json?: boolean }) => {
    if (opts.name.trim() === '' || opts.name.length > 100) {
      console.error('--name must have 1 to 100 characters');
      process.exit(2);
    }
    await withStore(async (store) => {
      const created = await createApiKey(store.db, {
        name: opts.name,
        ...(opts.scopes ? { scopes: opts.scopes } : {}),
      });
      if (opts.json) {
        console.log(JSON.stringify(created));
        return;
      }
      console.log(
        `Created API key "${created.name}" (id ${created.id}, scopes ${created.scopes.join(',')}).`,
      );
      console.log('Store it now; it cannot be shown again:');
      console.log(created.key);
    });
  });
apikeyCommand
  .command('list')
  .description('list API keys: id, prefix, name, scopes, created, last used, revoked')
  .option('--json', 'print the list as JSON')
  .action(async (opts: { json?: boolean }) => {
    await withStore(async (store) => {
      const keys = await listApiKeys(store.db);
      if (opts.json) console.log(JSON.stringify(keys));
      else if (keys.length === 0) console.log('No API keys yet; create one with `apikey create`.');
      else printKeyTable(keys);
    });
  });
apikeyCommand
  .command('revoke')
  .description(
    'revoke an API key by id or prefix (running nodes refuse it within PUSH_API_KEY_CACHE_SECONDS)',
  )
  .argument('<key>', 'the key id (uuid) or prefix (sbk_…) as `apikey list` shows it')
  .action(async (reference: string) => {
    if (!isApiKeyReference(reference)) {
      console.error(
        `"${reference}" is not an API key id (uuid) or prefix (sbk_ and 12 hex digits)`,
      );
      process.exit(2);
    }
    await withStore(async (store) => {
      const revoked = await revokeApiKey(store.db, reference);
      if (!revoked) {
        console.error(`No API key has id or prefix ${reference}.`);
        process.exitCode = 1;
        return;
      }
      console.log(
        `Revoked API key "${revoked.name}" (id ${revoked.id}, prefix ${revoked.prefix}) at ${formatDate(revoked.revokedAt)}.`,
      );
    });
  });

const outboxCommand = program
  .command('outbox')
  .description("inspect the durable pipeline's outbox and redrive dead letters");
outboxCommand
  .command('stats')
  .description('print pending events, the age of the oldest one, and dead letters')
  .option('--json', 'print the counts as JSON')
  .action(async (opts: { json?: boolean }) => {
    await withStore(async (store) => {
      const stats = await readStats(store.db);
      if (opts.json) {
        console.log(JSON.stringify(stats));
        return;
      }
      const oldest =
        stats.pending > 0 ? ` (oldest ${stats.oldestPendingSeconds.toFixed(1)} s)` : '';
      console.log(`Pending events: ${stats.pending}${oldest}`);
      console.log(`Dead letters:   ${stats.deadLetters}`);
    });
  });
outboxCommand
  .command('dead-letters')
  .description('list dead letters oldest first: id, topic, seq, type, failed consumers, error')
  .option(
    '--after <id>',
    'list those after this id (the cursor a previous page printed)',
    parseIntegerOption(0, Number.MAX_SAFE_INTEGER),
  )
  .option(
    '--limit <n>',
    `how many to list, 1 to ${DEAD_LETTER_PAGE_MAX} (default ${DEAD_LETTER_PAGE_DEFAULT})`,
    parseIntegerOption(1, DEAD_LETTER_PAGE_MAX),
  )
  .option('--json', 'print { items, nextCursor } as the admin API does')
  .action(async (opts: { after?: number; limit?: number; json?: boolean }) => {
    const limit = opts.limit ?? DEAD_LETTER_PAGE_DEFAULT;
    await withStore(async (store) => {
      const page = await readDeadLetterPage(
        (afterId, n) => listDeadLetters(store.db, afterId, n),
        opts.after ?? 0,
        limit,
      );
      if (opts.json) {
        console.log(JSON.stringify(page));
        return;
      }
      if (page.items.length === 0) {
        console.log(opts.after ? `No dead letters after id ${opts.after}.` : 'No dead letters.');
        return;
      }
      printTable([
        ['ID', 'TOPIC', 'SEQ', 'TYPE', 'FAILED CONSUMERS', 'ATTEMPTS', 'DEAD SINCE', 'ERROR'],
        ...page.items.map((l) => [
          String(l.id),
          l.topic,
          String(l.seq),
          l.type,
          l.pending.join(','),
          String(l.retryCount),
          l.deadLetteredAt.replace(/\.\d{3}Z$/, 'Z'),
          errorSummary(l.error),
        ]),
      ]);
      if (page.nextCursor) {
        const more = opts.limit ? ` --limit ${opts.limit}` : '';
        console.log(`More: switchboard outbox dead-letters --after ${page.nextCursor}${more}`);
      }
    });
  });
outboxCommand
  .command('redrive')
  .description(
    'make dead letters due again with fresh attempts; relay workers run their failed consumers',
  )
  .argument('[ids...]', 'dead letter ids, as `outbox dead-letters` lists them', parseOutboxIds)
  .option('--all', 'redrive every dead letter')
  .action(async (ids: number[] | undefined, opts: { all?: boolean }) => {
    const chosen = [...new Set(ids ?? [])];
    if (chosen.length > 0 === Boolean(opts.all)) {
      console.error('Name the dead letter ids to redrive, or pass --all (not both).');
      process.exit(2);
    }
    await withStore(async (store) => {
      const redriven = await redriveDeadLetters(store.db, opts.all ? undefined : chosen);
      console.log(
        `Redrove ${redriven} dead letter(s); relay workers (the worker role) will run their failed consumers again.`,
      );
      if (!opts.all && redriven < chosen.length) {
        console.error(
          `${chosen.length - redriven} of the ids named are not dead letters (processed, still pending, or no such event).`,
        );
        process.exitCode = 1;
      }
    });
  });

program
  .command('seed-demo')
  .description(
    'create a demo workspace with people (known password), channels, a DM and messages; running it again adds nothing',
  )
  .option('--json', 'print the result as JSON')
  .action(async (opts: { json?: boolean }) => {
    // The chat commands run inside a server instance (outbox, realtime fan-out) that listens on
    // a free local port only while seeding.
    const { config } = load({
      overrides: { HOST: '127.0.0.1', PORT: 0, GRPC_PORT: 0, ROLES: ['api', 'worker'] },
      secrets: 'persist',
    });
    const quiet = ['error', 'fatal', 'silent'].includes(config.LOG_LEVEL)
      ? config.LOG_LEVEL
      : 'warn';
    const logger = createLogger({ level: quiet, instanceId: config.INSTANCE_ID });
    const { seedDemo } = await import('./chat/seed-demo.js');
    let server: RunningServer;
    try {
      server = await startServer({ config, logger });
    } catch (err) {
      console.error(`Cannot start: ${(err as Error).message}`);
      process.exit(1);
    }
    try {
      const demo = await seedDemo(server.chat.context);
      if (opts.json) {
        console.log(JSON.stringify(demo, null, 2));
        return;
      }
      console.log(
        `Workspace "${demo.workspace.name}" (slug ${demo.workspace.slug}, id ${demo.workspace.id})`,
      );
      console.log(`Channels: ${demo.channels.join(', ')}`);
      console.log(`Messages added now: ${demo.messagesCreated}`);
      console.log(`Sign in as any of these with the password: ${demo.password}`);
      printTable([
        ['USERNAME', 'EMAIL', 'NEW'],
        ...demo.users.map((u) => [u.username, u.email, u.created ? 'yes' : 'no']),
      ]);
    } finally {
      await server.stop('seed-demo finished');
    }
  });

await program.parseAsync(process.argv);
