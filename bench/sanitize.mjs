// Rich text from users (#33): covet's sanitizeHtml (sanitize-html under an allowlist) against DOMPurify over
// jsdom (its recommended DOM) on the same comment, the same allowlist, benchmark.js, rounds interleaved. jsdom
// needs Node ≥ 22: run on 24 (BENCH_NODE=24). Each output is checked to hold no handler and no script first.
import { sanitizeHtml, RICH_TEXT } from '../dist/lib/app/index.js';
import { fmt, interleavedRounds, log, table, writeSection } from './lib.mjs';

export async function runSanitizeBench() {
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
  const comment = ('<p>Thanks for the <b>write-up</b>! See <a href="https://example.com/docs?x=1" onclick="x()">the docs</a> and <code>npm i covet</code>.</p><ul><li>one</li><li>two <em>three</em><img src=x onerror=x()></li></ul>').repeat(8);
  let purify = null;
  try {
    const { JSDOM } = await import('jsdom');
    const createDOMPurify = (await import('dompurify')).default;
    const p = createDOMPurify(new JSDOM('').window);
    const config = { ALLOWED_TAGS: [...RICH_TEXT], ALLOWED_ATTR: ['href', 'title'] };
    purify = () => p.sanitize(comment, config);
  } catch (err) {
    log(`DOMPurify over jsdom left out on Node ${process.version}: ${err.message}`);
  }
  const ours = () => sanitizeHtml(comment).value;
  for (const [name, fn] of [['covet sanitizeHtml', ours], ...(purify === null ? [] : [['DOMPurify + jsdom', purify]])]) {
    const out = fn();
    if (/onerror|onclick|<img|<script/i.test(out) || !out.includes('the docs')) throw new Error(`${name} gave ${out.slice(0, 200)}`);
  }
  const m = await interleavedRounds([['covet sanitizeHtml', ours], ...(purify === null ? [] : [['DOMPurify + jsdom', purify]])], ROUNDS, (r, hz) =>
    log(`round ${r + 1}: ${Object.entries(hz).map(([k, v]) => `${k} ${fmt(v)}/s`).join(', ')}`),
  );
  writeSection(
    '73-sanitize',
    `## Users' rich text (#33; benchmark.js, median of ${ROUNDS} rounds, ${process.version})\n\n` +
      `A ${comment.length}-byte comment (paragraphs, a link with a handler, a list, an image with one), the same allowlist.\n\n` +
      table(['sanitizer', 'comments/s'], Object.entries(m).map(([k, v]) => [k, fmt(v)])) +
      (purify === null ? '\n' : `\n\ncovet / DOMPurify + jsdom: ${(m['covet sanitizeHtml'] / m['DOMPurify + jsdom']).toFixed(2)}×.\n`),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await runSanitizeBench();
