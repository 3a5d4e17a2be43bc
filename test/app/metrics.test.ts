import { describe, expect, it } from 'vitest';
import { createApp, HttpError, metrics } from '../../lib/app/index.js';
import { Cache, MemoryBackend } from '../../lib/app/cache/index.js';
import { testDb, testSqlite } from './db/helpers.js';

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

  it('reports database pools (PostgreSQL: open, busy, waiting, max; SQLite) and caches (reads by outcome, loads, entries)', async () => {
    const pg = await testDb('postgres', { max: 2 });
    const sqlite = testSqlite();
    const cache = new Cache({ backend: new MemoryBackend({ maxEntries: 100 }) });
    const app = createApp();
    metrics(app, { defaultMetrics: false, databases: { main: pg.db, local: sqlite.db }, caches: { pages: cache } });
    try {
      await cache.getOrSet('a', () => 1); // miss + load
      await cache.getOrSet('a', () => 1); // hit
      await cache.get('b'); // miss
      // Two transactions hold both connections; a query waits for one.
      const hold = () => pg.db.transaction(async (tx) => void (await tx.query('select pg_sleep(0.3)')));
      const held: Array<Promise<unknown>> = [hold(), hold()];
      await new Promise((r) => setTimeout(r, 50));
      held.push(pg.db.query('select 1'));
      await new Promise((r) => setTimeout(r, 100));
      const text = (await app.inject({ url: '/metrics' })).text();
      await Promise.all(held);
      expect(text).toMatch(/^covet_db_pool_max\{db="main"\} 2$/m);
      expect(text).toMatch(/^covet_db_pool_connections\{db="main"\} 2$/m);
      expect(text).toMatch(/^covet_db_pool_busy\{db="main"\} 2$/m);
      expect(text).toMatch(/^covet_db_pool_waiting\{db="main"\} 1$/m);
      expect(text).toMatch(/^covet_db_pool_max\{db="local"\} 1$/m);
      expect(text).toMatch(/^covet_db_pool_busy\{db="local"\} 0$/m);
      expect(text).toMatch(/^covet_cache_reads_total\{cache="pages",outcome="hit"\} 1$/m);
      expect(text).toMatch(/^covet_cache_reads_total\{cache="pages",outcome="miss"\} 2$/m);
      expect(text).toMatch(/^covet_cache_loads_total\{cache="pages"\} 1$/m);
      expect(text).toMatch(/^covet_cache_local_entries\{cache="pages"\} 1$/m);
    } finally {
      await pg.drop();
      await sqlite.drop();
    }
  });
});
