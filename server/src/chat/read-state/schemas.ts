// Inputs of the read-state routes and the `read` op.
import { z } from 'zod';

const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const channelParams = z.object({ id: z.string().min(1).max(64) });
export const messageParams = z.object({ id: z.string().min(1).max(64) });

/** `seq`: the newest message read; with `unread: true`, the first message to show unread. */
export const markChannelReadInput = z.object({ seq, unread: z.boolean().optional() });
export type MarkChannelReadInput = z.infer<typeof markChannelReadInput>;

/** `seq`: the newest reply read; the thread's newest reply when omitted. */
export const markThreadReadInput = z.object({ seq: seq.optional() }).default({});
export type MarkThreadReadInput = z.infer<typeof markThreadReadInput>;
