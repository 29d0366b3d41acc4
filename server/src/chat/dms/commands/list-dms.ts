// The caller's DMs in a workspace, most recently active first.
import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { ChatContext } from '../../context.js';
import { requireWorkspaceRole } from '../../policies/channel-access.js';
import { channels } from '../../schema.js';
import { decodeCursor, pageOf, type Page } from '../../workspaces/pagination.js';
import type { DmView } from '../presenters/dm.js';
import { listDmsQuery } from '../schemas.js';
import { dmActivity, readDms } from './dm-queries.js';

export async function listDms(
  ctx: ChatContext,
  userId: string,
  query: unknown,
): Promise<Page<DmView>> {
  const { workspaceId, cursor, limit } = listDmsQuery.parse(query);
  await requireWorkspaceRole(ctx, userId, workspaceId);
  const before = decodeCursor(cursor, z.tuple([z.string().max(64), z.uuid()]));
  const rows = await readDms(
    ctx,
    userId,
    and(
      eq(channels.workspaceId, workspaceId),
      before
        ? sql`(${dmActivity}, ${channels.id}) < (${before[0]}::timestamptz, ${before[1]}::uuid)`
        : undefined,
    ),
    limit + 1,
  );
  return pageOf(
    rows,
    limit,
    (r) => r.view,
    (r) => [r.activity, r.view.id],
  );
}
