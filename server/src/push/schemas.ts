// Request bodies of the publish API, shared by HTTP and gRPC so both refuse the same input with
// the same messages.
import { eventSchema, topicSchema } from '@switchboard/protocol';
import { z } from 'zod';

/** Most users one push may name. */
export const MAX_PUSH_USERS = 10_000;
export const MAX_USER_ID_LENGTH = 200;

/** Fields of the event frame itself; an event carrying them would garble what clients receive. */
const reservedEventFields = ['op', 'topic', 'seq'] as const;

export const publishedEventSchema = eventSchema.superRefine((event, ctx) => {
  for (const field of reservedEventFields) {
    if (Object.hasOwn(event, field)) {
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `\`${field}\` is reserved for the event frame; rename the field`,
      });
    }
  }
});
export type PublishedEvent = z.infer<typeof publishedEventSchema>;

export const userIdSchema = z
  .string()
  .min(1)
  .max(MAX_USER_ID_LENGTH)
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'a user id cannot contain control characters');

export const publishRequest = z.object({ topic: topicSchema, event: publishedEventSchema });
export type PublishRequest = z.infer<typeof publishRequest>;

export const pushRequest = z.object({
  userIds: z.array(userIdSchema).min(1).max(MAX_PUSH_USERS),
  event: publishedEventSchema,
});
export type PushRequest = z.infer<typeof pushRequest>;

export const broadcastRequest = z.object({ event: publishedEventSchema });
export type BroadcastRequest = z.infer<typeof broadcastRequest>;

/** Bytes a push's user id list may add to a body on top of the configured body limit. */
export const PUSH_USER_IDS_ALLOWANCE = MAX_PUSH_USERS * (MAX_USER_ID_LENGTH + 3);
