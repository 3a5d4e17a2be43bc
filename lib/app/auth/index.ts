/**
 * `covet/app/auth`: JWT, passwords, sessions, CSRF, RBAC, rate limiting, API keys, OAuth2/OIDC client.
 * @module
 */
export * from './jwt.js';
