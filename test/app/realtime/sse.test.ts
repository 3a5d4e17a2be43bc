import { request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../lib/app/index.js';
import { sse, SseTopic } from '../../../lib/app/realtime/index.js';
import { waitFor } from '../../helpers/wait-for.js';

const closers: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of closers) await c();
});

/** Opens an event stream; `events` fills as they arrive (parsed), `raw` keeps the text. */
function open(port: number, path: string, headers: Record<string, string> = {}) {
  const events: Array<{ id?: string; event?: string; data: string }> = [];
  let raw = '';
  let res!: IncomingMessage;
  const ready = new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (r) => {
      res = r;
      let buf = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => {
        raw += d;
        buf += d;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const e: { id?: string; event?: string; data: string } = { data: '' };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) e.id = line.slice(4);
            else if (line.startsWith('event: ')) e.event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length > 0) {
            e.data = data.join('\n');
            events.push(e);
          }
        }
      });
      resolve();
    });
    req.on('error', reject);
    req.end();
  });
  return { events, get raw() { return raw; }, ready, close: () => res.destroy(), get headers() { return res.headers; } };
}

const until = (cond: () => boolean) => waitFor(cond, 3000);

describe('Server-Sent Events', () => {
  it('a topic streams to every subscriber, resumes from Last-Event-ID, and says reset when too far behind', async () => {
    // Heartbeats also find clients that left: a write to a closed connection fails and ends the stream.
    const topic = new SseTopic({ keep: 3, heartbeatMs: 50 });
    const app = createApp();
    app.get('/events', (ctx) => void topic.subscribe(ctx));
    const server = await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => app.close(100));
    const port = (server.address() as AddressInfo).port;
    const a = open(port, '/events');
    await a.ready;
    expect(a.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    await until(() => topic.subscribers === 1);
    topic.publish({ event: 'note', data: { id: 1 } });
    topic.publish({ data: 'line one\nline two' });
    await until(() => a.events.length === 2);
    expect(a.events).toEqual([{ id: '1', event: 'note', data: '{"id":1}' }, { id: '2', data: 'line one\nline two' }]);
    a.close();
    await until(() => topic.subscribers === 0);
    for (let i = 0; i < 3; i++) topic.publish({ data: `later ${i}` }); // ids 3, 4, 5 — keep=3 holds exactly these
    const resumed = open(port, '/events', { 'last-event-id': '2' });
    await until(() => resumed.events.length === 3);
    expect(resumed.events.map((e) => e.id)).toEqual(['3', '4', '5']);
    const tooOld = open(port, '/events', { 'last-event-id': '1' });
    await until(() => tooOld.events.length === 1);
    expect(tooOld.events[0]).toMatchObject({ event: 'reset' });
    resumed.close();
    tooOld.close();
  });

  it('a handler may return topic.subscribe(ctx): the stream stays open; a subscriber whose response ended is dropped, never failing the publisher (#27)', async () => {
    const topic = new SseTopic({ heartbeatMs: 0 });
    const app = createApp();
    app.get('/events', (ctx) => topic.subscribe(ctx));
    // A subscriber whose response someone else ended.
    app.get('/ended', (ctx) => {
      topic.subscribe(ctx);
      ctx.res.end();
    });
    app.post('/publish', () => ({ id: topic.publish({ data: 'x' }) }));
    const server = await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => app.close(100));
    const port = (server.address() as AddressInfo).port;
    const a = open(port, '/events');
    await a.ready;
    await until(() => topic.subscribers === 1);
    expect(a.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    await fetch(`http://127.0.0.1:${port}/ended`).then((r) => r.text());
    const pub = await fetch(`http://127.0.0.1:${port}/publish`, { method: 'POST' });
    expect(pub.status).toBe(200);
    await until(() => a.events.length === 1);
    expect(topic.subscribers).toBe(1);
    a.close();
  });

  it('sends heartbeats, and drops a client that stops reading past the buffer limit', async () => {
    const app = createApp();
    let stream: ReturnType<typeof sse> | undefined;
    app.get('/hb', (ctx) => {
      stream = sse(ctx, { heartbeatMs: 50, retryMs: 2000, maxBufferedBytes: 256 * 1024 });
    });
    const server = await app.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => app.close(100));
    const port = (server.address() as AddressInfo).port;
    const c = open(port, '/hb');
    await c.ready;
    await until(() => (c.raw.match(/: ping/g) ?? []).length >= 2);
    expect(c.raw.startsWith('retry: 2000\n\n')).toBe(true);
    c.close();
    await until(() => stream!.closed);
    // A client that reads nothing: the server keeps sending until its buffer passes the limit, then drops it.
    const stalled = await new Promise<IncomingMessage>((resolve) => request({ host: '127.0.0.1', port, path: '/hb' }, resolve).end());
    stalled.pause();
    await until(() => stream !== undefined && !stream.closed);
    const big = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 2000 && !stream!.closed; i++) {
      stream!.send({ data: big });
      await new Promise((r) => setImmediate(r));
    }
    expect(stream!.closed).toBe(true);
    stalled.destroy();
  });
});
