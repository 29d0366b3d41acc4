// Requests of the outbox admin surfaces, shared by the HTTP routes and the CLI so both refuse the
// same input with the same messages, and the dead-letter page both return.
import { z } from 'zod';
import type { DeadLetter } from '../outbox-queries.js';

export const DEAD_LETTER_PAGE_DEFAULT = 50;
export const DEAD_LETTER_PAGE_MAX = 500;
/** Most ids one redrive may name; `all` has no limit. */
export const REDRIVE_MAX_IDS = 1000;

const limitMessage = `expected an integer from 1 to ${DEAD_LETTER_PAGE_MAX}`;
const cursorMessage = 'expected a dead letter id (a non-negative integer, as nextCursor gives it)';

/** A query-string integer: digits only, so `1e3`, `0x10` and `-1` are refused, not coerced. */
const integerText = (message: string) =>
  z
    .string()
    .regex(/^\d{1,15}$/, message)
    .transform(Number);

export const deadLettersQuery = z.strictObject({
  after: integerText(cursorMessage).optional(),
  limit: integerText(limitMessage)
    .pipe(z.number().min(1, limitMessage).max(DEAD_LETTER_PAGE_MAX, limitMessage))
    .optional(),
});

export const outboxIdSchema = z.number().int().positive();

export const redriveRequest = z
  .strictObject({
    ids: z
      .array(outboxIdSchema)
      .min(1, 'list at least one dead letter id, or send `all: true`')
      .max(REDRIVE_MAX_IDS, `list at most ${REDRIVE_MAX_IDS} ids; send \`all: true\` for more`)
      .optional(),
    all: z.literal(true, 'expected true (redrive every dead letter)').optional(),
  })
  .refine((body) => (body.ids === undefined) !== (body.all === undefined), {
    message: 'send either `ids` (dead letter ids) or `all: true`, exactly one of them',
  });
export type RedriveRequest = z.infer<typeof redriveRequest>;

export interface DeadLetterPage {
  readonly items: DeadLetter[];
  /** Pass as `after` for the next page; null when this page is the last. */
  readonly nextCursor: string | null;
}

/** Reads one page of dead letters, one row more than asked, to know whether another follows. */
export async function readDeadLetterPage(
  read: (afterId: number, limit: number) => Promise<DeadLetter[]>,
  afterId: number,
  limit: number,
): Promise<DeadLetterPage> {
  const rows = await read(afterId, limit + 1);
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? String(last.id) : null };
}
