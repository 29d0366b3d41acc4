// The POST of a reply to Kakao's callback URL, and what Kakao said about it. Kakao answers
// `{taskId, status: SUCCESS | FAIL | ERROR, message, timestamp}`; a 2xx with FAIL is a refusal
// (an expired token, a malformed response), so the body decides, not the HTTP status alone.

export type CallbackOutcome =
  | {
      /** Kakao answered; `accepted` when it took the reply. */
      readonly kind: 'answered';
      readonly accepted: boolean;
      readonly httpStatus: number;
      /** Kakao's `status` (SUCCESS, FAIL, ERROR), when its body had one. */
      readonly kakaoStatus: string | undefined;
      readonly message: string | undefined;
    }
  | {
      /** No answer at all (refused, reset, timed out): Kakao may never have seen it. */
      readonly kind: 'unreachable';
      readonly message: string;
    };

interface KakaoAnswer {
  status?: unknown;
  message?: unknown;
}

export async function postCallback(
  url: string,
  body: unknown,
  timeoutMs: number,
): Promise<CallbackOutcome> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await response.text();
  } catch (err) {
    const timedOut = err instanceof Error && err.name === 'TimeoutError';
    return {
      kind: 'unreachable',
      message: timedOut
        ? `Kakao did not answer within ${timeoutMs} ms`
        : `Kakao could not be reached: ${(err as Error).message}`,
    };
  }
  let answer: KakaoAnswer = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') answer = parsed;
  } catch {
    // Not JSON: the HTTP status alone decides.
  }
  const kakaoStatus = typeof answer.status === 'string' ? answer.status : undefined;
  const message = typeof answer.message === 'string' ? answer.message : undefined;
  const accepted =
    response.status >= 200 &&
    response.status < 300 &&
    (kakaoStatus === undefined || kakaoStatus === 'SUCCESS');
  return {
    kind: 'answered',
    accepted,
    httpStatus: response.status,
    kakaoStatus,
    message: message ?? (accepted ? undefined : `Kakao answered HTTP ${response.status}`),
  };
}
