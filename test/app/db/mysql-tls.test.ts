/**
 * MySQL/MariaDB over TLS: the test starts a MariaDB of its own with a certificate it made (openssl), so
 * the shared server's configuration is not touched. `sslmode=require` encrypts (the server reports the
 * cipher); `verify-full` refuses the self-signed certificate until it is given as `sslrootcert`, and then
 * also checks the host name; no parameter stays plain.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MysqlDb } from '../../../lib/app/db/index.js';
import { waitFor } from '../../helpers/wait-for.js';
import { freePort } from '../../helpers/free-port.js';

const dir = mkdtempSync(join(tmpdir(), 'covet-mariadb-tls-'));
// A port the OS says is free now (a random one could be an ephemeral port in use).
const port = await freePort();
let server: ChildProcess;
const url = (q: string, host = '127.0.0.1') => `mysql://root@${host}:${port}/mysql${q}`;

/** The cipher of the session `q` opens ('' when plain). */
async function cipher(q: string, host?: string): Promise<string> {
  const db = new MysqlDb(url(q, host), { max: 1 });
  try {
    const [row] = await db.sql<{ Value: string }>`show session status like 'Ssl_cipher'`;
    return row?.Value ?? '';
  } finally {
    await db.close();
  }
}

beforeAll(async () => {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
  const user = execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
  execFileSync('mariadb-install-db', ['--no-defaults', `--datadir=${join(dir, 'data')}`, `--user=${user}`, '--auth-root-authentication-method=normal', '--skip-test-db'], { stdio: 'ignore' });
  server = spawn('/usr/sbin/mariadbd', ['--no-defaults', `--datadir=${join(dir, 'data')}`, `--user=${user}`, `--port=${port}`, '--bind-address=127.0.0.1', `--socket=${join(dir, 'mysqld.sock')}`, `--pid-file=${join(dir, 'mysqld.pid')}`, `--ssl-cert=${cert}`, `--ssl-key=${key}`, '--skip-name-resolve', '--innodb-buffer-pool-size=16M'], { stdio: 'ignore' });
  await waitFor(() => cipher('').then(() => true, () => false), 30_000, 'the TLS MariaDB to start', 200);
}, 60_000);

afterAll(async () => {
  server?.kill('SIGTERM');
  await new Promise((r) => (server === undefined || server.exitCode !== null ? r(null) : server.once('exit', r)));
  rmSync(dir, { recursive: true, force: true });
});

it('sslmode=require encrypts; verify-full needs the CA (sslrootcert) and the name the certificate carries; no parameter is plain', async () => {
  const ca = `sslrootcert=${encodeURIComponent(join(dir, 'cert.pem'))}`;
  expect(await cipher('')).toBe('');
  expect(await cipher('?sslmode=require')).toMatch(/^TLS_|AES|CHACHA/);
  await expect(cipher('?sslmode=verify-full', 'localhost')).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  expect(await cipher(`?sslmode=verify-full&${ca}`, 'localhost')).toMatch(/^TLS_|AES|CHACHA/);
  expect(await cipher(`?ssl=true&${ca}`, 'localhost')).not.toBe('');
  // An address cannot be checked against the certificate's name (mysql2 would check "localhost"): said so.
  expect(() => new MysqlDb(url(`?sslmode=verify-full&${ca}`))).toThrow('sslmode=verify-full checks the server\'s name: connect to the name its certificate carries, not the address 127.0.0.1');
  expect(() => new MysqlDb(url('?sslmode=prefer'))).toThrow('sslmode=prefer: use require or verify-full (or disable)');
}, 60_000);
