/**
 * Building protected packets, byte for byte against RFC 9001 Appendix A: the server's Initial (A.3: AES-128-GCM
 * under the Initial keys, a long header with a 2-byte packet number) and the ChaCha20-Poly1305 short-header
 * packet (A.5: an empty Destination Connection ID, a 3-byte packet number, a lone PING). Each packet is built
 * in one buffer (header, then the sealed payload written after it), so these pin every offset of that.
 */
import { describe, expect, it } from 'vitest';
import { buildLongPacket, buildShortPacket, initialKeys, open, seal } from '../../lib/quic/index.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('protected packets (RFC 9001 Appendix A)', () => {
  it("A.3: the server's Initial packet", () => {
    const { server } = initialKeys(hex('8394c8f03e515708'));
    const payload = hex(`02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf73988cfc79825df566dc5430b9a045a1200130100002e
      00330024001d00209d3c940d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00020304`);
    const packet = buildLongPacket('aes-128-gcm', server, { type: 0, version: 1, dcid: Buffer.alloc(0), scid: hex('f067a5502a4262b5'), pn: 1, payload }, 2);
    expect(packet.toString('hex')).toBe(
      'cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc42158407dd074ee',
    );
  });

  it('A.5: a ChaCha20-Poly1305 short-header packet', () => {
    const keys = { key: hex('c6d98ff3441c3fe1b2182094f69caa2ed4b716b65488960a7a984979fb23e1c8'), iv: hex('e0459b3474bdd0e44a41c144'), hp: hex('25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4') };
    const packet = buildShortPacket('chacha20-poly1305', keys, Buffer.alloc(0), 654360564, hex('01'), 3);
    expect(packet.toString('hex')).toBe('4cfe4189655e5cd55c41f69080575d7999c25a5bfb');
  });

  it('seal and open agree for any packet number, one after another (the nonce is made afresh each time)', () => {
    const { client } = initialKeys(hex('8394c8f03e515708'));
    const header = hex('c300000001');
    const sealed = [0, 1, 255, 256, 2 ** 32 + 7].map((pn) => [pn, seal('aes-128-gcm', client, pn, header, Buffer.from(`payload ${pn}`))] as const);
    for (const [pn, s] of sealed) expect(open('aes-128-gcm', client, pn, header, s).toString()).toBe(`payload ${pn}`);
    expect(new Set(sealed.map(([, s]) => s.toString('hex'))).size).toBe(sealed.length);
  });
});
