// Shared bits for auth-deps.test.ts: the app layer's exports, and a rate limiter on an app so the
// document shows the 429 every route may answer.
import { MemoryLimiter, rateLimit } from '../../../lib/app/auth/index.js';
import type { App } from '../../../lib/app/index.js';
export { createApp, Type } from '../../../lib/app/index.js';

export function rateLimitDocTest(app: App): void {
  app.use(rateLimit({ limiter: new MemoryLimiter({ kind: 'fixed-window', limit: 1000, windowMs: 60_000 }) }));
}
