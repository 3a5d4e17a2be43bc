/**
 * The OWASP secure-headers set, each configurable (a string replaces the value, `false` leaves the header
 * out). Set before the handler runs, so every response carries them.
 */
import type { Middleware } from '../route.js';

export type SecurityHeaderOptions = Partial<Record<keyof typeof DEFAULTS, string | false>>;

const DEFAULTS = {
  'content-security-policy': "default-src 'self'; base-uri 'self'; frame-ancestors 'none'; object-src 'none'",
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  'x-dns-prefetch-control': 'off',
  'x-permitted-cross-domain-policies': 'none',
};

/**
 * @example
 * ```ts
 * app.use(securityHeaders({ 'content-security-policy': "default-src 'self' cdn.example.com" }));
 * ```
 */
export function securityHeaders(options: SecurityHeaderOptions = {}): Middleware {
  const pairs: Array<[string, string]> = [];
  for (const [k, v] of Object.entries({ ...DEFAULTS, ...options })) if (v !== false) pairs.push([k, v]);
  return async (ctx, next) => {
    for (const [k, v] of pairs) ctx.res.setHeader(k, v);
    await next();
  };
}
