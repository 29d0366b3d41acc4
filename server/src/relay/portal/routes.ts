import type { FastifyInstance } from 'fastify';
import type { RelayContext } from '../context.js';

export function registerPortalRoutes(app: FastifyInstance, ctx: RelayContext): void {
  void app;
  void ctx;
}
