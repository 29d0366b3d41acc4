import { describeRateLimiterContract } from './rate-limiter.contract.js';
import { createMemoryRateLimiter } from './rate-limiter.js';

describeRateLimiterContract('memory', (now) => Promise.resolve(createMemoryRateLimiter(now)));
