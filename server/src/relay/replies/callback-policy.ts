// Where a reply may be posted: Kakao's callback hosts only (an unchecked callback URL would let
// anyone who can reach the webhook make the relay POST to internal addresses). Test doubles are
// allowed by name through RELAY_CALLBACK_INSECURE_HOSTS, which production refuses.

const KAKAO_HOST_SUFFIXES = ['.kakao.com', '.kakaocdn.net', '.kakaoenterprise.com'];

export interface CallbackPolicy {
  /** Extra allowed hosts (`host` or `host:port`), over http or https. */
  readonly insecureHosts?: readonly string[] | undefined;
}

/** True when the relay may POST a reply to `url`. */
export function isAllowedCallbackUrl(policy: CallbackPolicy, url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.username || parsed.password) return false;
  const host = parsed.hostname.toLowerCase();
  const extra = policy.insecureHosts ?? [];
  if (
    (parsed.protocol === 'http:' || parsed.protocol === 'https:') &&
    (extra.includes(host) || extra.includes(parsed.host.toLowerCase()))
  ) {
    return true;
  }
  if (parsed.protocol !== 'https:' || (parsed.port !== '' && parsed.port !== '443')) return false;
  // A suffix on a dot boundary: `evil-kakao.com` is not `kakao.com`.
  return KAKAO_HOST_SUFFIXES.some((suffix) => host.endsWith(suffix) && host.length > suffix.length);
}
