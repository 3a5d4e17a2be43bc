/**
 * #27.6: a route takes the body media types it declares. A JSON route refuses a form (a cross-site form
 * needs no preflight: with cookie sessions that would be CSRF), a list of types, a repeated or malformed
 * Content-Type; invalid UTF-8 in JSON is a 400, never stored with U+FFFD.
 */
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Type } from '@sinclair/typebox';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app/index.js';
import { parseMediaType } from '../../lib/app/media-type.js';

const app = createApp();
app.post('/json', { schema: { body: Type.Object({ text: Type.String() }) } }, (ctx) => ctx.body);
app.patch('/json', { schema: { body: Type.Object({ text: Type.String() }) } }, (ctx) => ctx.body);
app.post('/form', { schema: { consumes: ['application/x-www-form-urlencoded'], body: Type.Object({ text: Type.String() }) } }, (ctx) => ctx.body);
const post = (url: string, type: string | undefined, body: string | Buffer, method = 'POST') => app.inject({ method, url, body, headers: type === undefined ? {} : { 'content-type': type } });

afterAll(() => app.close());

describe('body media types', () => {
  it('a JSON route takes JSON (and +json), refuses a form with 415 naming what it takes (Accept-Post / Accept-Patch)', async () => {
    expect((await post('/json', 'application/json', '{"text":"a"}')).json()).toEqual({ text: 'a' });
    expect((await post('/json', 'application/json; charset=utf-8', '{"text":"a"}')).status).toBe(200);
    expect((await post('/json', 'Application/JSON ; charset="UTF-8"', '{"text":"a"}')).status).toBe(200);
    expect((await post('/json', 'application/vnd.api+json', '{"text":"a"}')).status).toBe(200);
    const form = await post('/json', 'application/x-www-form-urlencoded', 'text=a');
    expect(form.status).toBe(415);
    expect(form.headers['accept-post']).toBe('application/json');
    expect(form.json<{ detail: string }>().detail).toMatch(/takes application\/json, got "application\/x-www-form-urlencoded"/);
    expect((await post('/json', 'application/x-www-form-urlencoded', 'text=a', 'PATCH')).headers['accept-patch']).toBe('application/json');
    expect((await post('/json', 'text/plain', '{"text":"a"}')).status).toBe(415);
    expect((await post('/json', undefined, '{"text":"a"}')).status).toBe(415);
    expect((await post('/json', 'application/json; charset=latin1', '{"text":"a"}')).status).toBe(415);
    expect((await post('/json', 'application/jsonx', '{"text":"a"}')).status).toBe(415);
    // a route declaring a form takes the form, and not JSON
    expect((await post('/form', 'application/x-www-form-urlencoded', 'text=b')).json()).toEqual({ text: 'b' });
    expect((await post('/form', 'application/json', '{"text":"a"}')).status).toBe(415);
  });

  it('a list, a malformed value or a repeated Content-Type is 400', async () => {
    for (const t of ['application/json, text/plain', 'application/json; boundary="', 'application/json;;', 'application/json; a', 'json', '/json', 'application/json; a=1; a=2']) {
      expect((await post('/json', t, '{"text":"a"}')).status, t).toBe(400);
    }
    // Two Content-Type fields on the wire.
    const server = await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (server.address() as AddressInfo).port;
    const body = '{"text":"a"}';
    const answer = await new Promise<string>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => s.end(`POST /json HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`));
      let out = '';
      s.on('data', (d) => (out += d.toString()));
      s.on('end', () => resolve(out));
      s.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('invalid UTF-8 in a JSON body is 400, never replaced with U+FFFD', async () => {
    const bad = Buffer.concat([Buffer.from('{"text":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const r = await post('/json', 'application/json', bad);
    expect(r.status).toBe(400);
    expect(r.json<{ detail: string }>().detail).toMatch(/not valid UTF-8/);
    const surrogate = Buffer.concat([Buffer.from('{"text":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]);
    expect((await post('/json', 'application/json', surrogate)).status).toBe(400);
    expect((await post('/json', 'application/json', Buffer.from('{"text":"é"}'))).json()).toEqual({ text: 'é' });
  });

  it('parseMediaType: RFC 9110 §8.3 grammar', () => {
    expect(parseMediaType('text/html;charset="utf-8" ; q=1')).toEqual({ essence: 'text/html', params: { charset: 'utf-8', q: '1' } });
    expect(parseMediaType('a/b; x="q\\"uoted"')?.params.x).toBe('q"uoted');
    expect(parseMediaType('a/b;')).toEqual({ essence: 'a/b', params: {} });
    for (const bad of ['', 'a', 'a/', '/b', 'a/b c', 'a/b; x', 'a/b; x=', 'a/b; x="', 'a/b, c/d', 'a/b; x=1 2']) expect(parseMediaType(bad), bad).toBeNull();
  });
});
