/**
 * Step-up for sensitive routes: `requires: ['2fa']` asks for a second factor proven recently (RFC 9470's
 * model: `max_age`), beside the route's permissions. The app's `authorize` is wrapped: routes requiring
 * `2fa` answer 401 with `WWW-Authenticate: Bearer error="insufficient_user_authentication"` and `max_age`
 * (and a problem body naming the step) until the user completes a second factor within `maxAgeMs`; the
 * other permissions go on to the wrapped `authorize`. With cookie sessions, `markSecondFactor(ctx)` records
 * the moment (call it after a TOTP code, a recovery code or a passkey verified) and `secondFactorAt` reads it.
 */
import type { Context } from '../context.js';
import { HttpError } from '../errors.js';
import { sessionOf } from './session.js';

/** The requirement a route names for a fresh second factor. */
export const SECOND_FACTOR = '2fa';
const SESSION_KEY = 'covet.2fa';

export interface StepUpOptions {
  /** When the request's user last completed a second factor (ms), or undefined. Default: `secondFactorAt`. */
  verifiedAt?: (ctx: Context) => number | undefined | Promise<number | undefined>;
  /** How recent it must be. Default 15 minutes. */
  maxAgeMs?: number;
  /** Clock (tests). */
  now?: () => number;
}

/**
 * @example
 * ```ts
 * const app = createApp({ authorize: stepUp(access.authorize) });
 * app.post('/account/delete', { requires: ['account:delete', '2fa'] }, handler);
 * app.post('/2fa', async (ctx) => { if (await totp.verify(id, secret, code)) await markSecondFactor(ctx); });
 * ```
 */
export function stepUp(authorize: ((ctx: Context, required: readonly string[]) => void | Promise<void>) | null, o: StepUpOptions = {}): (ctx: Context, required: readonly string[]) => Promise<void> {
  const maxAgeMs = o.maxAgeMs ?? 15 * 60_000;
  const now = o.now ?? Date.now;
  const verifiedAt = o.verifiedAt ?? secondFactorAt;
  return async (ctx, required) => {
    const rest = required.filter((r) => r !== SECOND_FACTOR);
    // Permissions first: someone not allowed at all learns nothing of the step-up.
    if (authorize !== null && rest.length > 0) await authorize(ctx, rest);
    if (rest.length === required.length) return;
    const at = await verifiedAt(ctx);
    const age = at === undefined ? Infinity : now() - at;
    if (age >= 0 && age <= maxAgeMs) return;
    const maxAge = Math.floor(maxAgeMs / 1000);
    throw new HttpError(
      401,
      { title: 'Second factor required', detail: `complete a second factor (within the last ${maxAge} s) to do this`, type: 'urn:covet:problem:second-factor-required' },
      { 'www-authenticate': `Bearer error="insufficient_user_authentication", error_description="a second factor is required", max_age=${maxAge}` },
    );
  };
}

/**
 * Records, in the request's session, that its user just completed a second factor.
 *
 * @example
 * ```ts
 * if (await totp.verify(user.id, user.totpSecret, code)) await markSecondFactor(ctx);
 * ```
 */
export async function markSecondFactor(ctx: Context, at: number = Date.now()): Promise<void> {
  await sessionOf(ctx).set(SESSION_KEY, at);
}

/**
 * When the session's user last completed a second factor (ms), or undefined (no session, or never).
 *
 * @example
 * ```ts
 * const fresh = (secondFactorAt(ctx) ?? 0) > Date.now() - 15 * 60_000;
 * ```
 */
export function secondFactorAt(ctx: Context): number | undefined {
  const s = ctx.state.session;
  if (s === undefined) return undefined;
  const at = sessionOf(ctx).get<number>(SESSION_KEY);
  return typeof at === 'number' ? at : undefined;
}
