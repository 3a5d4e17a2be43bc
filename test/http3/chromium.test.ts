/**
 * covet/http3 with a browser: headless Chromium forced onto QUIC for our origin (the test certificate's
 * key pinned by its SPKI hash) loads a page and fetches from it; the page sees `nextHopProtocol === 'h3'`,
 * and Chromium's QPACK encoder uses the dynamic table we allow.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { expect, it } from 'vitest';
import { createHttp3Server } from '../../lib/http3/index.js';
import { CHROMIUM, needPeers } from '../peers.js';
import { tempDir } from '../temp-dir.js';

it('Chromium loads a page and fetches JSON over HTTP/3', async (ctx) => {
  needPeers(ctx, CHROMIUM);
  const dir = tempDir('covet-h3-chromium-');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  const spki = execFileSync('sh', ['-c', `openssl x509 -in ${join(dir, 'cert.pem')} -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`]).toString().trim();
  const seen: string[] = [];
  let tableEntries = 0;
  let ourInserts = 0;
  const server = createHttp3Server((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.httpVersion}`);
    for (const s of server.sessions) {
      tableEntries = Math.max(tableEntries, s.decoder.tableLength);
      ourInserts = Math.max(ourInserts, s.encoder.insertCount);
    }
    res.setHeader('x-served-by', 'covet');
    if (req.url === '/data') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ over: req.httpVersion, ua: req.get('user-agent')?.includes('Chrome') === true }));
      return;
    }
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end('<!doctype html><title>h3</title><p>hello over HTTP/3</p>');
  }, { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) });
  const { port } = await server.listen({ host: '127.0.0.1' });
  const origin = `127.0.0.1:${port}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM.command, args: ['--no-sandbox', '--enable-quic', `--origin-to-force-quic-on=${origin}`, `--ignore-certificate-errors-spki-list=${spki}`] });
  try {
    const page = await browser.newPage();
    const r = await page.goto(`https://${origin}/`);
    expect(r?.status()).toBe(200);
    expect(await page.textContent('p')).toBe('hello over HTTP/3');
    const got = await page.evaluate(async () => {
      const res = await fetch('/data');
      const data = (await res.json()) as unknown;
      const nav = performance.getEntriesByType('navigation' as never)[0] as unknown as { nextHopProtocol: string };
      return { data, protocol: nav.nextHopProtocol, servedBy: res.headers.get('x-served-by') };
    });
    expect(got).toEqual({ data: { over: '3.0', ua: true }, protocol: 'h3', servedBy: 'covet' });
    // Our encoder inserted the page's fields into the table Chromium allows; /data's response referred to them.
    expect(ourInserts).toBeGreaterThan(0);
    expect(seen).toContain('GET /data 3.0');
    // Chromium's QPACK encoder inserts its fields into the dynamic table we allow: our decoder read them.
    expect(tableEntries).toBeGreaterThan(0);
  } finally {
    await browser.close();
    await server.close(0);
  }
}, 60_000);
