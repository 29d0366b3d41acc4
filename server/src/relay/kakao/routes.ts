// The Kakao skill webhook: `POST /kakao-talkchannel/webhook` and its older alias `/kakao/webhook`,
// each also under `/<KAKAO_WEBHOOK_SECRET>` when a secret is configured. The routes live in their
// own plugin scope whose body parser keeps the raw bytes, which the signature is computed over.
//
// Kakao gives up on a skill after 5 s, and a user left without an answer sees a generic failure:
// whatever goes wrong after the request was authenticated and parsed, the webhook answers 200
// with a text within KAKAO_WEBHOOK_DEADLINE_MS.
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { AppError } from '../../http/index.js';
import { jsonInputProblem } from '../../security/well-formed.js';
import { componentLogger } from '../../observability/index.js';
import type { RelayContext } from '../context.js';
import { answerWithinDeadline } from './deadline.js';
import { handleSkillPayload } from './handle-webhook.js';
import { skillPayloadSchema, conversationKeyOf } from './skill-payload.js';
import {
  checkSignature,
  checkWebhookSecret,
  SECRET_HEADER,
  SIGNATURE_HEADER,
} from './webhook-auth.js';

export const WEBHOOK_PATHS = ['/kakao-talkchannel/webhook', '/kakao/webhook'] as const;

/** When Kakao stops listening for an answer (5 s), less the answer's way back. */
const KAKAO_LISTENS_MS = 4800;

export function registerKakaoRoutes(app: FastifyInstance, ctx: RelayContext): void {
  const logger = componentLogger(ctx.logger, 'relay.kakao');
  const webhookCtx: RelayContext = { ...ctx, logger };
  const { KAKAO_WEBHOOK_SECRET: secret, KAKAO_SIGNATURE_SECRET: signatureSecret } = ctx.config;
  const limits = {
    deadlineMs: ctx.config.KAKAO_WEBHOOK_DEADLINE_MS,
    outcomeWaitMs: Math.max(0, KAKAO_LISTENS_MS - ctx.config.KAKAO_WEBHOOK_DEADLINE_MS),
  };

  // Before the body is read: an unauthenticated caller does not get to upload a megabyte.
  const authenticate: onRequestHookHandler = (request, _reply, done) => {
    const { secret: fromPath } = request.params as { secret?: string };
    try {
      checkWebhookSecret(secret, request.headers[SECRET_HEADER], fromPath);
      done();
    } catch (error) {
      done(error as Error);
    }
  };

  const receive = async (request: FastifyRequest, reply: FastifyReply) => {
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    checkSignature(signatureSecret, request.headers[SIGNATURE_HEADER], rawBody);
    const rawPayload = parseJson(rawBody);
    const payload = skillPayloadSchema.parse(rawPayload);
    const conversationKey = conversationKeyOf(payload);
    const answer = await answerWithinDeadline(
      limits,
      (mayCommit) => handleSkillPayload(webhookCtx, rawPayload, payload, mayCommit),
      (error, timedOut) =>
        logger.error(
          { err: error, conversationKey, timedOut },
          timedOut ? 'kakao webhook ran out of time' : 'kakao webhook failed',
        ),
    );
    return reply.status(200).send(answer);
  };

  void app.register((scope, _options, done) => {
    // Every body arrives as bytes: the signature needs them, and Kakao's JSON is parsed here.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
      done(null, body);
    });
    for (const path of WEBHOOK_PATHS) {
      scope.post(path, { onRequest: authenticate }, receive);
      if (secret) scope.post(`${path}/:secret`, { onRequest: authenticate }, receive);
    }
    done();
  });
}

function parseJson(rawBody: Buffer): unknown {
  if (rawBody.length === 0) throw new AppError('invalid_json', 'The request body is empty.');
  const text = rawBody.toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    throw new AppError(
      'invalid_json',
      `The request body is not valid JSON: ${(error as Error).message}`,
    );
  }
  const problem = jsonInputProblem(text, value);
  if (problem) throw new AppError('invalid_json', problem);
  // PostgreSQL stores no NUL character, and a message must not fail for one: it is dropped.
  return text.includes('\\u0000') ? withoutNul(value) : value;
}

/** `value` with every NUL character removed from its strings and keys. */
function withoutNul(value: unknown): unknown {
  if (typeof value === 'string') return value.replaceAll('\u0000', '');
  if (Array.isArray(value)) return value.map(withoutNul);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key.replaceAll('\u0000', ''), withoutNul(item)]),
    );
  }
  return value;
}
