import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrationsFolder, rowsOf, runMigrations } from '../store/migrate.js';
import { makeTestStore, target, testLogger, type TestStore } from '../test-support/services.js';

interface JournalEntry {
  readonly tag: string;
}

/** A copy of the committed migrations up to and including `lastTag`. */
function migrationsUpTo(lastTag: string): string {
  const folder = mkdtempSync(join(tmpdir(), 'sb-mig-'));
  const journal = JSON.parse(
    readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8'),
  ) as { entries: JournalEntry[] };
  const last = journal.entries.findIndex((e) => e.tag === lastTag);
  if (last < 0) throw new Error(`no migration ${lastTag}`);
  const entries = journal.entries.slice(0, last + 1);
  mkdirSync(join(folder, 'meta'));
  writeFileSync(join(folder, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries }));
  for (const entry of entries) {
    copyFileSync(join(migrationsFolder, `${entry.tag}.sql`), join(folder, `${entry.tag}.sql`));
  }
  return folder;
}

describe(`the inbound message bodies' migration (${target})`, () => {
  let ts: TestStore;
  let folder: string;
  beforeEach(async () => {
    ts = await makeTestStore({ migrate: false });
    folder = migrationsUpTo('0013_outbox_work');
  });
  afterEach(async () => {
    rmSync(folder, { recursive: true, force: true });
    await ts.cleanup();
  });

  it('moves every stored message’s payload to its body', async () => {
    const db = ts.store.db;
    await runMigrations(db, testLogger, folder);
    await db.execute(sql`
      with account as (
        insert into relay.accounts (relay_token_hash) values ('hash') returning id
      )
      insert into relay.inbound_messages (account_id, conversation_key, kakao_payload,
        normalized_message, status, event_seq)
      select account.id, 'bot-1:user-' || n,
        jsonb_build_object('userRequest', jsonb_build_object('utterance', '안녕 ' || n)),
        jsonb_build_object('text', '안녕 ' || n), 'delivered', n
      from account, generate_series(1, 3) n`);

    const applied = await runMigrations(db, testLogger);
    expect(applied.applied.length).toBeGreaterThan(0);

    const bodies = rowsOf<{ conversation_key: string; utterance: string; text: string }>(
      await db.execute(sql`
        select m.conversation_key, b.kakao_payload #>> '{userRequest,utterance}' as utterance,
          b.normalized_message ->> 'text' as text
        from relay.inbound_messages m
        join relay.inbound_message_bodies b on b.message_id = m.id
        order by m.event_seq`),
    );
    expect(bodies).toEqual(
      [1, 2, 3].map((n) => ({
        conversation_key: `bot-1:user-${n}`,
        utterance: `안녕 ${n}`,
        text: `안녕 ${n}`,
      })),
    );
    const columns = rowsOf<{ column_name: string }>(
      await db.execute(sql`
        select column_name from information_schema.columns
        where table_schema = 'relay' and table_name = 'inbound_messages'
          and column_name in ('kakao_payload', 'normalized_message')`),
    );
    expect(columns).toEqual([]);

    // A message's body goes with it.
    await db.execute(sql`delete from relay.accounts`);
    const left = rowsOf<{ n: number }>(
      await db.execute(sql`select count(*)::int as n from relay.inbound_message_bodies`),
    );
    expect(left[0]?.n).toBe(0);
  });
});
