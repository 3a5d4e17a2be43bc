import { Type } from '@sinclair/typebox';
import { chromium } from 'playwright-core';
import { expect, it } from 'vitest';
import { createApp, securityHeaders, testClient } from '../../lib/app/index.js';
import { bearerAuth } from '../../lib/app/auth/index.js';

import { CHROMIUM, needPeers } from '../peers.js';

it('the /docs page lists the routes and "try it out" performs a real request (headless Chromium)', { timeout: 60_000 }, async (ctx) => {
  needPeers(ctx, CHROMIUM); // installed by .ci/run; mandatory under CI
  const app = createApp({ openapi: { info: { title: 'Docs test', version: '1.0.0' } } });
  app.use(securityHeaders()); // app-wide policy; the page itself carries its own CSP (no inline script allowed)
  const seen: number[] = [];
  app.get('/notes/{id:int}', { summary: 'One note', schema: { params: Type.Object({ id: Type.Integer() }) } }, (ctx) => {
    seen.push(ctx.params.id);
    return { id: ctx.params.id, text: 'from the server' };
  });
  const client = await testClient(app);
  const browser = await chromium.launch({ executablePath: CHROMIUM.command, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    const cspErrors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && /Content Security Policy/i.test(m.text()) && cspErrors.push(m.text()));
    const page0 = await page.goto(`${client.url}/docs`);
    expect(page0?.headers()['content-security-policy']).toContain("default-src 'self'");
    const op = page.locator('.opblock-summary', { hasText: '/notes/{id}' });
    await op.waitFor({ timeout: 20_000 });
    expect(await page.locator('.opblock-summary-path').allInnerTexts()).toEqual(expect.arrayContaining([expect.stringContaining('/notes/{id}')]));
    await op.click();
    await page.locator('.try-out__btn').click();
    await page.locator('tr[data-param-name="id"] input').fill('42');
    await page.locator('.execute').click();
    const status = page.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor({ timeout: 20_000 });
    expect((await status.innerText()).trim()).toBe('200');
    expect(await page.locator('.live-responses-table .response .response-col_description').first().innerText()).toContain('from the server');
    expect(seen).toEqual([42]);
    expect(cspErrors).toEqual([]);
  } finally {
    await browser.close();
    await client.close();
  }
});

it('the Authorize button takes a bearer token and "try it out" sends it to a secured route (headless Chromium)', { timeout: 60_000 }, async (ctx) => {
  needPeers(ctx, CHROMIUM);
  const app = createApp({ openapi: { info: { title: 'Auth docs test', version: '1.0.0' } } });
  const auth = bearerAuth({ verify: (t) => (t === 'tok-123' ? { name: 'ann' } : undefined), bearerFormat: 'opaque' });
  app.get('/me', { summary: 'Who am I', deps: [auth] }, (ctx) => ({ user: (ctx.state.user as { name: string }).name }));
  const client = await testClient(app);
  const browser = await chromium.launch({ executablePath: CHROMIUM.command, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    await page.goto(`${client.url}/docs`);
    const op = page.locator('.opblock-summary', { hasText: '/me' });
    await op.waitFor({ timeout: 20_000 });
    // Without a token the route answers 401 from the page too.
    await op.click();
    await page.locator('.try-out__btn').click();
    await page.locator('.execute').click();
    const status = page.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor({ timeout: 20_000 });
    expect((await status.innerText()).trim()).toBe('401');
    // Authorize: the scheme from the dep is offered; enter the token.
    await page.locator('.auth-wrapper .authorize').click();
    const modal = page.locator('.modal-ux');
    await modal.waitFor({ timeout: 10_000 });
    expect(await modal.innerText()).toContain('bearerAuth');
    await modal.locator('input').first().fill('tok-123');
    await modal.locator('.auth-btn-wrapper .authorize').click();
    await modal.locator('.btn-done, .close-modal').first().click();
    await page.locator('.execute').click();
    await page.locator('.live-responses-table .response .response-col_status', { hasText: /^\s*200\s*$/ }).first().waitFor({ timeout: 20_000 });
    expect(await page.locator('.live-responses-table .response .response-col_description').first().innerText()).toContain('ann');
  } finally {
    await browser.close();
    await client.close();
  }
});
