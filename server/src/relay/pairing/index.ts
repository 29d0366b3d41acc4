export {
  codeLifetimeSeconds,
  createSession,
  DEFAULT_CODE_SECONDS,
  endSessionsOf,
  expirePendingSessions,
  issuePairingCode,
  MAX_ACTIVE_CODES,
  MAX_CODE_SECONDS,
  pairConversation,
  unpairConversation,
} from './pairing.js';
export type {
  ConversationRef,
  CreatedSession,
  IssuedCode,
  PairOutcome,
  UnpairOutcome,
} from './pairing.js';
