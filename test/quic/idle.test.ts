/**
 * The idle timeout (RFC 9000 §10.1) of ServerConnection, on an injected clock: the smaller of the two
 * advertised timeouts, never less than three probe timeouts; the connection closes silently at it, not a
 * millisecond before; an authentic packet from the client restarts it.
 */
import { expect, it } from 'vitest';
import { createPrivateKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServerConnection } from '../../lib/quic/index.js';
import { pemCertificates } from '../../lib/tls13/index.js';
import { clientInitial, clientPing } from './client-initial.js';
import { tempDir } from '../temp-dir.js';

function cert() {
  const dir = tempDir('covet-quic-');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  return { privateKey: createPrivateKey(readFileSync(join(dir, 'key.pem'))), certificateChain: pemCertificates(readFileSync(join(dir, 'cert.pem'), 'utf8')) };
}
const c = cert();

/** A connection at t = 1000 whose client advertised `clientIdle` (ms), with our `ourIdle`. */
function open(clientIdle: number, ourIdle = 30_000) {
  let now = 1000;
  const first = clientInitial({ params: { maxIdleTimeout: clientIdle } });
  const conn = new ServerConnection(first.datagram, { ...c, alpn: ['h3'], transportParameters: { maxIdleTimeout: ourIdle }, now: () => now });
  conn.poll(); // the first flight: in flight from t = 1000
  /** Runs the timer up to `t` as a socket loop would: each expiry handled, what it sends polled. */
  const probes: number[] = [];
  const runTo = (t: number) => {
    for (let next = conn.timeout(); next !== null && next <= t; next = conn.timeout()) {
      now = next;
      conn.onTimeout();
      if (conn.poll().length > 0) probes.push(now);
    }
    now = t;
  };
  return { conn, runTo, first, probes };
}

it('closes silently at the smaller of the two timeouts, not a millisecond before', () => {
  const a = open(5000);
  a.runTo(5999);
  expect(a.conn.state).toBe('handshake'); // probes went out meanwhile
  a.runTo(6000);
  expect(a.conn.state).toBe('closed');
  expect(a.conn.closeReason?.message).toBe('idle for 5000 ms');
  expect(a.conn.poll()).toEqual([]); // no CONNECTION_CLOSE (§10.1)
  // Ours the smaller.
  const b = open(60_000, 7000);
  b.runTo(7999);
  expect(b.conn.state).toBe('handshake');
  b.runTo(8000);
  expect(b.conn.state).toBe('closed');
  // The client's 0 means "none": ours holds.
  const z = open(0, 4000);
  z.runTo(4999);
  expect(z.conn.state).toBe('handshake');
  z.runTo(5000);
  expect(z.conn.state).toBe('closed');
});

it('is never shorter than three probe timeouts (initial RTT 333 ms: PTO 999 ms)', () => {
  const a = open(1);
  a.runTo(1000 + 2996);
  expect(a.conn.state).toBe('handshake');
  a.runTo(1000 + 2997);
  expect(a.conn.state).toBe('closed');
  expect(a.conn.closeReason?.message).toBe('idle for 2997 ms');
});

it('an authentic packet from the client restarts it; a duplicate or an unauthentic one does not', () => {
  const a = open(5000);
  a.runTo(4000);
  a.conn.receive(clientPing(a.first, 1));
  a.runTo(8999);
  expect(a.conn.state).toBe('handshake');
  // Restarted at 4000, and again by the first ack-eliciting packet we sent after it (a probe).
  const firstProbe = a.probes.find((t) => t > 4000)!;
  expect(firstProbe).toBeGreaterThan(4000);
  a.runTo(firstProbe + 4999);
  expect(a.conn.state).toBe('handshake');
  a.runTo(firstProbe + 5000);
  expect(a.conn.state).toBe('closed');
  const d = open(5000);
  d.runTo(4000);
  d.conn.receive(d.first.datagram); // the first Initial again: authentic, but its packet number is a duplicate
  d.runTo(5999);
  expect(d.conn.state).toBe('handshake');
  d.runTo(6000);
  expect(d.conn.state).toBe('closed');
  const u = open(5000);
  u.runTo(4000);
  u.conn.receive(clientPing({ ...clientInitial(), scid: u.first.scid, dcid: Buffer.from(u.first.dcid).fill(7, 0, 1) }, 1)); // other keys: does not open
  u.runTo(6000);
  expect(u.conn.state).toBe('closed');
});
