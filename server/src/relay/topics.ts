// Relay topics on the realtime core. Both are durable (outbox-sequenced, resumable from
// PostgreSQL): an agent's stream is bound to its account's topic, or to its session's topic
// while a plugin-created session waits to be paired.

export const RELAY_TOPIC_PREFIX = 'relay.';
export const ACCOUNT_TOPIC_PREFIX = 'relay.account.';
export const SESSION_TOPIC_PREFIX = 'relay.session.';

export const accountTopic = (accountId: string): string => `${ACCOUNT_TOPIC_PREFIX}${accountId}`;
export const sessionTopic = (sessionId: string): string => `${SESSION_TOPIC_PREFIX}${sessionId}`;
