/**
 * The opening handshake (RFC 6455 §4): server-side validation of the Upgrade request and the 101 answer,
 * client-side request and response checks. Pure functions over header values.
 */
import { createHash, randomBytes } from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * Sec-WebSocket-Accept for a Sec-WebSocket-Key (§4.2.2 step 5.4).
 *
 * @example
 * ```ts
 * acceptKey('dGhlIHNhbXBsZSBub25jZQ=='); // 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=' (RFC 6455 §1.3)
 * ```
 */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/**
 * A fresh Sec-WebSocket-Key: 16 random bytes, base64 (§4.1).
 *
 * @example
 * ```ts
 * const key = generateKey();
 * socket.write(`GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
 * ```
 */
export function generateKey(): string {
  return randomBytes(16).toString('base64');
}

/** What the server needs from the request (header lookup is case-insensitive). */
export interface UpgradeRequest {
  method: string;
  httpVersion: string;
  get(name: string): string | undefined;
}

export type HandshakeCheck = { ok: true; key: string } | { ok: false; status: number; reason: string; headers?: Record<string, string> };

const hasToken = (value: string | undefined, token: string): boolean =>
  value !== undefined && value.split(',').some((t) => t.trim().toLowerCase() === token);

/**
 * Validates a client's opening handshake (§4.2.1).
 *
 * @example
 * ```ts
 * const check = checkUpgrade({ method: req.method, httpVersion: '1.1', get: (n) => req.headers[n] });
 * if (!check.ok) return answer(check.status, check.reason, check.headers);
 * socket.write(switchingProtocols(check.key));
 * ```
 */
export function checkUpgrade(req: UpgradeRequest): HandshakeCheck {
  if (req.method !== 'GET') return { ok: false, status: 405, reason: 'the opening handshake must be a GET', headers: { Allow: 'GET' } };
  if (req.httpVersion !== '1.1') return { ok: false, status: 400, reason: 'the opening handshake needs HTTP/1.1' };
  if (!hasToken(req.get('upgrade'), 'websocket')) return { ok: false, status: 400, reason: 'Upgrade: websocket missing' };
  if (!hasToken(req.get('connection'), 'upgrade')) return { ok: false, status: 400, reason: 'Connection: upgrade missing' };
  const version = req.get('sec-websocket-version');
  if (version?.trim() !== '13') {
    // §4.4: answer with the versions we speak.
    return { ok: false, status: 426, reason: 'unsupported WebSocket version', headers: { 'Sec-WebSocket-Version': '13' } };
  }
  const key = req.get('sec-websocket-key')?.trim();
  if (key === undefined || !/^[A-Za-z0-9+/]{22}==$/.test(key)) return { ok: false, status: 400, reason: 'invalid Sec-WebSocket-Key' };
  return { ok: true, key };
}

/**
 * Chooses a subprotocol: the first the client lists that the server supports (§4.2.2 step 5.4).
 *
 * @example
 * ```ts
 * selectProtocol('chat.v2, chat.v1', ['chat.v1']); // 'chat.v1'
 * selectProtocol('mqtt', ['chat.v1']);            // undefined: answer without one
 * ```
 */
export function selectProtocol(offered: string | undefined, supported: readonly string[] | ((offered: string[]) => string | undefined)): string | undefined {
  if (offered === undefined) return undefined;
  const list = offered.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  if (typeof supported === 'function') return supported(list);
  return list.find((p) => supported.includes(p));
}

/**
 * The 101 response head.
 *
 * @example
 * ```ts
 * socket.write(switchingProtocols(check.key, 'chat.v1')); // 'HTTP/1.1 101 Switching Protocols\r\n…\r\n\r\n'
 * ```
 */
export function switchingProtocols(key: string, protocol?: string, extensions?: string, extraHeaders?: Record<string, string>): string {
  let h = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n`;
  if (protocol !== undefined) h += `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  if (extensions !== undefined) h += `Sec-WebSocket-Extensions: ${extensions}\r\n`;
  if (extraHeaders) for (const [k, v] of Object.entries(extraHeaders)) h += `${k}: ${v}\r\n`;
  return `${h}\r\n`;
}
