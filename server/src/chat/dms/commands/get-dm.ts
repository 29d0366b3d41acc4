// One of the caller's DMs; any other channel id, or a DM they are not in, is 404.
import { eq } from 'drizzle-orm';
import { AppError } from '../../../http/index.js';
import type { ChatContext } from '../../context.js';
import { isUuid } from '../../ids.js';
import { channels } from '../../schema.js';
import type { DmView } from '../presenters/dm.js';
import { readDms } from './dm-queries.js';

export async function getDm(ctx: ChatContext, userId: string, dmId: string): Promise<DmView> {
  if (!isUuid(dmId)) throw new AppError('not_found', 'No such DM.');
  const [found] = await readDms(ctx, userId, eq(channels.id, dmId), 1);
  if (!found) throw new AppError('not_found', 'No such DM.');
  return found.view;
}
