/**
 * `covet/app/auth`: JWT, refresh tokens, passwords, sessions, CSRF, RBAC, rate limiting, API keys and an
 * OAuth2/OIDC client. Each is usable on its own and as app middleware.
 * @module
 */
export * from './jwt.js';
export * from './refresh.js';
export * from './passwords.js';
export * from './rate-limit.js';
export * from './rbac.js';
export * from './session.js';
export * from './csrf.js';
export * from './api-keys.js';
export * from './oidc.js';
export * from './auth-deps.js';
export * from './totp.js';
export * from './step-up.js';
export * from './passkeys.js';
export * from './mailer.js';
export * from './account-tokens.js';
export * from './recovery.js';
export * from './social.js';
