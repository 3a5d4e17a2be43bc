import { describe, expect, it } from 'vitest';
import { createApp, HttpError, metrics } from '../../lib/app/index.js';

describe('metrics', () => {
  it('counts requests by route pattern and sent status, times them, and reports open connections and event-loop lag', async () => {
    const app = createApp();
    app.config.onError = () => {};
    metrics(app);
    app.get('/notes/{id:int}', (ctx) => {
      if (ctx.params.id === 0) throw new HttpError(404);
      if (ctx.params.id === 13) throw new Error('unlucky');
      return { id: ctx.params.id };
    });
    const server = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      for (const path of ['/notes/1', '/notes/2', '/notes/0', '/notes/13', '/nowhere/a', '/nowhere/b']) await (await fetch(base + path)).arrayBuffer();
      const res = await fetch(`${base}/metrics`);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const text = await res.text();
      const value = (line: string): number => {
        const m = text.split('\n').find((l) => l.startsWith(line + ' '));
        if (m === undefined) throw new Error(`no sample ${line}`);
        return Number(m.slice(line.length + 1));
      };
      expect(value('http_requests_total{method="GET",route="/notes/{id:int}",status="200"}')).toBe(2);
      expect(value('http_requests_total{method="GET",route="/notes/{id:int}",status="404"}')).toBe(1);
      expect(value('http_requests_total{method="GET",route="/notes/{id:int}",status="500"}')).toBe(1);
      expect(value('http_requests_total{method="GET",route="(unmatched)",status="404"}')).toBe(2);
      expect(value('http_request_duration_seconds_count{method="GET",route="/notes/{id:int}",status="200"}')).toBe(2);
      expect(value('http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/notes/{id:int}",status="200"}')).toBe(2);
      expect(value('http_open_connections')).toBeGreaterThanOrEqual(1);
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
      // The raw paths never become labels.
      expect(text).not.toContain('/nowhere');
    } finally {
      await app.close(100);
    }
  });
});
