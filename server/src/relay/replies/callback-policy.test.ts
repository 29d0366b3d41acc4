import { describe, expect, it } from 'vitest';
import { isAllowedCallbackUrl } from './callback-policy.js';

describe('isAllowedCallbackUrl', () => {
  const strict = {};
  it.each([
    ['https://bot-api.kakao.com/v1/callback/abc', true],
    ['https://x.kakaocdn.net/cb', true],
    ['https://a.b.kakaoenterprise.com/cb', true],
    ['http://bot-api.kakao.com/cb', false],
    ['https://kakao.com.evil.example/cb', false],
    ['https://evil-kakao.com/cb', false],
    ['https://bot-api.kakao.com:8443/cb', false],
    ['https://user:pw@bot-api.kakao.com/cb', false],
    ['https://127.0.0.1/cb', false],
    ['not a url', false],
  ])('%s → %s', (url, allowed) => {
    expect(isAllowedCallbackUrl(strict, url)).toBe(allowed);
  });

  it('allows listed test hosts over http, by name or name:port', () => {
    expect(isAllowedCallbackUrl({ insecureHosts: ['127.0.0.1'] }, 'http://127.0.0.1:4567/cb')).toBe(
      true,
    );
    expect(
      isAllowedCallbackUrl({ insecureHosts: ['127.0.0.1:4567'] }, 'http://127.0.0.1:4567/cb'),
    ).toBe(true);
    expect(
      isAllowedCallbackUrl({ insecureHosts: ['127.0.0.1:4567'] }, 'http://127.0.0.1:9999/cb'),
    ).toBe(false);
    expect(isAllowedCallbackUrl({ insecureHosts: ['127.0.0.1'] }, 'ftp://127.0.0.1/cb')).toBe(
      false,
    );
  });
});
