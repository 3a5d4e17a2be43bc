import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileTrust, forwardedChain } from '../../lib/app/proxy.js';
import { createApp, testClient, type TrustProxy } from '../../lib/app/index.js';
import { MemoryLimiter, rateLimit } from '../../lib/app/auth/index.js';
import { tempDir } from '../temp-dir.js';
import { getOverUnixSocket } from '../helpers/unix-get.js';

describe('client address behind proxies', () => {
  const chain = (trust: TrustProxy | undefined, xff: string | undefined, peer = '10.0.0.2') => forwardedChain(peer, xff, compileTrust(trust));

  it('believes X-Forwarded-For only hop by hop through trusted proxies', () => {
    const xff = '6.6.6.6, 203.0.113.7, 10.0.0.1';
    expect(chain(undefined, xff)).toEqual(['10.0.0.2']); // nothing trusted: the socket peer
    expect(chain(['10.0.0.0/8'], xff)).toEqual(['203.0.113.7', '10.0.0.1', '10.0.0.2']); // the spoofed 6.6.6.6 is not reached
    expect(chain(1, xff)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(chain(2, xff)).toEqual(['203.0.113.7', '10.0.0.1', '10.0.0.2']);
    expect(chain(true, xff)).toEqual(['6.6.6.6', '203.0.113.7', '10.0.0.1', '10.0.0.2']);
    expect(chain(['10.0.0.0/8'], undefined)).toEqual(['10.0.0.2']);
    expect(chain(['::1', '127.0.0.1'], '198.51.100.4', '::ffff:127.0.0.1')).toEqual(['198.51.100.4', '::ffff:127.0.0.1']);
    expect(chain(['10.0.0.0/8'], xff, '192.0.2.9')).toEqual(['192.0.2.9']); // peer not a proxy: header ignored
  });

  it('a unix socket’s peer (no address) is trusted by true, a hop count or a function, never by an address list', () => {
    const xff = '6.6.6.6, 203.0.113.7, 10.0.0.1';
    const unix = (trust: TrustProxy | undefined) => forwardedChain(undefined, xff, compileTrust(trust));
    expect(unix(undefined)).toEqual([]);
    expect(unix(false)).toEqual([]);
    expect(unix(['127.0.0.1', '::1', '0.0.0.0/0'])).toEqual([]);
    expect(unix(1)).toEqual(['10.0.0.1']);
    expect(unix(2)).toEqual(['203.0.113.7', '10.0.0.1']);
    expect(unix(true)).toEqual(['6.6.6.6', '203.0.113.7', '10.0.0.1']);
    const asked: Array<[string, number]> = [];
    expect(unix((a, hop) => (asked.push([a, hop]), hop === 0))).toEqual(['10.0.0.1']);
    expect(asked).toEqual([['', 0], ['10.0.0.1', 1]]);
    expect(forwardedChain(undefined, undefined, compileTrust(true))).toEqual([]); // no header: no address at all
  });

  it('behind a proxy on a unix socket, ctx.ip is the forwarded client with trustProxy: 1, and a per-address rate limit counts each client', async () => {
    const app = createApp({ trustProxy: 1 });
    app.use(rateLimit({ limiter: new MemoryLimiter({ kind: 'fixed-window', limit: 1, windowMs: 60_000 }) }));
    app.get('/ip', (ctx) => ({ ip: ctx.ip ?? null }));
    const path = join(tempDir('covet-sock-'), 'covet-proxy.sock');
    await app.listen({ path });
    const get = (xff: string) => getOverUnixSocket(path, '/ip', { 'x-forwarded-for': xff });
    try {
      expect(await get('198.51.100.4')).toEqual({ status: 200, body: '{"ip":"198.51.100.4"}' });
      expect((await get('198.51.100.4')).status).toBe(429); // the same client, over its limit
      expect(await get('198.51.100.5')).toEqual({ status: 200, body: '{"ip":"198.51.100.5"}' }); // another client
    } finally {
      await app.close(0);
    }
  });

  it('exposes ctx.ip over a real connection, honouring trustProxy', async () => {
    for (const [trustProxy, want] of [
      [undefined, '127.0.0.1'],
      [['127.0.0.1'], '198.51.100.4'],
    ] as const) {
      const app = createApp({ trustProxy });
      app.get('/ip', (ctx) => ({ ip: ctx.ip?.replace(/^::ffff:/, '') }));
      const client = await testClient(app);
      try {
        expect((await client.request('/ip', { headers: { 'x-forwarded-for': '198.51.100.4' } })).json()).toEqual({ ip: want });
      } finally {
        await client.close();
      }
    }
  });
});
