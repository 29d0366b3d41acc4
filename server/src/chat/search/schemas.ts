// Inputs of message search.
import { z } from 'zod';

export const SEARCH_QUERY_MAX = 500;
export const SEARCH_PAGE_DEFAULT = 20;
export const SEARCH_PAGE_MAX = 100;

/** `GET /api/v1/messages/search?q=&limit=&cursor=&workspaceId=` */
export const searchQuery = z.object({
  q: z.string().trim().min(1).max(SEARCH_QUERY_MAX),
  limit: z.coerce.number().int().min(1).max(SEARCH_PAGE_MAX).default(SEARCH_PAGE_DEFAULT),
  cursor: z.string().min(1).max(512).optional(),
  /** Only this workspace's channels. */
  workspaceId: z.uuid().optional(),
});

export type SearchInput = z.input<typeof searchQuery>;

/** What a search cursor carries: the last item's score and id, and the instant ages count from. */
export const searchCursor = z.object({
  score: z.number(),
  id: z.uuid(),
  asOf: z.number().int().nonnegative(),
});
