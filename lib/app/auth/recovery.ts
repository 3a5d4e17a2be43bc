/**
 * Account recovery and email verification: a password reset mailed as a single-use link (30 minutes), the
 * reset ending the account's sessions and refresh tokens (`onPasswordReset`), and an address verified by a
 * link (24 hours). Asking for a reset answers the same, as fast, for an unknown address as for a known one:
 * the lookup is the only awaited work; the token and the mail are made after the answer. Requests are
 * limited per address and per client IP (429 with Retry-After, the same whether the address exists).
 */
import type { Limiter } from './rate-limit.js';
import { HttpError } from '../errors.js';
import { issueAccountToken, redeemAccountToken, type AccountTokenStore } from './account-tokens.js';
import type { Mailer } from './mailer.js';
import { hashPassword, type PasswordPolicy } from './passwords.js';

/** Your users table, as account recovery needs it. */
export interface AccountDirectory {
  /** The account of an address (compare case-insensitively), or null. */
  findByEmail(email: string): Promise<{ id: string; email: string } | null> | { id: string; email: string } | null;
  setPasswordHash(userId: string, hash: string): Promise<void> | void;
  markEmailVerified(userId: string, email: string): Promise<void> | void;
}

export interface AccountRecoveryOptions {
  accounts: AccountDirectory;
  tokens: AccountTokenStore;
  mailer: Mailer;
  /** The links mails carry, from a token (the page that takes it). */
  links: { resetPassword: (token: string) => string; verifyEmail: (token: string) => string };
  /** Named in the mails. Default "your account". */
  appName?: string;
  resetTtlMs?: number;
  verifyTtlMs?: number;
  /** Limits reset requests: checked once per client IP and once per address. */
  limiter?: Limiter;
  passwordPolicy?: PasswordPolicy;
  /** Shortest new password. Default 8 (NIST SP 800-63B). */
  minPasswordLength?: number;
  /** The account's password changed by a reset: end its sessions and refresh tokens here. */
  onPasswordReset?: (userId: string) => Promise<void> | void;
  /** Work done after the answer failed (a mail not sent): log it. */
  onError?: (err: Error) => void;
  now?: () => number;
}

const normalize = (email: string): string => email.trim().toLowerCase();

/**
 * @example
 * ```ts
 * const recovery = accountRecovery({ accounts, tokens, mailer, links: { resetPassword: (t) => `https://notes.example/reset?token=${t}`, verifyEmail: (t) => `https://notes.example/verify?token=${t}` }, onPasswordReset: (id) => sessions.revokeAll(id) });
 * app.post('/password/forgot', async (ctx) => { await recovery.requestPasswordReset((await ctx.req.json()).email, ctx.ip); return { sent: 'if the address is known' }; });
 * app.post('/password/reset', async (ctx) => { const b = await ctx.req.json(); await recovery.resetPassword(b.token, b.password); return { ok: true }; });
 * ```
 */
export function accountRecovery(o: AccountRecoveryOptions) {
  const now = o.now ?? Date.now;
  const app = o.appName ?? 'your account';
  const later = (work: () => Promise<void>): void => {
    setImmediate(() => work().catch((err: unknown) => o.onError?.(err instanceof Error ? err : new Error(String(err)))));
  };
  const limit = async (key: string): Promise<void> => {
    if (o.limiter === undefined) return;
    const r = await o.limiter.check(key);
    if (!r.allowed) throw new HttpError(429, { detail: 'too many requests: try again later' }, { 'retry-after': String(Math.max(1, Math.ceil(r.retryAfterMs / 1000))) });
  };
  return {
    /**
     * Mails a reset link if the address has an account. Resolves the same either way (say "if the address is
     * known, a mail is on its way"); 429 past the limits.
     */
    async requestPasswordReset(email: string, ip?: string): Promise<void> {
      const address = normalize(email);
      if (ip !== undefined) await limit(`reset:ip:${ip}`);
      await limit(`reset:email:${address}`);
      const account = await o.accounts.findByEmail(address);
      if (account === null) return;
      later(async () => {
        const token = await issueAccountToken(o.tokens, { purpose: 'reset-password', userId: account.id, expires: now() + (o.resetTtlMs ?? 30 * 60_000) });
        await o.mailer.send({
          to: account.email,
          subject: `Reset the password of ${app}`,
          text: `Someone (you, we hope) asked to reset the password of ${app}.\n\nTo choose a new one, open:\n${o.links.resetPassword(token)}\n\nThe link works once, for ${Math.round((o.resetTtlMs ?? 30 * 60_000) / 60_000)} minutes. If it was not you, ignore this mail: nothing changes.\n`,
        });
      });
    },

    /** Sets a new password with a reset token (once); the account's other reset tokens die. 400 otherwise. */
    async resetPassword(token: string, password: string): Promise<{ userId: string }> {
      if (password.length < (o.minPasswordLength ?? 8)) throw new HttpError(400, { detail: `the new password must have at least ${o.minPasswordLength ?? 8} characters` });
      const r = await redeemAccountToken(o.tokens, token, 'reset-password', now());
      if (r === null) throw new HttpError(400, { detail: 'this reset link is not valid (used, expired or mistyped): ask for a new one' });
      await o.accounts.setPasswordHash(r.userId, await hashPassword(password, o.passwordPolicy));
      await o.tokens.revoke(r.userId, 'reset-password');
      await o.onPasswordReset?.(r.userId);
      return { userId: r.userId };
    },

    /** Mails a link that verifies `email` for the account. */
    async sendVerification(userId: string, email: string): Promise<void> {
      const token = await issueAccountToken(o.tokens, { purpose: 'verify-email', userId, email: normalize(email), expires: now() + (o.verifyTtlMs ?? 24 * 3_600_000) });
      await o.mailer.send({
        to: email,
        subject: `Confirm your address for ${app}`,
        text: `To confirm that ${email} is yours, open:\n${o.links.verifyEmail(token)}\n\nIf you did not sign up, ignore this mail.\n`,
      });
    },

    /** Marks the address of a verification token as verified (once). 400 otherwise. */
    async verifyEmail(token: string): Promise<{ userId: string; email: string }> {
      const r = await redeemAccountToken(o.tokens, token, 'verify-email', now());
      if (r === null || r.email === undefined) throw new HttpError(400, { detail: 'this confirmation link is not valid (used, expired or mistyped)' });
      await o.accounts.markEmailVerified(r.userId, r.email);
      return { userId: r.userId, email: r.email };
    },
  };
}
