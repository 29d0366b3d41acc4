// What the relay says to Kakao users, word for word as the original relay said it (the plugin
// and users' habits know these texts), and the two answer shapes the webhook gives Kakao.

/** A SkillResponse with one text bubble. */
export interface TextSkillResponse {
  readonly version: '2.0';
  readonly template: { readonly outputs: readonly [{ readonly simpleText: { text: string } }] };
}

export function textResponse(text: string): TextSkillResponse {
  return { version: '2.0', template: { outputs: [{ simpleText: { text } }] } };
}

/** Kakao shows the block's waiting text and expects the answer on the callback URL. */
export const CALLBACK_ACK = { version: '2.0', useCallback: true } as const;

export const NOT_CONNECTED =
  'OpenClaw에 연결되지 않았습니다.\n\n연결하려면 페어링 코드를 받은 후:\n/pair <코드>\n\n를 입력해주세요.\n\n도움말: /help';

/** Paired, but Kakao sent no usable callback URL: an answer could never be delivered. */
export const CALLBACK_NOT_ENABLED =
  '⚠️ 메시지를 전달할 수 없습니다.\n\n이 챗봇의 AI 챗봇 콜백 기능이 켜져 있지 않아 OpenClaw의 답변을 받을 수 없습니다.\n\n봇 관리자에게 콜백 기능을 켜 달라고 요청해주세요.';

export const INTERNAL_ERROR = '❌ 오류가 발생했습니다. 다시 시도해주세요.';

export const PAIR_EMPTY_CODE = '페어링 코드를 입력해주세요.\n\n예: /pair ABCD-1234';
export const PAIR_ALREADY_PAIRED =
  '이미 OpenClaw에 연결되어 있습니다.\n\n다른 봇에 연결하려면 먼저 /unpair 로 연결을 해제하세요.';
export const PAIR_SUCCESS = '✅ OpenClaw에 연결되었습니다!\n\n이제 자유롭게 대화를 시작하세요.';
export const PAIR_INVALID_CODE = '❌ 유효하지 않은 코드입니다.\n\n코드를 다시 확인해주세요.';
export const PAIR_EXPIRED_CODE = '⏰ 코드가 만료되었습니다.\n\n관리자에게 새 코드를 요청하세요.';
export const PAIR_USED_CODE = '❌ 이미 사용된 코드입니다.\n\n관리자에게 새 코드를 요청하세요.';
export const PAIR_BLOCKED =
  '🚫 이 대화는 차단되어 있어 OpenClaw에 연결할 수 없습니다.\n\n봇 관리자에게 문의하세요.';

export function pairTooManyAttempts(limit: number, windowMinutes: number, waitMinutes: number) {
  return `⏱️ 페어링 시도 한도 초과\n\n${windowMinutes}분에 최대 ${limit}회까지 페어링을 시도할 수 있습니다.\n\n${waitMinutes}분 후 다시 시도해주세요.`;
}

export const UNPAIR_NOT_PAIRED = '연결된 OpenClaw가 없습니다.';
export const UNPAIR_SUCCESS =
  '연결이 해제되었습니다.\n\n다시 연결하려면 /pair <코드>를 사용하세요.';
export const UNPAIR_FAILED = '연결 해제에 실패했습니다. 다시 시도해주세요.';

export const STATUS_NOT_PAIRED = '❌ 연결되지 않음\n\n/pair <코드>로 연결하세요.';
export const UNKNOWN_TIME = '알 수 없음';

export interface ConversationStats {
  readonly inboundToday: number;
  readonly outboundToday: number;
  readonly failedToday: number;
  readonly inboundTotal: number;
  readonly outboundTotal: number;
}

export function statusPaired(stats: ConversationStats, pairedAt: string): string {
  return (
    '✅ 연결됨\n\n' +
    `📊 오늘 통계\n• 수신: ${stats.inboundToday}건\n• 발신: ${stats.outboundToday}건 (실패 ${stats.failedToday})\n\n` +
    `📈 전체 통계\n• 총 수신: ${stats.inboundTotal}건\n• 총 발신: ${stats.outboundTotal}건\n\n` +
    `연결 시간: ${pairedAt}`
  );
}

export const HELP =
  '📖 도움말\n\n이 봇은 OpenClaw AI 에이전트와 연결하는 중계 서비스입니다.\n\n명령어:\n• /pair <코드> - OpenClaw에 연결\n• /unpair - 연결 해제\n• /status - 연결 상태 확인\n• /code - 포털 접속 코드 발급\n• /help - 이 도움말';

export const CODE_NOT_PAIRED =
  '포털 접속 코드는 연결된 대화에서만 발급할 수 있습니다.\n\n먼저 /pair <코드>로 연결하세요.';

export function codeTooMany(limit: number, windowMinutes: number, waitMinutes: number): string {
  return `⏱️ 코드 생성 한도 초과\n\n${windowMinutes}분에 최대 ${limit}회까지 코드를 생성할 수 있습니다.\n\n${waitMinutes}분 후 다시 시도해주세요.`;
}

export function codeIssued(code: string, validMinutes: number, portalBaseUrl?: string): string {
  const text = `🔑 포털 접속 코드\n\n코드: ${code}\n유효시간: ${validMinutes}분\n\n이 코드로 포털에서 대화 내역과 통계를 확인할 수 있습니다.`;
  if (!portalBaseUrl) return text;
  return `${text}\n\n포털 주소:\n${portalBaseUrl.replace(/\/+$/, '')}/portal/code`;
}
