// The Kakao skill webhook: `POST /kakao-talkchannel/webhook` and its older alias `/kakao/webhook`,
// each also under `/<KAKAO_WEBHOOK_SECRET>` when a secret is configured. The routes live in their
// own plugin scope whose body parser keeps the raw bytes, which the signature is computed over.
//
// Kakao gives up on a skill after 5 s, and a user left without an answer sees a generic failure:
// whatever goes wrong after the request was authenticated and parsed, the webhook answers 200
// with a text within KAKAO_WEBHOOK_DEADLINE_MS.
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { AppError } from '../../http/index.js';
import { componentLogger } from '../../observability/index.js';
import type { RelayContext } from '../context.js';
import { EnqueueAbandonedError } from '../messages/enqueue.js';
import { handleSkillPayload, type WebhookAnswer } from './handle-webhook.js';
import { INTERNAL_ERROR, textResponse } from './replies.js';
import { skillPayloadSchema, conversationKeyOf } from './skill-payload.js';
import {
  checkSignature,
  checkWebhookSecret,
  SECRET_HEADER,
  SIGNATURE_HEADER,
} from './webhook-auth.js';

export const WEBHOOK_PATHS = ['/kakao-talkchannel/webhook', '/kakao/webhook'] as const;

export function registerKakaoRoutes(app: FastifyInstance, ctx: RelayContext): void {
  const logger = componentLogger(ctx.logger, 'relay.kakao');
  const { KAKAO_WEBHOOK_SECRET: secret, KAKAO_SIGNATURE_SECRET: signatureSecret } = ctx.config;

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
      ctx.config.KAKAO_WEBHOOK_DEADLINE_MS,
      (signal) => handleSkillPayload({ ...ctx, logger }, rawPayload, payload, signal),
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
  try {
    return JSON.parse(rawBody.toString('utf8')) as unknown;
  } catch (error) {
    throw new AppError(
      'invalid_json',
      `The request body is not valid JSON: ${(error as Error).message}`,
    );
  }
}

/**
 * The handler's answer, or the error text when it fails or is still running at the deadline (it
 * is then told to give up through `signal`, so it does not queue a message after the fact).
 */
async function answerWithinDeadline(
  deadlineMs: number,
  work: (signal: AbortSignal) => Promise<WebhookAnswer>,
  report: (error: unknown, timedOut: boolean) => void,
): Promise<WebhookAnswer> {
  const abandon = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), deadlineMs);
  });
  const running = work(abandon.signal);
  try {
    const outcome = await Promise.race([running, deadline]);
    if (outcome !== 'timeout') return outcome;
    abandon.abort();
    report(new Error(`no answer after ${deadlineMs} ms`), true);
    // What the work does later is logged, not answered.
    running.catch((error: unknown) => {
      if (!(error instanceof EnqueueAbandonedError)) report(error, false);
    });
    return textResponse(INTERNAL_ERROR);
  } catch (error) {
    report(error, false);
    return textResponse(INTERNAL_ERROR);
  } finally {
    clearTimeout(timer);
  }
}
