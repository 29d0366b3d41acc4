// Who may call the webhook. Open Builder can add static headers to a skill call but cannot sign
// its body, so the realistic guard is a shared secret in a header or in the URL; the body HMAC
// is kept for proxies that compute it. Each check applies only when its secret is configured.
import { createHmac } from 'node:crypto';
import { AppError } from '../../http/index.js';
import { safeEqual } from '../tokens.js';

export const SECRET_HEADER = 'x-relay-secret';
export const SIGNATURE_HEADER = 'x-kakao-signature';

/** The static secret, from the header or the path segment (either one suffices). */
export function checkWebhookSecret(
  secret: string | undefined,
  fromHeader: string | string[] | undefined,
  fromPath: string | undefined,
): void {
  if (!secret) return;
  const candidates = [fromPath, ...(Array.isArray(fromHeader) ? fromHeader : [fromHeader])];
  const given = candidates.filter((value): value is string => typeof value === 'string');
  if (given.length === 0) throw new AppError('unauthorized', 'Missing webhook secret');
  // Every candidate is compared, so the time taken does not tell which one was close.
  let matched = false;
  for (const value of given) matched = safeEqual(value, secret) || matched;
  if (!matched) throw new AppError('unauthorized', 'Invalid webhook secret');
}

/** `X-Kakao-Signature`: lower-hex HMAC-SHA256 of the raw body, optionally `sha256=`-prefixed. */
export function checkSignature(
  secret: string | undefined,
  header: string | string[] | undefined,
  rawBody: Buffer,
): void {
  if (!secret) return;
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) throw new AppError('unauthorized', 'Missing signature');
  const given = value
    .trim()
    .replace(/^sha256=/i, '')
    .toLowerCase();
  const expected = createHmac('sha256', secret).update(rawBody).digest('hex');
  if (!safeEqual(given, expected)) throw new AppError('unauthorized', 'Invalid signature');
}

/** What a proxy (or a test) sends as `X-Kakao-Signature` for `body`. */
export function signBody(secret: string, body: string | Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}
