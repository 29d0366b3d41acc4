// POST /api/v1/auth/register | login | refresh | logout.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ChatContext } from '../../context.js';
import { login } from '../commands/login.js';
import { logout } from '../commands/logout.js';
import { refresh } from '../commands/refresh.js';
import { register } from '../commands/register.js';
import type { ClientInfo } from '../commands/sessions.js';
import { refreshInput } from '../schemas.js';

export const clientOf = (request: FastifyRequest): ClientInfo => ({
  ip: request.ip,
  userAgent: request.headers['user-agent'],
});

export function registerAuthRoutes(app: FastifyInstance, ctx: ChatContext): void {
  app.post('/api/v1/auth/register', async (request, reply) => {
    reply.code(201);
    return register(ctx, request.body as never, clientOf(request));
  });

  app.post('/api/v1/auth/login', async (request) =>
    login(ctx, request.body as never, clientOf(request)),
  );

  app.post('/api/v1/auth/refresh', async (request) =>
    refresh(ctx, refreshInput.parse(request.body).refreshToken, clientOf(request)),
  );

  app.post('/api/v1/auth/logout', async (request, reply) => {
    await logout(ctx, refreshInput.parse(request.body).refreshToken);
    return reply.code(204).send();
  });
}
