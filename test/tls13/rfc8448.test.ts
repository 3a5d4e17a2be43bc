/**
 * RFC 8448 §3 ("Simple 1-RTT Handshake"), the example trace of TLS 1.3: its ClientHello parsed, its
 * ServerHello rebuilt byte for byte from the same random and key share, the X25519 shared secret from its
 * private keys, and every secret of the key schedule it shows that does not need the server's RSA
 * certificate flight — early, handshake and master secrets, both handshake traffic secrets, their keys,
 * IVs and Finished keys. (The trace's values are typed here from the RFC.)
 */
import { createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { applicationSecrets, handshakeSecrets, hkdfExpandLabel, parseClientHello, serverHello, transcriptHash, x25519Shared } from '../../lib/tls13/index.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const CLIENT_HELLO = hex(`
  01 00 00 c0 03 03 cb 34 ec b1 e7 81 63 ba 1c 38 c6 da cb 19 6a 6d ff a2 1a 8d 99 12 ec 18 a2 ef 62 83
  02 4d ec e7 00 00 06 13 01 13 03 13 02 01 00 00 91 00 00 00 0b 00 09 00 00 06 73 65 72 76 65 72 ff 01
  00 01 00 00 0a 00 14 00 12 00 1d 00 17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00 23 00 00 00 33 00
  26 00 24 00 1d 00 20 99 38 1d e5 60 e4 bd 43 d2 3d 8e 43 5a 7d ba fe b3 c0 6e 51 c1 3c ae 4d 54 13 69
  1e 52 9a af 2c 00 2b 00 03 02 03 04 00 0d 00 20 00 1e 04 03 05 03 06 03 02 03 08 04 08 05 08 06 04 01
  05 01 06 01 02 01 04 02 05 02 06 02 02 02 00 2d 00 02 01 01 00 1c 00 02 40 01`);
const SERVER_HELLO = hex(`
  02 00 00 56 03 03 a6 af 06 a4 12 18 60 dc 5e 6e 60 24 9c d3 4c 95 93 0c 8a c5 cb 14 34 da c1 55 77 2e
  d3 e2 69 28 00 13 01 00 00 2e 00 33 00 24 00 1d 00 20 c9 82 88 76 11 20 95 fe 66 76 2b db f7 c6 72 e1
  56 d6 cc 25 3b 83 3d f1 dd 69 b1 b0 4e 75 1f 0f 00 2b 00 02 03 04`);
const CLIENT_PUBLIC = hex('99 38 1d e5 60 e4 bd 43 d2 3d 8e 43 5a 7d ba fe b3 c0 6e 51 c1 3c ae 4d 54 13 69 1e 52 9a af 2c');
const SERVER_PUBLIC = hex('c9 82 88 76 11 20 95 fe 66 76 2b db f7 c6 72 e1 56 d6 cc 25 3b 83 3d f1 dd 69 b1 b0 4e 75 1f 0f');
const SERVER_PRIVATE = hex('b1 58 0e ea df 6d d5 89 b8 ef 4f 2d 56 52 57 8c c8 10 e9 98 01 91 ec 8d 05 83 08 ce a2 16 a2 1e');
const SHARED = hex('8b d4 05 4f b5 5b 9d 63 fd fb ac f9 f0 4b 9f 0d 35 e6 d6 3f 53 75 63 ef d4 62 72 90 0f 89 49 2d');
const HANDSHAKE_SECRET = hex('1d c8 26 e9 36 06 aa 6f dc 0a ad c1 2f 74 1b 01 04 6a a6 b9 9f 69 1e d2 21 a9 f0 ca 04 3f be ac');
const CLIENT_HS_TRAFFIC = hex('b3 ed db 12 6e 06 7f 35 a7 80 b3 ab f4 5e 2d 8f 3b 1a 95 07 38 f5 2e 96 00 74 6a 0e 27 a5 5a 21');
const SERVER_HS_TRAFFIC = hex('b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38');
const MASTER_SECRET = hex('18 df 06 84 3d 13 a0 8b f2 a4 49 84 4c 5f 8a 47 80 01 bc 4d 4c 62 79 84 d5 a4 1d a8 d0 40 29 19');

describe('RFC 8448 §3: a simple 1-RTT handshake', () => {
  it('parses its ClientHello', () => {
    const ch = parseClientHello(CLIENT_HELLO);
    expect(ch.random).toEqual(CLIENT_HELLO.subarray(6, 38));
    expect(ch.cipherSuites).toEqual([0x1301, 0x1303, 0x1302]);
    expect(ch.supportedVersions).toEqual([0x0304]);
    expect(ch.supportedGroups).toEqual([0x001d, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104]);
    expect(ch.keyShares).toEqual([{ group: 0x001d, key: CLIENT_PUBLIC }]);
    expect(ch.signatureAlgorithms).toEqual([0x0403, 0x0503, 0x0603, 0x0203, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0201, 0x0402, 0x0502, 0x0602, 0x0202]);
    expect([ch.serverName, ch.alpn, ch.transportParameters, ch.sessionId.length]).toEqual(['server', [], null, 0]);
    expect(ch.raw).toEqual(CLIENT_HELLO);
  });

  it('builds its ServerHello byte for byte from the same random and key share', () => {
    expect(serverHello({ random: SERVER_HELLO.subarray(6, 38), sessionId: Buffer.alloc(0), cipherSuite: 0x1301, group: 0x001d, keyShare: SERVER_PUBLIC })).toEqual(SERVER_HELLO);
  });

  it('derives the X25519 shared secret and every handshake secret, key, IV and Finished key', () => {
    const privateKey = createPrivateKey({ key: Buffer.concat([hex('302e020100300506032b656e04220420'), SERVER_PRIVATE]), format: 'der', type: 'pkcs8' });
    const shared = x25519Shared({ publicKey: SERVER_PUBLIC, privateKey }, CLIENT_PUBLIC);
    expect(shared).toEqual(SHARED);
    const s = handshakeSecrets('sha256', shared, transcriptHash('sha256', CLIENT_HELLO, SERVER_HELLO));
    expect(s.handshakeSecret).toEqual(HANDSHAKE_SECRET);
    expect(s.client).toEqual(CLIENT_HS_TRAFFIC);
    expect(s.server).toEqual(SERVER_HS_TRAFFIC);
    const none = Buffer.alloc(0);
    expect(hkdfExpandLabel('sha256', s.server, 'key', none, 16)).toEqual(hex('3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc'));
    expect(hkdfExpandLabel('sha256', s.server, 'iv', none, 12)).toEqual(hex('5d 31 3e b2 67 12 76 ee 13 00 0b 30'));
    expect(hkdfExpandLabel('sha256', s.client, 'key', none, 16)).toEqual(hex('db fa a6 93 d1 76 2c 5b 66 6a f5 d9 50 25 8d 01'));
    expect(hkdfExpandLabel('sha256', s.client, 'iv', none, 12)).toEqual(hex('5b d3 c7 1b 83 6e 0b 76 bb 73 26 5f'));
    expect(hkdfExpandLabel('sha256', s.server, 'finished', none, 32)).toEqual(hex('00 8d 3b 66 f8 16 ea 55 9f 96 b5 37 e8 85 c3 1f c0 68 bf 49 2c 65 2f 01 f2 88 a1 d8 cd c1 9f c8'));
    expect(hkdfExpandLabel('sha256', s.client, 'finished', none, 32)).toEqual(hex('b8 0a d0 10 15 fb 2f 0b d6 5f f7 d4 da 5d 6b f8 3f 84 82 1d 1f 87 fd c7 d3 c7 5b 5a 7b 42 d9 c4'));
    // The master secret follows from the handshake secret alone (its traffic secrets need the certificate flight).
    expect(applicationSecrets('sha256', s.handshakeSecret, transcriptHash('sha256', CLIENT_HELLO, SERVER_HELLO)).master).toEqual(MASTER_SECRET);
  });
});
