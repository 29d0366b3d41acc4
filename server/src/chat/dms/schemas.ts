// Request bodies and queries of the DM routes.
import { z } from 'zod';
import { pageQuery } from '../workspaces/pagination.js';

/** A group DM holds at most 8 people, the opener included. */
export const MAX_DM_MEMBERS = 8;

export const openDmInput = z.object({
  workspaceId: z.uuid(),
  userIds: z
    .array(z.uuid())
    .min(1)
    .max(MAX_DM_MEMBERS - 1),
});

export const listDmsQuery = pageQuery.extend({ workspaceId: z.uuid() });

export const dmParams = z.object({ id: z.string().min(1).max(64) });
