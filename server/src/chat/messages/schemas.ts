// Inputs of the message routes and commands.
import { z } from 'zod';

export const MESSAGE_BODY_MAX = 40_000;
export const PAGE_DEFAULT = 50;
export const PAGE_MAX = 200;

/** Markdown source, stored exactly as sent; a body of only whitespace says nothing. */
export const messageBody = z
  .string()
  .min(1)
  .max(MESSAGE_BODY_MAX)
  .refine((body) => body.trim().length > 0, 'must not be blank');

export const uuidString = z.string().regex(/^[0-9a-f-]{36}$/i, 'a UUID');

/** A path id: anything else than a known id is simply not found. */
export const idParam = z.string().min(1).max(64);

/** The body of `POST /channels/:channelId/messages`. */
export const sendMessageBody = z
  .object({
    body: messageBody,
    threadRootId: uuidString.nullish(),
    /** The sender's own id for the message: a retry with the same one finds the first. */
    clientMsgId: z.string().min(1).max(64).nullish(),
  })
  .strict();

export const sendMessageInput = sendMessageBody.extend({ channelId: idParam });
export type SendMessageInput = z.input<typeof sendMessageInput>;

export const editMessageInput = z.object({ body: messageBody }).strict();
export type EditMessageInput = z.input<typeof editMessageInput>;

// A `:short_code:` (custom emoji included) or one Unicode emoji: an RGI sequence (skin tones,
// ZWJ families, flags, keycaps) or a single pictograph with or without its emoji selector.
const shortCode = /^:[a-z0-9_+'-]{1,62}:$/i;
// Built at run time: the `v` flag is newer than the compile target's lib.
const unicodeEmoji = new RegExp(
  '^(?:\\p{RGI_Emoji}|\\p{Extended_Pictographic}\\uFE0F?|\\p{Emoji_Presentation})$',
  'v',
);

export const isEmoji = (value: string): boolean =>
  value.length <= 64 && (shortCode.test(value) || unicodeEmoji.test(value));

export const emojiSchema = z
  .string()
  .min(1)
  .max(64)
  .refine(isEmoji, 'a Unicode emoji or a :short_code:');

export const reactionInput = z.object({ emoji: emojiSchema }).strict();

/** Position arguments of a message window; at most one of before, after, around. */
export const windowQuery = z
  .object({
    before: z.string().min(1).max(200).optional(),
    after: z.string().min(1).max(200).optional(),
    /** A message id or a seq: the page holds it (or the next seq after it) and its neighbours. */
    around: z.string().min(1).max(200).optional(),
    limit: z.coerce.number().int().min(1).max(PAGE_MAX).default(PAGE_DEFAULT),
  })
  .refine(
    (q) => [q.before, q.after, q.around].filter((v) => v !== undefined).length <= 1,
    'give at most one of before, after and around',
  );

export const channelMessagesQuery = windowQuery.and(
  z.object({
    /** `roots` (the default) lists root messages; `all` includes thread replies. */
    thread: z.enum(['roots', 'all']).default('roots'),
  }),
);
export type ChannelMessagesQuery = z.input<typeof channelMessagesQuery>;
export type WindowQuery = z.input<typeof windowQuery>;

export const pageQuery = z.object({
  cursor: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(PAGE_MAX).default(PAGE_DEFAULT),
});
export type PageQuery = z.input<typeof pageQuery>;

export const idempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .regex(
      /^[A-Za-z0-9._:-]{1,128}$/,
      '1–128 letters, digits, dots, dashes, colons or underscores',
    ),
});
