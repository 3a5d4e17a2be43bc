/**
 * Role-based access control: roles grant permissions (`notes:write`, wildcards `notes:*` and `*`),
 * roles may inherit others, and routes declare what they need (`requires`). Nobody authenticated is a
 * 401 (with `WWW-Authenticate`); someone without the permission is a 403.
 */
import type { Context } from '../context.js';
import { HttpError } from '../errors.js';

export interface RbacOptions<U> {
  /** Permissions by role. */
  roles: Record<string, readonly string[]>;
  /** Roles whose permissions a role also has. */
  inherits?: Record<string, readonly string[]>;
  /** The authenticated user of a request (set by your auth middleware or dependency), or undefined. */
  user: (ctx: Context) => U | undefined;
  /** The user's roles. Default `user.roles`. */
  rolesOf?: (user: U) => readonly string[];
  /** `WWW-Authenticate` challenge sent with 401. Default `Bearer`. */
  challenge?: string;
}

export interface Rbac<U> {
  /** Every permission a role has (its own and inherited). */
  permissionsOf(role: string): ReadonlySet<string>;
  can(user: U, permission: string): boolean;
  /** For `createApp({ authorize })`. */
  authorize(ctx: Context, required: readonly string[]): void;
}

/**
 * @example
 * ```ts
 * const access = rbac({ roles: { admin: ['*'], editor: ['notes:*'], viewer: ['notes:read'] }, inherits: { editor: ['viewer'] }, user: (ctx) => ctx.state.user as User | undefined });
 * const app = createApp({ authorize: access.authorize });
 * app.post('/notes', { requires: ['notes:write'] }, handler);
 * ```
 */
export function rbac<U>(options: RbacOptions<U>): Rbac<U> {
  const cache = new Map<string, Set<string>>();
  const permissionsOf = (role: string, seen = new Set<string>()): Set<string> => {
    const hit = cache.get(role);
    if (hit !== undefined) return hit;
    const out = new Set<string>(options.roles[role] ?? []);
    seen.add(role);
    for (const parent of options.inherits?.[role] ?? []) {
      if (seen.has(parent)) throw new Error(`role inheritance cycle through "${parent}"`);
      for (const p of permissionsOf(parent, seen)) out.add(p);
    }
    cache.set(role, out);
    return out;
  };
  for (const role of Object.keys(options.roles)) permissionsOf(role);
  const grants = (held: ReadonlySet<string>, wanted: string): boolean => {
    if (held.has('*') || held.has(wanted)) return true;
    for (let i = wanted.lastIndexOf(':'); i > 0; i = wanted.lastIndexOf(':', i - 1)) if (held.has(`${wanted.slice(0, i)}:*`)) return true;
    return false;
  };
  const rolesOf = options.rolesOf ?? ((u: U) => ((u as { roles?: readonly string[] }).roles ?? []));
  const can = (user: U, permission: string): boolean => rolesOf(user).some((r) => grants(permissionsOf(r), permission));
  return {
    permissionsOf,
    can,
    authorize(ctx, required) {
      const user = options.user(ctx);
      if (user === undefined) throw new HttpError(401, { detail: 'authentication required' }, { 'www-authenticate': options.challenge ?? 'Bearer' });
      const missing = required.filter((p) => !can(user, p));
      if (missing.length > 0) throw new HttpError(403, { detail: `missing permission${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}` });
    },
  };
}
