// The channel a search result was found in: enough to label and link it.
import type { ChannelRow } from '../../policies/channel-access.js';

export interface SearchChannelView {
  id: string;
  workspaceId: string;
  /** public | private | dm | group_dm */
  kind: string;
  /** Null for DMs. */
  name: string | null;
}

export const presentSearchChannel = (row: ChannelRow): SearchChannelView => ({
  id: row.id,
  workspaceId: row.workspaceId,
  kind: row.kind,
  name: row.name,
});
