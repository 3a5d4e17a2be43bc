/**
 * Building protected packets, byte for byte against RFC 9001 Appendix A: the client's Initial (A.2, opened again
 * as the server opens it), the server's Initial (A.3: AES-128-GCM
 * under the Initial keys, a long header with a 2-byte packet number) and the ChaCha20-Poly1305 short-header
 * packet (A.5: an empty Destination Connection ID, a 3-byte packet number, a lone PING). Each packet is built
 * in one buffer (header, then the sealed payload written after it), so these pin every offset of that.
 */
import { describe, expect, it } from 'vitest';
import { buildLongPacket, buildShortPacket, initialKeys, open, parseLongHeader, seal, unprotect } from '../../lib/quic/index.js';
import { parseClientHello } from '../../lib/tls13/index.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('protected packets (RFC 9001 Appendix A)', () => {
  it("A.2: the client's Initial packet (1,200 bytes: the ClientHello's CRYPTO frame, then PADDING); the server opens it", () => {
    const dcid = hex('8394c8f03e515708');
    const { client } = initialKeys(dcid);
    const crypto = hex(`060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e86804fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578
      616d706c652e636f6dff01000100000a00080006001d0017001800100007000504616c706e000500050100000000003300260024001d00209370b2c9caa47fbabaf455
      9fedba753de171fa71f50f1ce15d43e994ec74d748002b0003020304000d0010000e0403050306030203080408050806002d00020101001c0002400100390032
      0408ffffffffffffffff05048000ffff07048000ffff0801100104800075300901100f088394c8f03e51570806048000ffff`);
    const payload = Buffer.concat([crypto, Buffer.alloc(1162 - crypto.length)]);
    const packet = buildLongPacket('aes-128-gcm', client, { type: 0, version: 1, dcid, scid: Buffer.alloc(0), pn: 2, payload }, 4);
    expect(packet.toString('hex')).toBe(
      hex(`
        c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f6330
        0099f3991c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6
        005f80fcb7df621230c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5457afd84d05dfffdb20392844ae812154682e9cf
        012f9021a6f0be17ddd0c2084dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec4e15daf8500a6ef69ec4e3feb6b1d98e
        610ac8b7ec3faf6ad760b7bad1db4ba3485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db059ae0648db2f64264ed5e39
        be2e20d82df566da8dd5998ccabdae053060ae6c7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f89937f5a67258bf63
        ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c7468449a13
        d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663ac69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00
        f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699d
        bfe5896425c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c
        1f28ff18f58891ffef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198e3fc433f9f2541010ae17c1bf202580f6047472f
        b36857fe843b19f5984009ddc324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73203a4a13e96f5432ec0fd4a1ee65accd
        d5e3904df54c1da510b0ff20dcc0c77fcb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450efc60ac47683d7b8d0f811365
        565fd98c4c8eb936bcab8d069fc33bd801b03adea2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e72404790a2181014f3b94a
        4e97d117b438130368cc39dbb2d198065ae3986547926cd2162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f440591f35
        5e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca06948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e
        8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263f
        f8f0940054da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab760d58a606654f9f4400e8b38591356fbf6425aca26dc852
        44259ff2b19c41b9f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4056df31bd267b6b90a079831aaf579be0a390131
        37aac6d404f518cfd46840647e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241e221af44860018ab0856972e194cd934`).toString('hex'),
    );
    // The server's side: header protection off, the payload opened, the ClientHello read from its CRYPTO frame.
    const h = parseLongHeader(packet);
    expect([h.type, h.dcid, h.scid.length, h.token.length, h.end]).toEqual([0, dcid, 0, 0, 1200]);
    const opened = unprotect('aes-128-gcm', client, packet, 0, h.pnOffset, h.end, true);
    expect(opened.pn).toBe(2);
    expect(opened.payload.subarray(0, crypto.length)).toEqual(crypto);
    const ch = parseClientHello(crypto.subarray(4));
    expect([ch.serverName, ch.alpn, ch.keyShares[0]!.group, ch.transportParameters!.length]).toEqual(['example.com', ['alpn'], 0x001d, 50]);
  });

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
