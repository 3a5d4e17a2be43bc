/**
 * A real OpenID provider for tests: the `oidc-provider` package (certified) on loopback, driven through its
 * development login and consent pages like a browser would. Accounts are made up from their login name:
 * `<name>` has `<name>@example.com`, verified unless the name starts with `unverified`.
 */
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import Provider from 'oidc-provider';

export const REDIRECT = 'http://127.0.0.1:1/callback'; // never contacted: we read the redirect's Location

export interface TestProvider {
  issuer: string;
  close(): Promise<void>;
}

export async function startProvider(): Promise<TestProvider> {
  // The provider needs its own issuer URL before listening: bind first, then configure.
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: 'notes', client_secret: 'notes-secret-notes-secret', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    issueRefreshToken: async () => true,
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    findAccount: async (_ctx: unknown, id: string) => ({ accountId: id, claims: async () => ({ sub: id, email: `${id}@example.com`, email_verified: !id.startsWith('unverified'), name: id }) }),
    cookies: { keys: ['cookie-key-cookie-key'] },
  });
  provider.proxy = false;
  server.on('request', provider.callback());
  return {
    issuer,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A tiny browser: follows redirects by hand (keeping cookies) until one leaves the provider. */
export async function browse(issuer: string, url: string, jar: Map<string, string>, init: RequestInit = {}): Promise<{ res: Response; location?: string }> {
  let next: string | undefined = url;
  let opts: RequestInit = init;
  for (let i = 0; i < 20 && next !== undefined; i++) {
    if (!next.startsWith(issuer)) return { res: new Response(null), location: next };
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res: Response = await fetch(next, { ...opts, redirect: 'manual', headers: { ...(opts.headers as Record<string, string>), cookie } });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    const loc = res.headers.get('location');
    if (loc === null) return { res };
    next = new URL(loc, next).href;
    opts = {};
  }
  return { res: new Response(null), location: next };
}

/** Submits the dev interaction form on `page` (login or consent). */
async function submit(issuer: string, page: Response, jar: Map<string, string>, fields: Record<string, string>) {
  const html = await page.text();
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (action === undefined) throw new Error(`no form in: ${html.slice(0, 300)}`);
  const hidden = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  return browse(issuer, new URL(action, issuer).href, jar, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...hidden, ...fields }).toString() });
}

/** Signs `user` in at the provider from an authorization URL: the callback URL it redirects to. */
export async function signInAt(issuer: string, authorizationUrl: string, user = 'ann'): Promise<URL> {
  const jar = new Map<string, string>();
  const loginPage = await browse(issuer, authorizationUrl, jar);
  const consentPage = await submit(issuer, loginPage.res, jar, { login: user, password: 'any' });
  const done = consentPage.location !== undefined ? consentPage : await submit(issuer, consentPage.res, jar, {});
  return new URL(done.location!);
}
