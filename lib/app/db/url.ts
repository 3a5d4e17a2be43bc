/** libpq connection URLs: `postgres://user:pass@host:port/db?sslmode=require&application_name=x`. */

export interface ConnectionConfig {
  host: string;
  port: number;
  /** A unix socket directory (`host=/var/run/postgresql` or `?host=/path`): connects to `dir/.s.PGSQL.port`. */
  socketDir?: string;
  user: string;
  password?: string;
  database: string;
  /** `disable` (default on loopback and sockets), `prefer`, `require`, `verify-ca`, `verify-full`. */
  sslmode: 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
  /** Extra startup parameters (application_name, options, search_path...). */
  params: Record<string, string>;
}

/**
 * Parses a connection string. Unset parts come from PG* environment variables, then libpq's defaults.
 *
 * @example
 * ```ts
 * parseConnectionString('postgres://app:secret@db:5432/notes?sslmode=require');
 * ```
 */
export function parseConnectionString(url: string, env: NodeJS.ProcessEnv = process.env): ConnectionConfig {
  const u = new URL(url.replace(/^postgresql:/, 'postgres:'));
  if (u.protocol !== 'postgres:') throw new Error(`not a PostgreSQL URL: ${u.protocol}`);
  const q = u.searchParams;
  const hostParam = q.get('host') ?? decodeURIComponent(u.hostname);
  const socketDir = hostParam.startsWith('/') ? hostParam : undefined;
  const user = decodeURIComponent(u.username) || q.get('user') || env.PGUSER || env.USER || 'postgres';
  const params: Record<string, string> = {};
  for (const [k, v] of q) if (!['sslmode', 'host', 'user', 'password', 'port', 'dbname'].includes(k)) params[k] = v;
  const sslmode = (q.get('sslmode') ?? env.PGSSLMODE ?? 'disable') as ConnectionConfig['sslmode'];
  if (!['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'allow'].includes(sslmode)) throw new Error(`unknown sslmode ${sslmode}`);
  return {
    host: socketDir === undefined ? hostParam || env.PGHOST || '127.0.0.1' : 'localhost',
    port: Number(u.port || q.get('port') || env.PGPORT || 5432),
    socketDir,
    user,
    password: u.password !== '' ? decodeURIComponent(u.password) : (q.get('password') ?? env.PGPASSWORD),
    database: decodeURIComponent(u.pathname.slice(1)) || q.get('dbname') || env.PGDATABASE || user,
    sslmode: sslmode === ('allow' as string) ? 'prefer' : sslmode,
    params,
  };
}
