export { createMemoryRateLimiter, type RateLimiter, type RateLimitResult } from './rate-limiter.js';
export { createRedisRateLimiter } from './redis-rate-limiter.js';
export { rateLimitHeaders } from './headers.js';
