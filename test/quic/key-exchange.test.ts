/**
 * Key exchange (RFC 8446 §4.1.4, §4.2.8) through the in-process client, which checks every secret itself:
 * X25519 preferred, secp256r1 taken; a ClientHello with a share for no group we serve but one we do in
 * supported_groups gets one HelloRetryRequest (transcript restarted with message_hash) and completes; a
 * second ClientHello still without the share, or a client with no group of ours, is refused by alert.
 */
import { describe, expect, it } from 'vitest';
import { ServerConnection } from '../../lib/quic/index.js';
import { clientInitial } from './client-initial.js';
import { streamFrame, TestClient, testCertificate } from './test-client.js';

describe('key exchange', () => {
  it.each([
    ['X25519 alone', [0x001d], undefined, 0x001d],
    ['P-256 alone', [0x0017], undefined, 0x0017],
    ['both: X25519 preferred', [0x0017, 0x001d], undefined, 0x001d],
  ] as Array<[string, number[], number[] | undefined, number]>)('%s', (_, shares, groups, group) => {
    const c = new TestClient({ shares, groups });
    expect([c.conn.state, c.group, c.retried]).toEqual(['established', group, null]);
    c.conn.onStream = (s) => (s.onEnd = () => s.end(Buffer.from('ok')));
    c.send(streamFrame(0, 0, Buffer.from('x'), true));
    c.read();
    expect(c.data.get(0)?.toString()).toBe('ok'); // the 1-RTT keys agree
  });

  it.each([
    ['X25519', 0x001d],
    ['P-256', 0x0017],
  ] as Array<[string, number]>)('a share in no group of ours, %s supported: one HelloRetryRequest, then the handshake completes', (_, group) => {
    const c = new TestClient({ shares: [0x0018], groups: [0x0018, group] });
    expect([c.conn.state, c.retried, c.group]).toEqual(['established', group, group]);
  });

  it('refuses a client with no group we serve (handshake_failure), and a second ClientHello without the share (illegal_parameter)', () => {
    const none = new ServerConnection(clientInitial({ shares: [0x0018], groups: [0x0018] }).datagram, { ...testCertificate(), alpn: ['h3'] });
    expect([none.state, none.closeReason?.code]).toEqual(['closed', 0x100 + 40]);
    const first = clientInitial({ shares: [0x0018], groups: [0x0018, 0x001d] });
    const conn = new ServerConnection(first.datagram, { ...testCertificate(), alpn: ['h3'] });
    conn.poll(); // the HelloRetryRequest
    const second = clientInitial({ dcid: first.dcid, scid: first.scid, shares: [0x0018], groups: [0x0018, 0x001d], cryptoOffset: first.clientHello.length, pn: 1 });
    conn.receive(second.datagram);
    expect([conn.state, conn.closeReason?.code]).toEqual(['closed', 0x100 + 47]);
  });
});
