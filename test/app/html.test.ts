/**
 * Server-rendered HTML: escaping of every value (a property test over arbitrary strings), what each kind
 * of value writes, layouts and partials as functions, streaming (what precedes a wait is sent before it
 * over a real socket), `ctx.render`, the CSRF field — and a page in headless Chromium: a hostile value is
 * inert text, a form with the CSRF field posts, one without is refused.
 */
import net from 'node:net';
import fc from 'fast-check';
import { Type } from '@sinclair/typebox';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { createApp, escapeHtml, html, raw, safeJson, testClient, type Html } from '../../lib/app/index.js';
import { csrf, csrfField, MemorySessionStore, session } from '../../lib/app/auth/index.js';
import { CHROMIUM, needPeers } from '../peers.js';

const text = async (h: Html): Promise<string> => h.text();

describe('html templates', () => {
  it('escapes every string value: the text a browser decodes is the string, and no markup character survives (property)', () => {
    const decode = (s: string) => s.replace(/&lt;|&gt;|&quot;|&#39;|&amp;/g, (e) => ({ '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&amp;': '&' })[e]!);
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const out = html`<p title="${s}">${s}</p>`.toStringSync()!;
        const inner = out.slice(out.indexOf('>') + 1, -4);
        expect(inner).not.toMatch(/[<>"']/);
        expect(decode(inner)).toBe(s);
        expect(out.slice(10, out.indexOf('">'))).not.toMatch(/["<>]/);
      }),
      { numRuns: 500 },
    );
    expect(escapeHtml(`<img src=x onerror="alert('x')">&`)).toBe('&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;');
  });

  it('writes numbers, nothing for null/undefined/booleans, arrays and iterables item by item, nested templates as markup, raw as is; refuses objects', async () => {
    const items = ['a<b', 'c'];
    const h = html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>${null}${undefined}${false}${true && html`<b>yes</b>`}${0}${10n}${new Set(['x'])}${raw('<hr>')}`;
    expect(h.toStringSync()).toBe('<ul><li>a&lt;b</li><li>c</li></ul><b>yes</b>010x<hr>');
    expect(() => html`${{ a: 1 }}`.toStringSync()).toThrow(/cannot render a plain object/);
    expect(() => html`${() => 1}`.toStringSync()).toThrow(/cannot render a function/);
    expect(safeJson({ s: '</script><script>alert(1)</script>', t: '\u2028' }).value).toBe('{"s":"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e","t":"\\u2028"}');
  });

  it('layouts and partials are functions; promises and async iterables are awaited in place, in order', async () => {
    const layout = (title: string, body: Html) => html`<!doctype html><title>${title}</title><main>${body}</main>`;
    const card = (n: { title: string }) => html`<article>${n.title}</article>`;
    async function* rows() {
      yield html`<tr><td>1</td></tr>`;
      await new Promise((r) => setTimeout(r, 5));
      yield '<tr>';
    }
    const page = layout('T & T', html`${Promise.resolve([card({ title: 'one' }), card({ title: '<two>' })])}<table>${rows()}</table>`);
    expect(page.toStringSync()).toBeNull(); // something to wait for: render asynchronously
    expect(await text(page)).toBe('<!doctype html><title>T &amp; T</title><main><article>one</article><article>&lt;two&gt;</article><table><tr><td>1</td></tr>&lt;tr&gt;</table></main>');
  });

  it('streams: what comes before a slow value reaches the client before the value is ready (a real socket, HTTP/1.1 chunked)', async () => {
    let release!: (v: Html) => void;
    const slow = new Promise<Html>((r) => (release = r));
    const app = createApp();
    app.get('/page', (ctx) => ctx.render(html`<!doctype html><head><title>Feed</title></head><body>${slow}</body>`));
    app.get('/now', (ctx) => ctx.render(html`<p>${'ready'}</p>`, 201));
    const client = await testClient(app);
    try {
      const sock = net.connect(Number(new URL(client.url).port), '127.0.0.1');
      sock.write('GET /page HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      let got = '';
      sock.on('data', (d: Buffer) => (got += d.toString()));
      await expect.poll(() => got, { timeout: 5000 }).toContain('<title>Feed</title></head><body>');
      expect(got).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(got.toLowerCase()).toContain('content-type: text/html; charset=utf-8');
      expect(got.toLowerCase()).toContain('transfer-encoding: chunked');
      expect(got).not.toContain('late news');
      release(html`<p>${'late news'}</p>`);
      await new Promise((r) => sock.once('end', r));
      expect(got).toContain('<p>late news</p></body>');
      // Nothing to wait for: one string, with its length.
      const now = await client.request('/now');
      expect(now.status).toBe(201);
      expect(now.headers['content-length']).toBe(String('<p>ready</p>'.length));
    } finally {
      await client.close();
    }
  });
});

it('a page in headless Chromium: a hostile value stays text, a form with the CSRF field posts, one without is refused', { timeout: 60_000 }, async (ctx) => {
  needPeers(ctx, CHROMIUM); // installed by .ci/run; mandatory under CI
  const app = createApp();
  app.use(session({ store: new MemorySessionStore(), secrets: ['a session secret of some length'], cookie: { secure: false } }));
  app.use(csrf({ mode: 'synchronizer' }));
  const notes: string[] = [];
  const layout = (title: string, body: Html) => html`<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;
  app.get('/', (c) =>
    c.render(
      layout(
        'Notes',
        html`<ul id="notes">${notes.map((n) => html`<li>${n}</li>`)}</ul>
          <p id="echo">${(c.query as { q?: string }).q ?? ''}</p>
          <form id="with" method="post" action="/notes">${csrfField(c)}<input name="text"><button>Add</button></form>
          <form id="without" method="post" action="/notes"><input name="text"><button>Add</button></form>`,
      ),
    ),
  );
  app.post('/notes', { schema: { consumes: ['application/json', 'application/x-www-form-urlencoded'], body: Type.Object({ text: Type.String({ maxLength: 200 }) }) } }, async (c) => {
    notes.push(c.body.text);
    c.res.statusCode = 303;
    c.res.setHeader('location', '/');
    return '';
  });
  const client = await testClient(app);
  const browser = await chromium.launch({ executablePath: CHROMIUM.command, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    let dialogs = 0;
    page.on('dialog', (d) => void (dialogs++, d.dismiss()));
    const hostile = `<img src=x onerror="window.pwned=1;alert(1)"><script>window.pwned=2</script>`;
    await page.goto(`${client.url}/?q=${encodeURIComponent(hostile)}`);
    expect(await page.locator('#echo').innerText()).toBe(hostile); // shown as text
    expect(await page.locator('#echo img, #echo script').count()).toBe(0);
    expect(await page.evaluate('typeof window.pwned')).toBe('undefined');
    expect(dialogs).toBe(0);
    // The form carrying the token posts and redirects back; the note is listed (escaped).
    await page.locator('#with input[name=text]').fill('<b>milk</b> & eggs');
    const [posted] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/notes')), page.locator('#with button').click()]);
    expect(posted.status()).toBe(303);
    await page.waitForURL(`${client.url}/`);
    expect(await page.locator('#notes li').allInnerTexts()).toEqual(['<b>milk</b> & eggs']);
    // The form without it is refused.
    await page.locator('#without input[name=text]').fill('forged');
    const [refused] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/notes')), page.locator('#without button').click()]);
    expect(refused.status()).toBe(403);
    expect(notes).toEqual(['<b>milk</b> & eggs']);
  } finally {
    await browser.close();
    await client.close();
  }
});
