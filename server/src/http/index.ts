// HTTP edge: the Fastify app, error rendering and readiness.
export { createHttpApp } from './app.js';
export type { HttpAppOptions } from './app.js';
export { AppError, handleHttpError, renderError } from './errors.js';
export { Readiness } from './readiness.js';
export type { ReadinessCheck, ReadinessReport } from './readiness.js';
