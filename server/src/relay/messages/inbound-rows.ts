// An inbound message as its readers see it: the row that tracks its life joined to its body,
// which is kept in a table of its own (see `inboundMessageBodies`).
import { eq, getTableColumns } from 'drizzle-orm';
import type { Database } from '../../store/index.js';
import { inboundMessageBodies, inboundMessages } from '../schema.js';

export type InboundRow = typeof inboundMessages.$inferSelect &
  Pick<typeof inboundMessageBodies.$inferSelect, 'kakaoPayload' | 'normalizedMessage'>;

/** Select these from `inboundMessages` joined with `inboundMessageBodies` on `bodyOfMessage`. */
export const inboundRowColumns = {
  ...getTableColumns(inboundMessages),
  kakaoPayload: inboundMessageBodies.kakaoPayload,
  normalizedMessage: inboundMessageBodies.normalizedMessage,
};

export const bodyOfMessage = eq(inboundMessageBodies.messageId, inboundMessages.id);

/** Messages with their bodies: add the `where` and the order. */
export function selectInboundRows(db: Database) {
  return db
    .select(inboundRowColumns)
    .from(inboundMessages)
    .innerJoin(inboundMessageBodies, bodyOfMessage);
}
