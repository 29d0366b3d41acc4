// Message search over the channels the caller can read (their channels and DMs, and the public
// channels of their workspaces), never deleted messages.
//
// A word or phrase matches a message when the full-text document has it (`simple` config, so
// any language, plus camelCase pieces), or, for terms trigrams can serve (3+ characters or any
// non-ASCII), when the body contains it as a substring: that finds CJK text without spaces,
// pieces of identifiers and URLs. Results are ranked by text rank × recency and paged by
// (score, id), with scores computed against the instant of the first page so pages never
// shift under the reader.
import { and, desc, eq, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { isUuid } from '../../ids.js';
import type { MessageView } from '../../messages/presenters/message.js';
import { viewMessages } from '../../messages/queries.js';
import {
  channelMembers,
  channels,
  messageSearchDocument,
  messages,
  reactions,
  users,
  workspaceMembers,
} from '../../schema.js';
import { presentSearchChannel, type SearchChannelView } from '../presenters/search-result.js';
import {
  hasCriteria,
  parseSearchQuery,
  type HasFilter,
  type ParsedQuery,
} from '../query-syntax.js';
import { searchCursor, searchQuery, type SearchInput } from '../schemas.js';
import {
  buildSnippet,
  HEADLINE_OPTIONS,
  MARK_END,
  MARK_START,
  SNIPPET_WHOLE_BODY_CHARS,
} from '../snippet.js';

export interface SearchResultView {
  message: MessageView;
  channel: SearchChannelView;
  /** Plain text, HTML-escaped, with <mark>…</mark> around the matches. */
  snippet: string;
  score: number;
}

export interface SearchPage {
  items: SearchResultView[];
  nextCursor: string | null;
}

/** Ages count in units of this: a month-old message scores half of the same one today. */
const RECENCY_HALF_LIFE_SECONDS = 30 * 86_400;
/** What a substring match adds to the full-text rank (ts_rank of one word is ~0.06). */
const SUBSTRING_MATCH_BONUS = 0.05;

const escapeLike = (term: string) => term.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Trigrams need three characters; CJK words are often shorter, so any non-ASCII term uses them. */
const substringSearchable = (term: string) =>
  term.length >= 3 || [...term].some((char) => char.charCodeAt(0) > 0x7f);

const document = messageSearchDocument(messages.body);
const termQuery = (term: string) => sql`phraseto_tsquery('simple', ${term})`;

function termMatches(term: string): SQL {
  const words = sql`${document} @@ ${termQuery(term)}`;
  if (!substringSearchable(term)) return words;
  return sql`(${words} or ${messages.body} ilike ${`%${escapeLike(term)}%`})`;
}

/** Channels the caller can read, as a subquery of ids (the rule of policies/channel-access). */
function readableChannels(userId: string, query: ParsedQuery, workspaceId?: string) {
  const conditions: (SQL | undefined)[] = [
    sql`${channels.deletedAt} is null`,
    or(
      sql`exists (select 1 from ${channelMembers} where ${channelMembers.channelId} = ${channels.id} and ${channelMembers.userId} = ${userId})`,
      and(
        eq(channels.kind, 'public'),
        sql`exists (select 1 from ${workspaceMembers} where ${workspaceMembers.workspaceId} = ${channels.workspaceId} and ${workspaceMembers.userId} = ${userId})`,
      ),
    ),
  ];
  if (workspaceId) conditions.push(eq(channels.workspaceId, workspaceId));
  if (query.in.length > 0) {
    const ids = query.in.filter(isUuid);
    conditions.push(
      or(
        inArray(sql`lower(${channels.name})`, query.in),
        ids.length > 0 ? inArray(channels.id, ids) : undefined,
      ),
    );
  }
  return conditions;
}

const HAS_CONDITIONS: Record<HasFilter, () => SQL> = {
  link: () => sql`${messages.body} ~* '(https?://|www[.])[^[:space:]]'`,
  pin: () => sql`${messages.pinnedAt} is not null`,
  thread: () => sql`(${messages.replyCount} > 0 or ${messages.threadRootId} is not null)`,
  reaction: () =>
    sql`exists (select 1 from ${reactions} where ${reactions.messageId} = ${messages.id})`,
  mention: () =>
    sql`(cardinality(${messages.mentionUserIds}) > 0 or ${messages.mentionsChannel} or ${messages.mentionsHere})`,
};

function textRank(terms: readonly string[]): SQL {
  if (terms.length === 0) return sql`1.0::float8`;
  const anyTerm = sql.join(terms.map(termQuery), sql` || `);
  const substringBonus = terms
    .filter(substringSearchable)
    .map(
      (term) =>
        sql` + case when ${messages.body} ilike ${`%${escapeLike(term)}%`} then ${SUBSTRING_MATCH_BONUS}::float8 else 0 end`,
    );
  return sql`(ts_rank(${document}, ${anyTerm}, 1)::float8${sql.join(substringBonus)})`;
}

export async function searchMessages(
  ctx: ChatContext,
  userId: string,
  input: SearchInput,
): Promise<SearchPage> {
  const { q, limit, cursor: rawCursor, workspaceId } = searchQuery.parse(input);
  const query = parseSearchQuery(q);
  if (!hasCriteria(query)) {
    throw new AppError('invalid_request', 'q: give words to look for or a filter');
  }
  const cursor = rawCursor ? decodeSearchCursor(rawCursor) : undefined;
  const asOf = new Date(cursor?.asOf ?? ctx.now());
  const age = sql`greatest(0, extract(epoch from (${asOf.toISOString()}::timestamptz - ${messages.createdAt})))`;
  const score = sql<number>`(${textRank(query.terms)} / (1.0 + ${age}::float8 / ${RECENCY_HALF_LIFE_SECONDS}))`;

  const readable = ctx.db
    .select({ id: channels.id })
    .from(channels)
    .where(and(...readableChannels(userId, query, workspaceId)));
  const conditions: (SQL | undefined)[] = [
    inArray(messages.channelId, readable),
    sql`${messages.deletedAt} is null`,
    ...query.terms.map(termMatches),
    ...query.excluded.map((term) => sql`not ${termMatches(term)}`),
    ...query.has.map((what) => HAS_CONDITIONS[what]()),
  ];
  if (query.from.length > 0) {
    const ids = query.from.filter(isUuid);
    const byName = ctx.db
      .select({ id: users.id })
      .from(users)
      .where(inArray(users.username, query.from));
    conditions.push(
      or(
        inArray(messages.authorId, byName),
        ids.length > 0 ? inArray(messages.authorId, ids) : undefined,
      ),
    );
  }
  if (query.before) conditions.push(lt(messages.createdAt, query.before));
  if (query.after) conditions.push(sql`${messages.createdAt} >= ${query.after.toISOString()}`);
  if (cursor) {
    conditions.push(
      or(
        sql`${score} < ${cursor.score}::float8`,
        and(sql`${score} = ${cursor.score}::float8`, lt(messages.id, cursor.id)),
      ),
    );
  }

  const rows = await ctx.db
    .select({ message: messages, channel: channels, score })
    .from(messages)
    .innerJoin(channels, eq(channels.id, messages.channelId))
    .where(and(...conditions))
    .orderBy(desc(score), desc(messages.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);

  const [views, headlines] = await Promise.all([
    viewMessages(
      ctx.db,
      page.map((row) => row.message),
      userId,
    ),
    headlinesOf(
      ctx,
      page
        .filter((row) => row.message.body.length > SNIPPET_WHOLE_BODY_CHARS)
        .map((row) => row.message.id),
      query.terms,
    ),
  ]);
  const items = page.map((row, i) => ({
    message: views[i]!,
    channel: presentSearchChannel(row.channel),
    snippet: buildSnippet(row.message.body, query.terms, headlines.get(row.message.id)),
    score: Number(row.score),
  }));
  const last = page[page.length - 1];
  return {
    items,
    nextCursor:
      rows.length > limit && last
        ? encodeSearchCursor({
            score: Number(last.score),
            id: last.message.id,
            asOf: asOf.getTime(),
          })
        : null,
  };
}

/** ts_headline of long bodies: the fragments around the full-text matches, marked. */
async function headlinesOf(
  ctx: ChatContext,
  messageIds: string[],
  terms: readonly string[],
): Promise<Map<string, string>> {
  const headlines = new Map<string, string>();
  if (messageIds.length === 0 || terms.length === 0) return headlines;
  const anyTerm = sql.join(terms.map(termQuery), sql` || `);
  const rows = await ctx.db
    .select({
      id: messages.id,
      headline: sql<string>`ts_headline('simple', translate(${messages.body}, ${MARK_START + MARK_END}, ''), ${anyTerm}, ${HEADLINE_OPTIONS})`,
    })
    .from(messages)
    .where(inArray(messages.id, messageIds));
  for (const row of rows) headlines.set(row.id, row.headline);
  return headlines;
}

function encodeSearchCursor(value: { score: number; id: string; asOf: number }): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeSearchCursor(cursor: string) {
  try {
    return searchCursor.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new AppError('invalid_request', 'cursor: not a cursor this search returned');
  }
}
