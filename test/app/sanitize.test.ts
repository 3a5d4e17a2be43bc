/**
 * Rich text from users (#33 point 6): `sanitizeHtml` keeps the allowlist and nothing else. An XSS corpus —
 * scripts, handlers, URL schemes in their encodings, elements that run or load things, and the parser
 * differentials behind mutation XSS — is sanitized here, then parsed by real Chromium: the DOM it builds has
 * no element, attribute or URL that can run script, and nothing ran. The output is stable (sanitizing it again,
 * or what Chromium serializes from it, changes nothing that matters).
 */
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { html, RICH_TEXT, sanitizeHtml, type SanitizeOptions } from '../../lib/app/index.js';
import { CHROMIUM, needPeers } from '../peers.js';

const clean = (dirty: string, o?: SanitizeOptions): string => sanitizeHtml(dirty, o).value;

/** Written for this test; each would call `__xss()` if it got through. */
const CORPUS = [
  '<script>__xss()</script>',
  '<scr<script>ipt>__xss()</script>',
  '<img src=x onerror=__xss()>',
  '<img src=x:alert onerror=__xss()>',
  '<svg onload=__xss()>',
  '<svg><script>__xss()</script></svg>',
  '<svg><a xlink:href="javascript:__xss()"><text>x</text></a></svg>',
  '<math><mtext><table><mglyph><style><img src=x onerror=__xss()>',
  '<math href="javascript:__xss()">x</math>',
  '<a href="javascript:__xss()">x</a>',
  '<a href="JaVaScRiPt:__xss()">x</a>',
  '<a href="jav&#x09;ascript:__xss()">x</a>',
  '<a href="&#106;avascript:__xss()">x</a>',
  '<a href="&#0000106&#0000097vascript:__xss()">x</a>',
  '<a href=" javascript:__xss()">x</a>',
  '<a href="javas\u0000cript:__xss()">x</a>',
  '<a href="data:text/html,<script>__xss()</script>">x</a>',
  '<a href="vbscript:__xss()">x</a>',
  '<a href="https://example.com" onmouseover=__xss()>x</a>',
  '<iframe src="javascript:__xss()"></iframe>',
  '<iframe srcdoc="<script>parent.__xss()</script>"></iframe>',
  '<object data="javascript:__xss()"></object>',
  '<embed src="javascript:__xss()">',
  '<body onload=__xss()>',
  '<div style="background:url(javascript:__xss())">x</div>',
  '<style>@import "javascript:__xss()";</style>',
  '<link rel=stylesheet href="javascript:__xss()">',
  '<meta http-equiv="refresh" content="0;url=javascript:__xss()">',
  '<base href="javascript:__xss()//">',
  '<form action="javascript:__xss()"><button>x</button></form>',
  '<button formaction="javascript:__xss()">x</button>',
  '<input autofocus onfocus=__xss()>',
  '<details open ontoggle=__xss()>x</details>',
  '<video><source onerror=__xss()></video>',
  '<p title="</p><img src=x onerror=__xss()>">x</p>',
  '<noscript><p title="</noscript><img src=x onerror=__xss()>"></noscript>',
  '<!--<img src=x onerror=__xss()>-->',
  '<![CDATA[<img src=x onerror=__xss()>]]>',
  '<img src="x" alt="&quot; onerror=__xss()">',
  '<template><img src=x onerror=__xss()></template>',
  '<textarea><img src=x onerror=__xss()></textarea>',
  '<title><img src=x onerror=__xss()></title>',
  '<xmp><img src=x onerror=__xss()></xmp>',
  '<div><<img src=x onerror=__xss()>></div>',
  '<isindex type=image src=1 onerror=__xss()>',
  '<a href="//evil.example/x">x</a>',
  '<table><td><a href="javascript:__xss()">x</a></td></table>',
  '<p>fine <b>bold</b> <a href="https://example.com/a?b=c&amp;d">link</a></p>',
];

describe('sanitizeHtml', () => {
  it('keeps rich text and links (marked as users’ links), drops what can run or load', () => {
    expect(clean('<p onclick="x()">Hi <a href="javascript:x()">you</a><script>x()</script></p>')).toBe('<p>Hi <a rel="nofollow noopener noreferrer ugc">you</a></p>');
    expect(clean('<p><a href="https://example.com/" title="t" target="_blank">x</a></p>')).toBe('<p><a href="https://example.com/" title="t" rel="nofollow noopener noreferrer ugc">x</a></p>');
    expect(clean('<a href="/notes/1">rel</a> <a href="mailto:a@example.com">m</a>')).toBe('<a href="/notes/1" rel="nofollow noopener noreferrer ugc">rel</a> <a href="mailto:a@example.com" rel="nofollow noopener noreferrer ugc">m</a>');
    expect(clean('<h2 style="color:red" class="x">T</h2><ul><li>a</li></ul><pre><code>1 &lt; 2</code></pre>')).toBe('<h2>T</h2><ul><li>a</li></ul><pre><code>1 &lt; 2</code></pre>');
    expect(clean('<blink>text kept</blink><script>gone()</script><style>p{}</style>')).toBe('text kept');
    expect(clean('<img src="https://example.com/a.png" alt="a">')).toBe(''); // no images unless asked
    expect(clean('<img src="https://example.com/a.png" alt="a" onerror="x()"><img src="data:image/png;base64,AA">', { tags: [...RICH_TEXT, 'img'] })).toBe('<img src="https://example.com/a.png" alt="a" /><img />');
    expect(clean('<p>x</p><b>y</b>', { tags: ['b'] })).toBe('x<b>y</b>');
    expect(clean('<a href="ftp://example.com/f">f</a>', { schemes: ['ftp'] })).toBe('<a href="ftp://example.com/f" rel="nofollow noopener noreferrer ugc">f</a>');
    expect(clean('<a href="https://example.com/" rel="opener">x</a>')).toBe('<a href="https://example.com/" rel="nofollow noopener noreferrer ugc">x</a>');
    expect(clean('<p>x</p>', { attributes: { p: ['class'] } })).toBe('<p>x</p>');
    expect(clean('<p class="c">x</p>', { attributes: { p: ['class'] } })).toBe('<p class="c">x</p>');
  });

  it('is a Raw for the html templates, which escape everything else', async () => {
    const comment = '<b>bold</b><img src=x onerror=x()>';
    expect(await html`<div>${sanitizeHtml(comment)}</div><div>${comment}</div>`.text()).toBe('<div><b>bold</b></div><div>&lt;b&gt;bold&lt;/b&gt;&lt;img src=x onerror=x()&gt;</div>');
  });

  it('refuses input past maxLength with a 413 (at the limit it is read)', () => {
    expect(clean('a'.repeat(10), { maxLength: 10 })).toBe('a'.repeat(10));
    expect(() => clean('a'.repeat(11), { maxLength: 10 })).toThrow(expect.objectContaining({ status: 413 }));
    expect(clean('a'.repeat(512 * 1024))).toHaveLength(512 * 1024);
    expect(() => clean('a'.repeat(512 * 1024 + 1))).toThrow(expect.objectContaining({ status: 413 }));
  });

  it('is stable: sanitizing its output again changes nothing', () => {
    for (const v of CORPUS) expect(clean(clean(v)), v).toBe(clean(v));
  });

  it('leaves nothing that runs in what Chromium builds from it, nor from its re-serialization', async (ctx) => {
    needPeers(ctx, CHROMIUM);
    const browser = await chromium.launch({ executablePath: CHROMIUM.command, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      await page.goto('data:text/html,<!doctype html><body></body>');
      // What Chromium's parser makes of each output: anything that could run, as a list of findings.
      const inspect = (outputs: string[]) =>
        page.evaluate((items) => {
          // The page's DOM (no DOM types in this project): what this check uses of it.
          interface El { localName: string; innerHTML: string; getAttributeNames(): string[]; getAttribute(n: string): string | null; querySelectorAll(s: string): Iterable<El> }
          const w = globalThis as unknown as { __xss: () => void; ran: number; document: { createElement(n: string): El; body: { append(e: El): void } } };
          const document = w.document;
          w.ran = 0;
          w.__xss = () => void w.ran++;
          const bad = ['script', 'iframe', 'object', 'embed', 'svg', 'math', 'style', 'link', 'meta', 'base', 'form', 'input', 'button', 'template', 'textarea', 'video', 'source', 'noscript', 'xmp', 'frame', 'frameset'];
          const findings: string[] = [];
          const serialized: string[] = [];
          for (const item of items) {
            const host = document.createElement('div');
            document.body.append(host);
            host.innerHTML = item;
            serialized.push(host.innerHTML);
            for (const el of host.querySelectorAll('*')) {
              const name = el.localName;
              if (bad.includes(name)) findings.push(`${item}: <${name}>`);
              for (const a of el.getAttributeNames()) {
                if (a.startsWith('on') || a === 'style' || a === 'srcdoc' || a === 'formaction' || a === 'action' || a.includes(':')) findings.push(`${item}: ${name}[${a}]`);
              }
              for (const a of ['href', 'src']) {
                const v = el.getAttribute(a);
                if (v === null) continue;
                const protocol = new URL(v, 'https://notes.example/').protocol;
                if (!['http:', 'https:', 'mailto:'].includes(protocol)) findings.push(`${item}: ${name}[${a}] ${protocol}`);
                if (a === 'href' && v.startsWith('//')) findings.push(`${item}: protocol-relative ${v}`);
              }
              if (name === 'a' && el.getAttribute('rel') !== 'nofollow noopener noreferrer ugc') findings.push(`${item}: a without rel`);
            }
          }
          return { findings, serialized, ran: w.ran };
        }, outputs);
      const outputs = CORPUS.map((v) => clean(v));
      const first = await inspect(outputs);
      expect(first.findings).toEqual([]);
      // What a browser serializes back (an editor saving the page) goes through the sanitizer again: still clean.
      const second = await inspect(first.serialized.map((s) => clean(s)));
      expect(second.findings).toEqual([]);
      // The harmless sample survives whole, so the check is not passing on empty output.
      expect(first.serialized.at(-1)).toBe('<p>fine <b>bold</b> <a href="https://example.com/a?b=c&amp;d" rel="nofollow noopener noreferrer ugc">link</a></p>');
      // And the corpus is dangerous as it stands: unsanitized, Chromium finds plenty.
      const unsanitized = await inspect(CORPUS);
      expect(unsanitized.findings.length).toBeGreaterThan(CORPUS.length / 2);
      expect(first.ran + second.ran).toBe(0);
    } finally {
      await browser.close();
    }
  });
});
