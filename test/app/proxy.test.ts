import { describe, expect, it } from 'vitest';
import { compileTrust, forwardedChain } from '../../lib/app/proxy.js';
import { createApp, testClient, type TrustProxy } from '../../lib/app/index.js';

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
