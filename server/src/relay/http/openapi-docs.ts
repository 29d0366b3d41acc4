// The relay's entries in the OpenAPI document (served at /api/docs): the Kakao webhook, the agent
// API, the admin console API and the portal API, one per route, keyed by method and path as
// registered, with the zod schemas the routes parse their input with.
import { z } from 'zod';
import type { RouteDoc, RouteDocs } from '../../http/openapi.js';
import { createAccountBody, listAccountsQuery, patchAccountBody } from '../admin/account-routes.js';
import { adminLoginBody } from '../admin/admin-auth.js';
import { listMappingsQuery } from '../admin/mapping-routes.js';
import { inboundQuery, outboundQuery } from '../admin/message-routes.js';
import { listPluginSessionsQuery } from '../admin/plugin-session-routes.js';
import { listUsersQuery, patchUserBody } from '../admin/user-routes.js';
import { LONG_POLL_PATH, longPollQuery, MAX_WAIT_SECONDS } from '../delivery/long-poll-route.js';
import { skillPayloadSchema } from '../kakao/skill-payload.js';
import { ackInput, generateCodeInput, replyInput, unpairInput } from '../openclaw/schemas.js';
import { generatePairingCodeBody, messagesQuery } from '../portal/account-routes.js';
import { accessCodeBody, portalLoginBody, signupBody } from '../portal/auth-routes.js';
import { cursorPageQuery, offsetPageQuery } from './pages.js';

type Doc = Omit<RouteDoc, 'tag' | 'auth'> & Partial<Pick<RouteDoc, 'auth'>>;

const group = (tag: string, auth: RouteDoc['auth'], docs: Record<string, Doc>): RouteDocs =>
  Object.fromEntries(Object.entries(docs).map(([key, doc]) => [key, { auth, ...doc, tag }]));

const WEBHOOK: Doc = {
  summary: 'Kakao i Open Builder skill webhook: one user utterance',
  description:
    'The body is read as raw bytes whatever its content type (the signature is computed over them) and parsed as a SkillPayload; only the routing fields are checked, the rest reaches the agent as sent. A missing or wrong secret or signature is 401 and an unreadable payload 400; after that the answer is always 200 with a SkillResponse within KAKAO_WEBHOOK_DEADLINE_MS: `{ version: "2.0", useCallback: true }` when the message was queued for the paired agent (which answers on the callback URL), otherwise a `simpleText` (a command’s answer, not connected, callback not enabled, or the error text when handling failed or ran out of time).',
  body: skillPayloadSchema,
};

const WEBHOOK_WITH_SECRET: Doc = {
  ...WEBHOOK,
  summary: 'The skill webhook with the secret as the last path segment',
  description: `Registered only while KAKAO_WEBHOOK_SECRET is set, for skill URLs that cannot carry a header. ${WEBHOOK.description ?? ''}`,
};

const REPLY: Doc = {
  summary: 'Answer a Kakao message with a SkillResponse, through its callback',
  description:
    'Posts the SkillResponse to the single-use Kakao callback URL of one of the account’s messages and answers `{ success, deliveredAt, outboundMessageId }`. Of several replies to one message exactly one is sent: the others get 409 `callback_used`; a message without a callback, or whose callback expired, is 410 (`callback_missing`, `callback_expired`); another account’s message is 404. Kakao refusing the reply, or not answering, is 502 `callback_failed` (when Kakao never answered, the callback may be tried again).',
  body: replyInput,
};

const ACK: Doc = {
  summary: 'Mark some of the account’s messages as handled',
  description:
    'Only the caller’s messages that are still queued or delivered change; `acknowledged` counts them, `requested` counts the ids sent.',
  body: ackInput,
};

const ADMIN_CURSOR =
  'Newest first, by keyset: pass the `nextCursor` of one page as `cursor` for the next (null on the last page).';

export const relayRouteDocs: RouteDocs = {
  ...group('relay: kakao', 'kakaoWebhook', {
    'POST /kakao-talkchannel/webhook': WEBHOOK,
    'POST /kakao-talkchannel/webhook/:secret': WEBHOOK_WITH_SECRET,
    'POST /kakao/webhook': { ...WEBHOOK, summary: `${WEBHOOK.summary} (older path)` },
    'POST /kakao/webhook/:secret': {
      ...WEBHOOK_WITH_SECRET,
      summary: `${WEBHOOK_WITH_SECRET.summary} (older path)`,
    },
  }),

  ...group('relay: agent', 'agentToken', {
    'GET /v1/events': {
      summary: 'The agent’s event stream (server-sent events)',
      description:
        'A plugin session still waiting for its Kakao user gets `connected`, then `pairing_complete` or `pairing_expired` (ids prefixed `s`), after which the stream ends. An account’s stream (the relay token, or a paired session’s token) first sends the messages still queued, then `connected`, then live `message` events (id: the topic seq); with `Last-Event-ID` (the header, or the `lastEventId` query parameter) it replays what came after that id instead of the queue. It ends after `pairing_expired`, or when its credential is revoked (token rotated, account disabled or deleted). Messages written to it are marked delivered; each connect counts against the account’s rate limit.',
      query: z.object({
        lastEventId: z
          .string()
          .optional()
          .describe('Resume after this event id, when the Last-Event-ID header cannot be sent'),
      }),
    },
    [`GET ${LONG_POLL_PATH}`]: {
      summary: 'Long-poll for queued messages (for agents behind proxies that cut streams)',
      description: `Claims up to \`limit\` queued messages of the account, marking them delivered, and answers \`{ messages, hasMore }\`. With \`wait\` (seconds, at most ${MAX_WAIT_SECONDS}) and nothing queued, it waits for a message to arrive before answering, empty when none came in time.`,
      query: longPollQuery,
    },
    'POST /v1/reply': REPLY,
    'POST /openclaw/reply': { ...REPLY, summary: `${REPLY.summary} (the plugin’s path)` },
    'POST /v1/messages/ack': ACK,
    'POST /openclaw/messages/ack': { ...ACK, summary: `${ACK.summary} (the plugin’s path)` },
    'POST /v1/pairing/generate': {
      summary: 'Issue a pairing code for the account, to be sent as `/pair <code>` in KakaoTalk',
      description:
        'Lives 600 s by default, at most 1800 s; an account may hold five live codes (then 429 `too_many_pairing_codes`).',
      body: generateCodeInput,
      bodyOptional: true,
    },
    'GET /v1/pairing/list': {
      summary: 'The account’s paired and blocked conversations',
    },
    'POST /v1/pairing/unpair': {
      summary: 'Unpair one of the account’s conversations (paired or blocked)',
      description:
        'A plugin session paired with it gets `pairing_expired`; a conversation of another account, or one not connected, is 404.',
      body: unpairInput,
    },
    'POST /v1/sessions/create': {
      auth: 'none',
      summary: 'Start a plugin session: a session token and a pairing code',
      description:
        'No credentials; limited per IP (10 per 5 minutes). The session token streams `GET /v1/events` at once; once a Kakao user sends `/pair <code>`, the session is bound to an account of its own and may call the other agent routes.',
    },
    'GET /v1/sessions/:token/status': {
      auth: 'none',
      summary: 'How the pairing of a plugin session is going',
      description:
        'The session token is the path parameter; limited per IP (30 per minute). `status` is `pending_pairing`, `paired`, `expired` or `disconnected`, with `pairedAt`, `kakaoUserId` and `accountId` once known; an unknown token is 404.',
    },
  }),

  ...group('relay: admin', 'adminSession', {
    'POST /admin/api/login': {
      auth: 'none',
      summary: 'Sign in to the admin console with ADMIN_PASSWORD',
      description:
        'Sets the `admin_session` and `csrf_token` cookies. Limited per IP (5 per minute); a wrong password is 401 `invalid_credentials`.',
      body: adminLoginBody,
    },
    'POST /admin/api/logout': { summary: 'Sign out: end the admin session and clear its cookies' },
    'GET /admin/api/stats': {
      summary: 'The relay at a glance: accounts, pairings, sessions, message counts',
      description: '“Today” is the UTC day, “week” the last seven days.',
    },
    'GET /admin/api/accounts': {
      summary: 'Accounts, newest first, with their paired conversation counts',
      query: listAccountsQuery,
    },
    'POST /admin/api/accounts': {
      summary: 'Create an account; the answer carries its relay token, shown only this once',
      body: createAccountBody,
      bodyOptional: true,
      status: 201,
    },
    'GET /admin/api/accounts/:id': { summary: 'One account' },
    'PATCH /admin/api/accounts/:id': {
      summary: 'Change an account’s OpenClaw user id, rate limit, or disabled state',
      description:
        'Disabling ends the account’s open streams on every node, and new calls get 403 `account_disabled`.',
      body: patchAccountBody,
      bodyOptional: true,
    },
    'DELETE /admin/api/accounts/:id': {
      summary: 'Delete an account',
      description:
        'Its conversations are unpaired first (their plugin sessions get `pairing_expired`) and its streams end.',
    },
    'POST /admin/api/accounts/:id/regenerate-token': {
      summary: 'Issue a new relay token (the old one stops working; its streams end)',
    },
    'GET /admin/api/mappings': {
      summary: 'Conversation mappings: which Kakao conversation is paired with which account',
      query: listMappingsQuery,
    },
    'DELETE /admin/api/mappings/:id': {
      summary: 'Unpair a conversation and forget its mapping',
      description:
        'A plugin session paired with it gets `pairing_expired`; the conversation’s next message starts a fresh, unpaired mapping.',
    },
    'GET /admin/api/messages/inbound': {
      summary: 'Messages from Kakao users',
      description: ADMIN_CURSOR,
      query: inboundQuery,
    },
    'GET /admin/api/messages/outbound': {
      summary: 'Replies sent (or refused) to Kakao',
      description: ADMIN_CURSOR,
      query: outboundQuery,
    },
    'GET /admin/api/dead-letters': {
      summary: 'Dead letters: replies Kakao refused, messages no agent took in time, lost events',
      description: `Failed outbound replies, expired inbound messages and relay events the outbox gave up on, in one list. ${ADMIN_CURSOR}`,
      query: cursorPageQuery,
    },
    'GET /admin/api/sessions': {
      summary: 'Plugin sessions, newest first',
      query: listPluginSessionsQuery,
    },
    'POST /admin/api/sessions/:id/disconnect': {
      summary: 'End a plugin session for good',
      description:
        'Its token stops working, its stream gets `pairing_expired` (`disconnected`), and a paired session’s conversation is unpaired. Answers the session as it now is.',
    },
    'DELETE /admin/api/sessions/:id': {
      summary: 'Disconnect a plugin session and delete it',
    },
    'GET /admin/api/users': {
      summary: 'Portal users, newest first',
      query: listUsersQuery,
    },
    'GET /admin/api/users/:id': { summary: 'One portal user' },
    'PATCH /admin/api/users/:id': {
      summary: 'Change a portal user’s email or password',
      description: 'A new password signs the user out everywhere; a taken email is 409.',
      body: patchUserBody,
      bodyOptional: true,
    },
    'DELETE /admin/api/users/:id': {
      summary: 'Delete a portal user and their sessions (the account stays)',
    },
  }),

  ...group('relay: portal', 'portalSession', {
    'POST /portal/api/signup': {
      auth: 'none',
      summary: 'Sign up: a portal user with an account of their own, signed in',
      description:
        'Sets the `portal_session` and `csrf_token` cookies; the answer carries the new account’s relay token, shown only this once. Limited per IP (10 per hour); a taken email is 409.',
      body: signupBody,
      status: 201,
    },
    'POST /portal/api/login': {
      auth: 'none',
      summary: 'Sign in with email and password',
      description:
        'Sets the `portal_session` and `csrf_token` cookies. Limited per IP (20 per minute) and per email (5 per minute).',
      body: portalLoginBody,
    },
    'POST /portal/api/auth/code': {
      auth: 'none',
      summary: 'Sign in with a `/code` access code: a read-only view of one conversation',
      description:
        'The code a Kakao user got from `/code` works once, until it expires; it opens a 30-minute access-code session. Limited per IP (5 per minute).',
      body: accessCodeBody,
    },
    'POST /portal/api/logout': { summary: 'Sign out (either kind of session)' },
    'GET /portal/api/me': { summary: 'The signed-in owner' },
    'GET /portal/api/stats': { summary: 'The owner’s account at a glance' },
    'POST /portal/api/pairing/generate': {
      summary: 'Issue a pairing code for the owner’s account',
      description:
        'Lives 600 s by default, at most 1800 s; five live codes at most (then 429 `too_many_pairing_codes`); a disabled account is 403.',
      body: generatePairingCodeBody,
      bodyOptional: true,
    },
    'GET /portal/api/connections': {
      summary: 'The account’s paired and blocked conversations',
      query: offsetPageQuery,
    },
    'POST /portal/api/connections/:conversationKey/unpair': {
      summary: 'Unpair one of the account’s conversations',
    },
    'PATCH /portal/api/connections/:conversationKey/block': {
      summary: 'Block a paired conversation, or unblock a blocked one',
      description:
        'A blocked conversation’s messages no longer reach the agent; the plugin is not told and its session stays.',
    },
    'GET /portal/api/token': {
      summary: 'When the relay token was issued (the token itself is shown only when made)',
    },
    'POST /portal/api/token/regenerate': {
      summary: 'Issue a new relay token (the old one stops working; its streams end)',
    },
    'GET /portal/api/messages': {
      summary: 'The account’s inbound or outbound messages, newest first',
      description:
        'By keyset: pass `nextCursor` as `cursor` for the next page; `hasMore` says whether there is one.',
      query: messagesQuery,
    },
    'GET /portal/api/code/stats': {
      summary: 'The access-code session’s conversation at a glance',
    },
    'GET /portal/api/code/messages': {
      summary: 'The access-code session’s conversation: inbound or outbound messages',
      description:
        'By keyset: pass `nextCursor` as `cursor` for the next page; `hasMore` says whether there is one.',
      query: messagesQuery,
    },
  }),
};
