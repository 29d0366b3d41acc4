// The chat API's entries in the OpenAPI document (served at /api/docs): one per route, keyed by
// method and path as registered, with the zod schemas the commands parse their input with.
import type { RouteDoc, RouteDocs } from '../../http/openapi.js';
import {
  loginInput,
  refreshInput,
  registerInput,
  statusInput,
  updateProfileInput,
} from '../accounts/schemas.js';
import {
  addMembersInput,
  createChannelInput,
  listChannelsQuery,
  updateChannelInput,
} from '../channels/schemas.js';
import { listDmsQuery, openDmInput } from '../dms/schemas.js';
import {
  channelMessagesQuery,
  editMessageInput,
  pageQuery as messagePageQuery,
  reactionInput,
  sendMessageBody,
  windowQuery,
} from '../messages/schemas.js';
import { markChannelReadInput, markThreadReadInput } from '../read-state/schemas.js';
import { searchQuery } from '../search/schemas.js';
import {
  createSessionInput,
  listSessionsQuery,
  sessionMessagesQuery,
  sessionSearchQuery,
} from '../sessions/schemas.js';
import { pageQuery } from '../workspaces/pagination.js';
import {
  acceptInviteInput,
  createInviteInput,
  createWorkspaceInput,
  updateMemberInput,
  updateWorkspaceInput,
} from '../workspaces/schemas.js';

type Doc = Omit<RouteDoc, 'tag' | 'auth'> & Partial<Pick<RouteDoc, 'auth'>>;

const group = (tag: string, docs: Record<string, Doc>): RouteDocs =>
  Object.fromEntries(
    Object.entries(docs).map(([key, doc]) => [key, { auth: 'user', ...doc, tag }]),
  );

const SEARCH_SYNTAX =
  'Free words and "quoted phrases" (all must match; case-insensitive; substrings of 3+ characters or any CJK text match inside words, identifiers and URLs), -excluded words, and filters: `in:<channel name or id>`, `from:<username, @username or id>`, `before:YYYY-MM-DD` (earlier days), `after:YYYY-MM-DD` (later days), `on:YYYY-MM-DD`, `has:link|pin|thread|reaction|mention`. Ranked by text rank × recency; snippets are HTML-escaped text with <mark>…</mark> around matches.';

export const chatRouteDocs: RouteDocs = {
  ...group('chat: accounts', {
    'POST /api/v1/auth/register': {
      auth: 'none',
      summary: 'Create an account and sign in',
      body: registerInput,
      status: 201,
    },
    'POST /api/v1/auth/login': {
      auth: 'none',
      summary: 'Sign in with email or username and password',
      description: 'Rate limited per IP; repeated wrong passwords lock the account for a while.',
      body: loginInput,
    },
    'POST /api/v1/auth/refresh': {
      auth: 'none',
      summary: 'Exchange a refresh token for new tokens (rotating; reuse revokes the sign-in)',
      body: refreshInput,
    },
    'POST /api/v1/auth/logout': {
      auth: 'none',
      summary: 'Sign out: revoke the refresh token’s sign-in',
      body: refreshInput,
      status: 204,
    },
    'GET /api/v1/users/me': { summary: 'My profile, settings and status' },
    'PATCH /api/v1/users/me': {
      summary: 'Update my profile and settings',
      body: updateProfileInput,
    },
    'GET /api/v1/users/:id': { summary: 'Someone’s profile (people I share a workspace with)' },
    'GET /api/v1/users/:id/status': { summary: 'Someone’s status message and custom status' },
    'PUT /api/v1/users/:id/status': {
      summary: 'Set my status (`me` or my id)',
      body: statusInput,
    },
    'GET /api/v1/users/:id/presence': { summary: 'Whether someone is online, and last seen' },
  }),
  ...group('chat: workspaces', {
    'POST /api/v1/workspaces': {
      summary: 'Create a workspace (with #general); I become its owner',
      body: createWorkspaceInput,
      status: 201,
    },
    'GET /api/v1/workspaces': { summary: 'My workspaces', query: pageQuery },
    'GET /api/v1/workspaces/:workspaceId': { summary: 'A workspace I belong to' },
    'PATCH /api/v1/workspaces/:workspaceId': {
      summary: 'Rename a workspace or change its slug (admins)',
      body: updateWorkspaceInput,
    },
    'PUT /api/v1/workspaces/:workspaceId': {
      summary: 'Rename a workspace or change its slug (admins; same as PATCH)',
      body: updateWorkspaceInput,
    },
    'GET /api/v1/workspaces/:workspaceId/members': {
      summary: 'Members of a workspace with their roles',
      query: pageQuery,
    },
    'PATCH /api/v1/workspaces/:workspaceId/members/:userId': {
      summary: 'Change a member’s role (admins; owners for owner changes)',
      body: updateMemberInput,
    },
    'DELETE /api/v1/workspaces/:workspaceId/members/:userId': {
      summary: 'Remove a member, or leave (my own id)',
      status: 204,
    },
    'POST /api/v1/workspaces/:workspaceId/invites': {
      summary: 'Create an invite code (admins); the code is shown once',
      body: createInviteInput,
      status: 201,
    },
    'GET /api/v1/workspaces/:workspaceId/invites': {
      summary: 'Open invites of a workspace (admins)',
      query: pageQuery,
    },
    'DELETE /api/v1/workspaces/:workspaceId/invites/:inviteId': {
      summary: 'Revoke an invite (admins)',
      status: 204,
    },
    'POST /api/v1/invites/accept': {
      summary: 'Join a workspace with an invite code',
      body: acceptInviteInput,
    },
  }),
  ...group('chat: channels', {
    'POST /api/v1/workspaces/:workspaceId/channels': {
      summary: 'Create a public or private channel',
      body: createChannelInput,
      status: 201,
    },
    'GET /api/v1/workspaces/:workspaceId/channels': {
      summary: 'Channels of a workspace I can see, with my membership and unread state',
      query: listChannelsQuery,
    },
    'GET /api/v1/channels/:channelId': {
      summary: 'A channel, with my membership and unread state',
    },
    'PATCH /api/v1/channels/:channelId': {
      summary: 'Rename a channel or change its topic or purpose (channel or workspace admins)',
      body: updateChannelInput,
    },
    'PUT /api/v1/channels/:channelId': {
      summary: 'Rename a channel or change its topic or purpose (same as PATCH)',
      body: updateChannelInput,
    },
    'DELETE /api/v1/channels/:channelId': { summary: 'Delete a channel (admins)', status: 204 },
    'POST /api/v1/channels/:channelId/archive': { summary: 'Archive a channel (admins)' },
    'POST /api/v1/channels/:channelId/unarchive': { summary: 'Unarchive a channel (admins)' },
    'POST /api/v1/channels/:channelId/join': { summary: 'Join a public channel' },
    'POST /api/v1/channels/:channelId/leave': { summary: 'Leave a channel', status: 204 },
    'GET /api/v1/channels/:channelId/members': {
      summary: 'Members of a channel',
      query: pageQuery,
    },
    'POST /api/v1/channels/:channelId/members': {
      summary: 'Add workspace members to a channel',
      body: addMembersInput,
    },
    'DELETE /api/v1/channels/:channelId/members/:userId': {
      summary: 'Remove someone from a channel (admins)',
      status: 204,
    },
  }),
  ...group('chat: direct messages', {
    'POST /api/v1/dm': {
      summary: 'Open the DM or group DM (up to 8 people) of a set of people, found or created',
      description: '201 when it was created, 200 when it already existed.',
      body: openDmInput,
      status: 201,
    },
    'GET /api/v1/dm': { summary: 'My DMs in a workspace, most recent first', query: listDmsQuery },
    'GET /api/v1/dm/:id': { summary: 'A DM of mine with its members and unread count' },
    'GET /api/v1/dm/:id/messages': {
      summary: 'A DM’s message history (a window by seq)',
      query: channelMessagesQuery,
    },
  }),
  ...group('chat: messages', {
    'POST /api/v1/channels/:channelId/messages': {
      summary: 'Send a message or a thread reply',
      description:
        'Mentions are parsed from the Markdown body. An `Idempotency-Key` header (or `clientMsgId`) makes retries return the first result.',
      body: sendMessageBody,
      status: 201,
    },
    'GET /api/v1/channels/:channelId/messages': {
      summary: 'Message history: a window before, after or around a message or seq',
      query: channelMessagesQuery,
    },
    'GET /api/v1/channels/:channelId/pins': {
      summary: 'Pinned messages of a channel',
      query: messagePageQuery,
    },
    'GET /api/v1/channels/:channelId/threads': {
      summary: 'Threads of a channel, most recently active first',
      query: messagePageQuery,
    },
    'GET /api/v1/messages/search': {
      summary: 'Search messages in the channels and DMs I can read',
      description: SEARCH_SYNTAX,
      query: searchQuery,
    },
    'GET /api/v1/messages/:id': { summary: 'One message' },
    'PATCH /api/v1/messages/:id': {
      summary: 'Edit a message (its author; admins moderate)',
      body: editMessageInput,
    },
    'PUT /api/v1/messages/:id': {
      summary: 'Edit a message (same as PATCH)',
      body: editMessageInput,
    },
    'DELETE /api/v1/messages/:id': {
      summary: 'Delete a message (tombstone: body cleared, seq kept)',
      status: 204,
    },
    'PUT /api/v1/messages/:id/pin': { summary: 'Pin a message' },
    'DELETE /api/v1/messages/:id/pin': { summary: 'Unpin a message' },
    'GET /api/v1/messages/:id/thread': {
      summary: 'A thread: its root and a window of replies',
      query: windowQuery,
    },
    'PUT /api/v1/messages/:id/follow': { summary: 'Follow a thread' },
    'DELETE /api/v1/messages/:id/follow': { summary: 'Stop following a thread' },
    'POST /api/v1/messages/:id/reactions': {
      summary: 'Add an emoji reaction',
      body: reactionInput,
    },
    'PUT /api/v1/messages/:id/reactions/:emoji': { summary: 'Add an emoji reaction (idempotent)' },
    'DELETE /api/v1/messages/:id/reactions/:emoji': { summary: 'Remove my emoji reaction' },
  }),
  ...group('chat: read state', {
    'GET /api/v1/channels/:id/read': { summary: 'My read marker and unread counts in a channel' },
    'PUT /api/v1/channels/:id/read': {
      summary: 'Move my read marker (or mark unread from a seq)',
      body: markChannelReadInput,
    },
    'GET /api/v1/channels/:id/read-receipts': {
      summary: 'Who has read how far (DMs and small channels)',
    },
    'PUT /api/v1/messages/:id/thread/read': {
      summary: 'Mark a thread read up to a seq (its newest reply by default)',
      body: markThreadReadInput,
      bodyOptional: true,
    },
  }),
  ...group('chat: sessions (seed 003 aliases)', {
    'POST /api/v1/session/create': {
      summary: 'Open a conversation with people (a DM or group DM), found or created',
      description:
        'Without `workspaceId`, the oldest workspace shared by everyone. A session is a conversation; its id is the channel id.',
      body: createSessionInput,
      status: 201,
    },
    'GET /api/v1/session/list': {
      summary: 'My conversations (channels and DMs), most recently active first, with unread state',
      query: listSessionsQuery,
    },
    'GET /api/v1/session/messages': {
      summary: 'A conversation’s history before a message or seq',
      query: sessionMessagesQuery,
    },
    'GET /api/v1/session/search': {
      summary: 'Search my conversations (optionally one session)',
      description: SEARCH_SYNTAX,
      query: sessionSearchQuery,
    },
  }),
};
