import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../context.js';

export function registerAdminRoutes(app: FastifyInstance, ctx: RelayContext): void {
  void app;
  void ctx;
}
