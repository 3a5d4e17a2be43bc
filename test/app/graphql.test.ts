/**
 * GraphQL with real clients: fetch over HTTP (the GraphQL-over-HTTP spec's media types and statuses),
 * graphql-ws's own client over WebSocket, an SSE stream; depth and cost limits; persisted queries
 * (automatic and trusted); and batching that keeps resolvers over the ORM from issuing a query per item
 * (statements counted on the real PostgreSQL).
 */
import { buildSchema, type GraphQLField, type GraphQLObjectType } from 'graphql';
import { createClient } from 'graphql-ws';
import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, testClient, type TestClient } from '../../lib/app/index.js';
import type { Queryable } from '../../lib/app/db/index.js';
import { Loader, rowsBy } from '../../lib/app/graphql/index.js';
import { createOrm, integer, serial, table, text } from '../../lib/app/orm/index.js';
import { testDb, type TestDb } from './db/helpers.js';

const users = table('gq_users', { id: serial().primaryKey(), name: text().notNull() });
const notes = table('gq_notes', { id: serial().primaryKey(), ownerId: integer().notNull(), title: text().notNull() });

const sdl = `
  type User { id: Int!, name: String!, notes(first: Int): [Note!]! }
  type Note { id: Int!, title: String!, owner: User! }
  type Query { notes(first: Int): [Note!]!, hello(name: String!): String! }
  type Mutation { rename(id: Int!, name: String!): User }
  type Subscription { ticks(count: Int!): Int! }
`;

let t: TestDb;
let client: TestClient;
const statements: string[] = [];


beforeAll(async () => {
  t = await testDb('postgres');
  await t.db.exec('create table gq_users (id serial primary key, name text not null); create table gq_notes (id serial primary key, owner_id integer not null, title text not null)');
  const counting: Queryable = {
    query: (q, v, o) => (statements.push(typeof q === 'string' ? q : q.compile().text), t.db.query(q, v, o)),
    sql: (s, ...v) => t.db.sql(s, ...v),
    transaction: (fn, o) => t.db.transaction(fn, o),
  };
  const orm = createOrm(counting, { tables: { users, notes } });
  const us = await orm.users.insert(Array.from({ length: 5 }, (_, i) => ({ name: `user ${i}` })));
  await orm.notes.insert(Array.from({ length: 20 }, (_, i) => ({ ownerId: us[i % 5]!.id, title: `note ${i}` })));

  const schema = buildSchema(sdl);
  const field = (type: string, name: string) => (schema.getType(type) as GraphQLObjectType).getFields()[name] as GraphQLField<unknown, Ctx>;
  type Ctx = { userById: Loader<number, { id: number; name: string } | undefined>; notesByOwner: Loader<number, Array<{ id: number; title: string; ownerId: number }>> };
  field('Query', 'notes').resolve = (_r, a: { first?: number }) => orm.notes.findMany({ orderBy: { id: 'asc' }, limit: a.first ?? 100 });
  field('Query', 'hello').resolve = (_r, a: { name: string }) => `hello ${a.name}`;
  field('Note', 'owner').resolve = (n, _a, c) => c.userById.load((n as { ownerId: number }).ownerId);
  field('User', 'notes').resolve = (u, _a, c) => c.notesByOwner.load((u as { id: number }).id);
  field('Mutation', 'rename').resolve = async (_r, a: { id: number; name: string }) => (await orm.users.update({ id: a.id }, { name: a.name }))[0];
  const sub = field('Subscription', 'ticks');
  sub.subscribe = async function* (_r, a: { count: number }) {
    for (let i = 1; i <= a.count; i++) {
      await new Promise((r) => setTimeout(r, 5));
      yield { ticks: i };
    }
  };

  const app = createApp();
  app.graphql({ schema, maxDepth: 5, maxCost: 400, context: () => ({ userById: rowsBy(orm.users, 'id'), notesByOwner: rowsBy(orm.notes, 'ownerId', true) }) });
  client = await testClient(app);
}, 30_000);

afterAll(async () => {
  await client.close();
  await t.drop();
});

const GQL = 'application/graphql-response+json';
const post = (body: unknown, accept = GQL, type = 'application/json') =>
  fetch(`${client.url}/graphql`, { method: 'POST', headers: { 'content-type': type, accept }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('GraphQL over HTTP (the GraphQL-over-HTTP spec)', () => {
  it('POST and GET queries; the response type follows Accept; a mutation over GET is 405 with Allow: POST', async () => {
    const r = await post({ query: 'query Q($n: String!) { hello(name: $n) }', variables: { n: 'Ada' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe(`${GQL}; charset=utf-8`);
    expect(await r.json()).toEqual({ data: { hello: 'hello Ada' } });
    const g = await fetch(`${client.url}/graphql?query=${encodeURIComponent('{ hello(name: "Bo") }')}`, { headers: { accept: 'application/json' } });
    expect(g.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await g.json()).toEqual({ data: { hello: 'hello Bo' } });
    const m = await fetch(`${client.url}/graphql?query=${encodeURIComponent('mutation { rename(id: 1, name: "x") { id } }')}`, { headers: { accept: GQL } });
    expect(m.status).toBe(405);
    expect(m.headers.get('allow')).toBe('POST');
    const two = await post({ query: 'query A { hello(name: "a") } query B { hello(name: "b") }', operationName: 'B' });
    expect(await two.json()).toEqual({ data: { hello: 'hello b' } });
  });

  it('requests that cannot run: 400 in graphql-response+json, 200 in application/json; 406, 415', async () => {
    const syntax = await post({ query: '{ hello(' });
    expect(syntax.status).toBe(400);
    expect(((await syntax.json()) as { errors: Array<{ message: string }> }).errors[0]!.message).toMatch(/Syntax Error/);
    expect((await post({ query: '{ nope }' })).status).toBe(400);
    expect((await post({ query: 'query Q($n: String!) { hello(name: $n) }', variables: { n: 5 } })).status).toBe(400);
    expect((await post('{not json')).status).toBe(400);
    expect((await post({ variables: {} })).status).toBe(400);
    const legacy = await post({ query: '{ nope }' }, 'application/json');
    expect(legacy.status).toBe(200);
    expect(((await legacy.json()) as { errors: unknown[] }).errors).toHaveLength(1);
    expect((await post({ query: '{ hello(name: "x") }' }, 'text/plain')).status).toBe(406);
    expect((await post('query=x', GQL, 'application/x-www-form-urlencoded')).status).toBe(415);
  });

  it('depth and cost limits refuse a query before anything runs, saying by how much', async () => {
    const deep = await post({ query: '{ notes { owner { notes { owner { notes { owner { name } } } } } } }' });
    expect(deep.status).toBe(400);
    expect(await deep.json()).toMatchObject({ errors: [{ message: 'the query is 7 levels deep; the limit is 5', extensions: { code: 'QUERY_TOO_DEEP' } }] });
    const costly = await post({ query: '{ notes(first: 100) { title owner { name notes(first: 50) { title } } } }' });
    expect(await costly.json()).toMatchObject({ errors: [{ extensions: { code: 'QUERY_TOO_COSTLY' } }] });
    // Fragments count where they are spread.
    const viaFragment = await post({ query: 'fragment F on Note { owner { notes { owner { notes { title } } } } } { notes { ...F } }' });
    expect(((await viaFragment.json()) as { errors: Array<{ message: string }> }).errors[0]!.message).toBe('the query is 6 levels deep; the limit is 5');
  });

  it('batches: 20 notes with their owners are two statements, not 21 (and owners with their notes, three)', async () => {
    statements.length = 0;
    const r = (await (await post({ query: '{ notes(first: 20) { title owner { name } } }' })).json()) as { data: { notes: Array<{ owner: { name: string } }> } };
    expect(r.data.notes).toHaveLength(20);
    expect(r.data.notes[6]!.owner.name).toBe('user 1');
    expect(statements).toHaveLength(2);
    statements.length = 0;
    await post({ query: '{ notes(first: 20) { owner { notes { title } } } }' });
    expect(statements).toHaveLength(3);
  });

  it('persisted queries: the hash alone once known (also over GET); a wrong hash refused; trusted mode runs only registered documents', async () => {
    const query = '{ hello(name: "persisted") }';
    const sha256Hash = createHash('sha256').update(query).digest('hex');
    const ext = { persistedQuery: { version: 1, sha256Hash } };
    expect(await (await post({ extensions: ext })).json()).toMatchObject({ errors: [{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] });
    expect(await (await post({ query, extensions: ext })).json()).toEqual({ data: { hello: 'hello persisted' } });
    const viaGet = await fetch(`${client.url}/graphql?extensions=${encodeURIComponent(JSON.stringify(ext))}`, { headers: { accept: GQL } });
    expect(await viaGet.json()).toEqual({ data: { hello: 'hello persisted' } });
    expect(await (await post({ query: '{ hello(name: "other") }', extensions: ext })).json()).toMatchObject({ errors: [{ extensions: { code: 'PERSISTED_QUERY_HASH_MISMATCH' } }] });

    const app = createApp();
    const schema = buildSchema('type Query { a: Int }');
    const ep = app.graphql({ schema, persisted: { trusted: true }, websocket: false });
    const known = ep.persist('{ a }');
    const res = await app.inject({ method: 'POST', url: '/graphql', headers: { accept: GQL }, body: { query: '{ __typename }' } });
    expect(res.json()).toMatchObject({ errors: [{ extensions: { code: 'PERSISTED_QUERY_NOT_ALLOWED' } }] });
    expect((await app.inject({ method: 'POST', url: '/graphql', headers: { accept: GQL }, body: { extensions: { persistedQuery: { version: 1, sha256Hash: known } } } })).json()).toEqual({ data: { a: null } });
  });

  it('GraphiQL for a browser at the same path', async () => {
    const page = await fetch(`${client.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('GraphiQL.createFetcher');
  });
});

describe('subscriptions', () => {
  it('over WebSocket with the graphql-ws client (graphql-transport-ws): a stream, a query, a refused deep query', async () => {
    const ws = createClient({ url: `${client.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const ticks: number[] = [];
      await new Promise<void>((resolve, reject) => {
        ws.subscribe<{ ticks: number }>({ query: 'subscription { ticks(count: 3) }' }, { next: (v) => void ticks.push(v.data!.ticks), error: reject, complete: resolve });
      });
      expect(ticks).toEqual([1, 2, 3]);
      const q = await new Promise((resolve, reject) => ws.subscribe({ query: '{ hello(name: "ws") }' }, { next: resolve, error: reject, complete: () => {} }));
      expect(q).toEqual({ data: { hello: 'hello ws' } });
      const refused = await new Promise<unknown>((resolve) => ws.subscribe({ query: '{ notes { owner { notes { owner { notes { owner { name } } } } } } }' }, { next: () => {}, error: resolve, complete: () => {} }));
      expect(refused).toMatchObject([{ message: 'the query is 7 levels deep; the limit is 5' }]);
    } finally {
      await ws.dispose();
    }
  });

  it('over Server-Sent Events: next events, then complete', async () => {
    const r = await post({ query: 'subscription { ticks(count: 2) }' }, 'text/event-stream');
    expect(r.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const body = await r.text();
    expect(body).toBe('event: next\ndata: {"data":{"ticks":1}}\n\nevent: next\ndata: {"data":{"ticks":2}}\n\nevent: complete\ndata:\n\n');
    // Over plain HTTP a subscription needs a stream.
    expect((await post({ query: 'subscription { ticks(count: 1) }' })).status).toBe(400);
  });
});

describe('compiled queries (graphql-jit)', () => {
  it('with jit, a document is compiled after it ran the given number of times, and answers the same', async () => {
    const schema = buildSchema('type Item { id: Int!, tags: [String!]! } type Query { items(first: Int): [Item!]! }');
    let calls = 0;
    (schema.getType('Query') as GraphQLObjectType).getFields().items!.resolve = (_r, a: { first?: number }) => {
      calls++;
      return Array.from({ length: a.first ?? 3 }, (_, i) => ({ id: i, tags: [`t${i}`] }));
    };
    const plain = createApp();
    plain.graphql({ schema, websocket: false });
    const jit = createApp();
    jit.graphql({ schema, websocket: false, jit: 2 });
    const body = { query: 'query Q($n: Int) { items(first: $n) { id tags } }', variables: { n: 4 } };
    const want = (await plain.inject({ method: 'POST', url: '/graphql', headers: { accept: GQL }, body })).json();
    expect(want).toEqual({ data: { items: [0, 1, 2, 3].map((i) => ({ id: i, tags: [`t${i}`] })) } });
    for (let i = 0; i < 4; i++) expect((await jit.inject({ method: 'POST', url: '/graphql', headers: { accept: GQL }, body })).json()).toEqual(want);
    expect(calls).toBe(5);
    // Bad variables are still refused (400) when compiled.
    expect((await jit.inject({ method: 'POST', url: '/graphql', headers: { accept: GQL }, body: { ...body, variables: { n: 'x' } } })).status).toBe(400);
  });
});

