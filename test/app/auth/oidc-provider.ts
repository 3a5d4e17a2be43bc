/**
 * A real OpenID provider for tests: the `oidc-provider` package (certified) on loopback, driven through its
 * development login and consent pages like a browser would. Accounts are made up from their login name:
 * `<name>` has `<name>@example.com`, verified unless the name starts with `unverified`.
 */
import type { AddressInfo } from 'node:net';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import Provider from 'oidc-provider';

export const REDIRECT = 'http://127.0.0.1:1/callback'; // never contacted: we read the redirect's Location

export interface TestProvider {
  issuer: string;
  /** The server's origin (the issuer may add a path). */
  origin: string;
  close(): Promise<void>;
}

/** How a test provider differs from the default one (shaped like Google's). */
export interface ProviderShape {
  /** The issuer's path below the origin (Microsoft's `/<tenant>/v2.0`); requests under it reach the provider. */
  path?: string;
  /** An account's claims from its login name. Default: `<name>@example.com`, verified unless `unverified…`. */
  claims?: (id: string) => Record<string, unknown>;
  /** Claims by scope (oidc-provider's `claims` setting). */
  scopes?: Record<string, string[]>;
  /** All of an account's claims in the ID token, as Microsoft and Apple put them (not only at userinfo). */
  claimsInIdToken?: boolean;
  tokenAuth?: 'client_secret_basic' | 'client_secret_post';
  /** Runs first on every request; a request it answers (`res.headersSent`) goes no further. */
  before?: (req: IncomingMessage & { body?: string }, res: ServerResponse) => Promise<void>;
  /** Answers for other paths (a multi-tenant discovery document). */
  extra?: (path: string) => unknown;
}

export async function startProvider(shape: ProviderShape = {}): Promise<TestProvider> {
  // The provider needs its own issuer URL before listening: bind first, then configure.
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const path = shape.path ?? '';
  const issuer = `${origin}${path}`;
  const claims = shape.claims ?? ((id: string) => ({ email: `${id}@example.com`, email_verified: !id.startsWith('unverified'), name: id }));
  const provider = new Provider(issuer, {
    clients: [{ client_id: 'notes', client_secret: 'notes-secret-notes-secret', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: shape.tokenAuth ?? 'client_secret_basic' }],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    issueRefreshToken: async () => true,
    claims: shape.scopes ?? { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    conformIdTokenClaims: shape.claimsInIdToken !== true,
    findAccount: async (_ctx: unknown, id: string) => ({ accountId: id, claims: async () => ({ sub: id, ...claims(id) }) }),
    cookies: { keys: ['cookie-key-cookie-key'] },
  });
  provider.proxy = false;
  const handle = provider.callback();
  server.on('request', (req: IncomingMessage & { originalUrl?: string; body?: string }, res: ServerResponse) => {
    void (async () => {
      await shape.before?.(req, res);
      if (res.headersSent) return;
      const url = req.url ?? '/';
      if (path !== '' && url.startsWith(`${path}/`)) {
        // Mounted below the issuer's path, as oidc-provider expects (it reads the mount from originalUrl).
        req.originalUrl = url;
        req.url = url.slice(path.length);
        return handle(req, res);
      }
      const answer = shape.extra?.(url);
      if (answer !== undefined) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(answer));
      }
      if (path === '') return handle(req, res);
      res.writeHead(404);
      res.end();
    })();
  });
  return {
    issuer,
    origin,
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
    if (!next.startsWith(new URL(issuer).origin)) return { res: new Response(null), location: next };
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

/** Signs `user` in at the provider from an authorization URL: where it ends (a redirect, or a page). */
async function signIn(issuer: string, authorizationUrl: string, user: string): Promise<{ res: Response; location?: string }> {
  const jar = new Map<string, string>();
  const loginPage = await browse(issuer, authorizationUrl, jar);
  const consentPage = await submit(issuer, loginPage.res, jar, { login: user, password: 'any' });
  return consentPage.location !== undefined ? consentPage : submit(issuer, consentPage.res, jar, {});
}

/** Signs `user` in at the provider from an authorization URL: the callback URL it redirects to. */
export async function signInAt(issuer: string, authorizationUrl: string, user = 'ann'): Promise<URL> {
  const done = await signIn(issuer, authorizationUrl, user);
  return new URL(done.location!);
}

/** The same for `response_mode=form_post`: the page's auto-submitting form, as the browser would post it. */
export async function signInPosted(issuer: string, authorizationUrl: string, user = 'ann'): Promise<{ action: string; form: URLSearchParams }> {
  const done = await signIn(issuer, authorizationUrl, user);
  const html = await done.res.text();
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (action === undefined) throw new Error(`no posted answer in: ${html.slice(0, 300)}`);
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)) form.append(m[1]!, m[2]!.replace(/&#x2F;/g, '/').replace(/&amp;/g, '&').replace(/&quot;/g, '"'));
  return { action, form };
}
