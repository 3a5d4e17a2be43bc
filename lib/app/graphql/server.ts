/**
 * GraphQL on the app, with graphql-js (an optional peer: `npm install graphql`):
 *
 * - HTTP per the GraphQL-over-HTTP specification: GET (queries only; a mutation is 405 with `Allow:
 *   POST`) and POST with `application/json`; answers in `application/graphql-response+json` when the
 *   client accepts it — then a request that cannot be executed (bad JSON, a syntax or validation error,
 *   bad variables) is a 400 — else in `application/json` with 200 (as the spec keeps for legacy
 *   clients); 406 for an Accept naming neither, 415 for another body type.
 * - Subscriptions (and queries) over WebSocket with the `graphql-transport-ws` protocol (graphql-ws's
 *   server, an optional peer: `npm install graphql-ws`), and over Server-Sent Events (the GraphQL over
 *   SSE protocol's distinct-connections mode: `Accept: text/event-stream`, `next` and `complete` events).
 * - Limits checked before anything runs: selection depth, and a cost (each field 1, its selections
 *   multiplied by a `first`/`last`/`limit` argument when it has one) — a query over either is refused
 *   with an error saying which limit and by how much; documents bounded in size.
 * - Persisted queries: Automatic Persisted Queries (`extensions.persistedQuery.sha256Hash`; the hash
 *   alone once the server knows it — GET requests that CDNs can cache), or `trusted: true` to run only
 *   documents registered with `persist()`.
 * - GraphiQL at the same path for browsers (`graphiql`, default on outside production).
 * - Parsed and validated documents are cached by their text.
 *
 * @example
 * ```ts
 * app.graphql({ schema, context: (ctx) => ({ user: ctx.state.user, users: rowsBy(orm.users, 'id') }) });
 * ```
 */
import { createHash } from 'node:crypto';
import type * as G from 'graphql';
import type { App } from '../app.js';
import type { Context } from '../context.js';
import { HttpError } from '../errors.js';
import { importPeer, requirePeer } from '../optional-peer.js';
import { definePlugin } from '../plugin.js';

export interface GraphqlOptions {
  schema: G.GraphQLSchema;
  /** The context value of each operation (HTTP request, or WebSocket connection and its init payload). */
  context?: (ctx: Context, connectionParams?: Readonly<Record<string, unknown>>) => unknown;
  /** Default `/graphql`. */
  path?: string;
  /** Deepest selection allowed. Default 12. */
  maxDepth?: number;
  /** Highest cost allowed (see the module comment). Default 5000. */
  maxCost?: number;
  /** Longest document, in characters. Default 100 000. */
  maxLength?: number;
  /** Automatic Persisted Queries (default on); `trusted: true` runs only documents given to `persist()`. */
  persisted?: { trusted?: boolean; maxEntries?: number } | false;
  /** The GraphiQL page for browsers at the same path. Default: on unless NODE_ENV is production. */
  graphiql?: boolean;
  /** Subscriptions over WebSocket (`graphql-transport-ws`). Default true. */
  websocket?: boolean;
  /** Largest POST body in bytes. Default 1 MiB. */
  bodyLimit?: number;
  /**
   * Compile queries to JavaScript with graphql-jit (an optional peer: `npm install graphql-jit`) once a
   * document has run this many times (`true`: at once); several times faster on large answers
   * (bench/RESULTS.md). Default off.
   */
  jit?: boolean | number;
}

/** What `app.graphql()` returns: register trusted documents. */
export interface GraphqlEndpoint {
  /** Registers a document; returns its SHA-256 (what clients send as `persistedQuery.sha256Hash`). */
  persist(query: string): string;
}

interface Params {
  query?: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
  extensions?: { persistedQuery?: { version?: number; sha256Hash?: string } } | null;
}

/** A request that cannot be executed: 400 in graphql-response+json, 200 in json (spec §6.4.1, §6.4.2). */
class RequestError extends Error {
  readonly extensions: Record<string, unknown> | undefined;
  constructor(message: string, extensions?: Record<string, unknown>) {
    super(message);
    this.extensions = extensions;
  }
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/**
 * Depth and cost of the operation's selections, fragments followed (each at most once per path).
 *
 * @example
 * ```ts
 * const { depth, cost } = measure(graphql, parse(query), operation); // what the limits compare
 * ```
 */
export function measure(g: typeof G, doc: G.DocumentNode, op: G.OperationDefinitionNode): { depth: number; cost: number } {
  const fragments = new Map<string, G.FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === g.Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const walk = (set: G.SelectionSetNode, depth: number, seen: ReadonlySet<string>): { depth: number; cost: number } => {
    let max = depth;
    let cost = 0;
    for (const s of set.selections) {
      if (s.kind === g.Kind.FIELD) {
        let factor = 1;
        for (const a of s.arguments ?? []) {
          if (['first', 'last', 'limit'].includes(a.name.value) && a.value.kind === g.Kind.INT) factor = Math.max(1, Number(a.value.value));
        }
        if (s.selectionSet === undefined) cost += 1;
        else {
          const inner = walk(s.selectionSet, depth + 1, seen);
          max = Math.max(max, inner.depth);
          cost += 1 + factor * inner.cost;
        }
      } else {
        let inner: { depth: number; cost: number } | null = null;
        if (s.kind === g.Kind.INLINE_FRAGMENT) inner = walk(s.selectionSet, depth, seen);
        else if (!seen.has(s.name.value)) {
          const f = fragments.get(s.name.value);
          if (f !== undefined) inner = walk(f.selectionSet, depth, new Set([...seen, s.name.value]));
        }
        if (inner !== null) {
          max = Math.max(max, inner.depth);
          cost += inner.cost;
        }
      }
    }
    return { depth: max, cost };
  };
  return walk(op.selectionSet, 1, new Set());
}

/**
 * Mounts GraphQL on `app` (see the module comment).
 *
 * @example
 * ```ts
 * mountGraphql(app, { schema, path: '/graphql', maxDepth: 10 });
 * ```
 */
export function mountGraphql(app: App, options: GraphqlOptions): GraphqlEndpoint {
  // graphql-js is loaded the way the app's own code imports it (ESM import): a second copy (its CommonJS
  // build beside the ESM one a bundler picked) would refuse the app's schema as "from another realm".
  // Checked now that it is installed; loaded on first use.
  requirePeer('graphql/package.json', 'app.graphql()');
  let gm: typeof G | null = null;
  const load = async (): Promise<typeof G> => (gm ??= await importPeer<typeof G>('graphql', 'app.graphql()', () => import('graphql')));
  const schema = options.schema;
  const path = options.path ?? '/graphql';
  const maxDepth = options.maxDepth ?? 12;
  const maxCost = options.maxCost ?? 5000;
  const maxLength = options.maxLength ?? 100_000;
  const apq = options.persisted !== false;
  const trusted = options.persisted !== false && options.persisted?.trusted === true;
  const maxPersisted = (options.persisted !== false && options.persisted?.maxEntries) || 10_000;
  const persisted = new Map<string, string>();
  const cached = new Map<string, G.DocumentNode | readonly G.GraphQLError[]>();
  const graphiql = options.graphiql ?? process.env.NODE_ENV !== 'production';
  const jitAfter = options.jit === true ? 1 : typeof options.jit === 'number' ? Math.max(1, options.jit) : 0;
  if (jitAfter > 0) requirePeer('graphql-jit/package.json', 'app.graphql({ jit })');
  let jm: typeof import('graphql-jit') | null = null;
  /** Per document and operation: runs so far, and its compiled form once made (false: it cannot be). */
  const compiled = new Map<string, { runs: number; query: import('graphql-jit').CompiledQuery | false | null }>();
  const compiledFor = async (text: string, doc: G.DocumentNode, operationName: string | undefined): Promise<import('graphql-jit').CompiledQuery | null> => {
    const key = `${operationName ?? ''}\0${text}`;
    let e = compiled.get(key);
    if (e === undefined) {
      if (compiled.size >= 1000) compiled.delete(compiled.keys().next().value!);
      compiled.set(key, (e = { runs: 0, query: null }));
    }
    if (e.query === null && ++e.runs >= jitAfter) {
      jm ??= await importPeer<typeof import('graphql-jit')>('graphql-jit', 'app.graphql({ jit })', () => import('graphql-jit'));
      const c = jm.compileQuery(schema, doc, operationName);
      e.query = jm.isCompiledQuery(c) ? c : false;
    }
    return e.query || null;
  };

  const persist = (query: string): string => {
    const h = sha256(query);
    if (!persisted.has(h)) {
      if (persisted.size >= maxPersisted) persisted.delete(persisted.keys().next().value!);
      persisted.set(h, query);
    }
    return h;
  };

  /** The document text a request runs (its persisted query resolved and checked). */
  const documentText = (p: Params): string => {
    const pq = p.extensions?.persistedQuery;
    if (pq !== undefined && apq) {
      if (pq.version !== 1 || typeof pq.sha256Hash !== 'string') throw new RequestError('persistedQuery: version 1 and a sha256Hash are expected');
      const known = persisted.get(pq.sha256Hash);
      if (p.query === undefined) {
        if (known === undefined) throw new RequestError('PersistedQueryNotFound', { code: 'PERSISTED_QUERY_NOT_FOUND' });
        return known;
      }
      if (sha256(p.query) !== pq.sha256Hash) throw new RequestError('provided sha256Hash does not match the query', { code: 'PERSISTED_QUERY_HASH_MISMATCH' });
      if (trusted && known === undefined) throw new RequestError('only persisted documents are accepted here', { code: 'PERSISTED_QUERY_NOT_ALLOWED' });
      if (!trusted) persist(p.query);
      return p.query;
    }
    if (typeof p.query !== 'string' || p.query.trim() === '') throw new RequestError('a GraphQL request needs a "query" (or a persisted query\'s hash)');
    if (trusted && !persisted.has(sha256(p.query))) throw new RequestError('only persisted documents are accepted here', { code: 'PERSISTED_QUERY_NOT_ALLOWED' });
    return p.query;
  };

  /** Parsed, validated and within the limits — or the errors that say why not (cached by text). */
  const prepare = (g: typeof G, text: string, operationName: string | null | undefined): { doc: G.DocumentNode; op: G.OperationDefinitionNode } => {
    if (text.length > maxLength) throw new RequestError(`the document is ${text.length} characters long; the limit is ${maxLength}`);
    let doc = cached.get(text);
    if (doc === undefined) {
      try {
        const parsed = g.parse(text, { maxTokens: 20_000 });
        const errors = g.validate(schema, parsed);
        doc = errors.length > 0 ? errors : parsed;
      } catch (err) {
        doc = [err as G.GraphQLError];
      }
      if (cached.size >= 1000) cached.delete(cached.keys().next().value!);
      cached.set(text, doc);
    }
    if (Array.isArray(doc)) throw new ValidationFailure(doc as readonly G.GraphQLError[]);
    const d = doc as G.DocumentNode;
    const op = g.getOperationAST(d, operationName ?? undefined);
    if (op === null || op === undefined) throw new RequestError(operationName ? `no operation named "${operationName}" in the document` : 'the document has several operations: name one with "operationName"');
    const { depth, cost } = measure(g, d, op);
    if (depth > maxDepth) throw new RequestError(`the query is ${depth} levels deep; the limit is ${maxDepth}`, { code: 'QUERY_TOO_DEEP', depth, maxDepth });
    if (cost > maxCost) throw new RequestError(`the query costs ${cost}; the limit is ${maxCost} (each field 1, nested selections times their first/last/limit)`, { code: 'QUERY_TOO_COSTLY', cost, maxCost });
    return { doc: d, op };
  };

  const handle = async (ctx: Context): Promise<unknown> => {
    const g = await load();
    const accept = (ctx.req.get('accept') ?? '').toLowerCase();
    if (ctx.req.method === 'GET' && graphiql && accept.includes('text/html') && !new URLSearchParams(ctx.req.query).has('query')) {
      ctx.res.setHeader('content-type', 'text/html; charset=utf-8');
      return graphiqlPage(path);
    }
    const sse = accept.includes('text/event-stream');
    // Spec §6.4: graphql-response+json when accepted (the status then follows the errors), else json
    // (always 200); no Accept is taken as application/json.
    const type = sse || accept.includes('application/graphql-response+json') ? 'application/graphql-response+json' : accept === '' || /application\/json|\*\/\*|application\/\*/.test(accept) ? 'application/json' : null;
    if (type === null) throw new HttpError(406, { detail: 'accept application/graphql-response+json, application/json or text/event-stream' });
    const answer = (status: number, body: unknown): string => {
      ctx.res.statusCode = type === 'application/json' ? 200 : status;
      ctx.res.setHeader('content-type', `${type}; charset=utf-8`);
      return JSON.stringify(body);
    };
    let params: Params;
    try {
      params = await readParams(ctx, options.bodyLimit ?? 1024 * 1024);
    } catch (err) {
      if (err instanceof HttpError) throw err;
      return answer(400, { errors: [{ message: (err as Error).message }] });
    }
    let doc: G.DocumentNode;
    let op: G.OperationDefinitionNode;
    let text: string;
    try {
      text = documentText(params);
      ({ doc, op } = prepare(g, text, params.operationName));
    } catch (err) {
      if (err instanceof ValidationFailure) return answer(400, { errors: err.errors.map((e) => ({ message: e.message, ...(e.locations === undefined ? {} : { locations: e.locations }) })) });
      if (err instanceof RequestError) return answer(400, { errors: [{ message: err.message, ...(err.extensions === undefined ? {} : { extensions: err.extensions }) }] });
      throw err;
    }
    if (ctx.req.method === 'GET' && op.operation !== 'query') throw new HttpError(405, { detail: `a ${op.operation} is not run from a GET request: POST it` }, { allow: 'POST' });
    const contextValue = options.context === undefined ? { ctx } : await options.context(ctx);
    const args = { schema, document: doc, contextValue, variableValues: params.variables ?? undefined, operationName: params.operationName ?? undefined };
    if (sse) return streamEvents(ctx, op.operation === 'subscription' ? g.subscribe(args) : g.execute(args));
    if (op.operation === 'subscription') return answer(400, { errors: [{ message: 'a subscription needs a stream: Accept text/event-stream, or the graphql-transport-ws WebSocket protocol' }] });
    const jitted = jitAfter > 0 ? await compiledFor(text, doc, params.operationName ?? undefined) : null;
    const result = jitted !== null ? await jitted.query(undefined, contextValue, params.variables ?? undefined) : await g.execute(args);
    // Variables that could not be coerced: nothing ran (spec §6.4.2.1: 400).
    const status = result.data === undefined && (result.errors?.length ?? 0) > 0 ? 400 : 200;
    return answer(status, result);
  };

  app.get(path, { hide: true }, handle);
  app.post(path, { hide: true }, handle);

  if (options.websocket !== false) {
    const { makeServer } = requirePeer<typeof import('graphql-ws')>('graphql-ws', 'GraphQL subscriptions over WebSocket');
    // graphql-ws checks returned errors with `instanceof` against the graphql-js it requires itself.
    const { GraphQLError } = requirePeer<typeof G>('graphql', 'GraphQL subscriptions over WebSocket');
    const server = makeServer<Record<string, unknown>, { ctx: Context }>({
      schema,
      context: (c) => (options.context === undefined ? { ctx: c.extra.ctx } : options.context(c.extra.ctx, c.connectionParams)),
      // graphql-js as the app loaded it (see above), not graphql-ws's own import of it.
      execute: async (args) => (await load()).execute(args),
      subscribe: async (args) => (await load()).subscribe(args),
      onSubscribe: async (_c, _id, payload) => {
        const g = await load();
        // The same persisted-query resolution and limits as over HTTP; errors go back to the client.
        try {
          const p: Params = { ...payload, extensions: payload.extensions as Params['extensions'] };
          const { doc } = prepare(g, documentText(p), payload.operationName);
          return { schema, document: doc, variableValues: payload.variables ?? undefined, operationName: payload.operationName ?? undefined } as G.ExecutionArgs;
        } catch (err) {
          if (err instanceof ValidationFailure) return err.errors.map((e) => new GraphQLError(e.message, { extensions: e.extensions }));
          return [new GraphQLError((err as Error).message, { extensions: (err as RequestError).extensions ?? {} })];
        }
      },
    });
    app.ws(path, {
      protocols: ['graphql-transport-ws'],
      open(ws, ctx) {
        const closed = server.opened(
          {
            protocol: ws.protocol,
            send: (data) => void ws.send(data),
            close: (code, reason) => ws.close(code, reason),
            onMessage: (cb) =>
              ws.on('message', (data: Buffer | string) => {
                cb(String(data)).catch((err: unknown) => ws.close(4500, String((err as Error)?.message ?? err).slice(0, 100)));
              }),
          },
          { ctx },
        );
        ws.on('close', (code: number, reason: Buffer | string) => void closed(code, String(reason)));
      },
    });
  }
  return { persist };
}

class ValidationFailure extends Error {
  readonly errors: readonly G.GraphQLError[];
  constructor(errors: readonly G.GraphQLError[]) {
    super(errors[0]?.message ?? 'invalid document');
    this.errors = errors;
  }
}

async function readParams(ctx: Context, limit: number): Promise<Params> {
  const json = (s: string | undefined, what: string): Record<string, unknown> | undefined => {
    if (s === undefined || s === '') return undefined;
    const v = JSON.parse(s) as unknown;
    if (v !== null && (typeof v !== 'object' || Array.isArray(v))) throw new Error(`"${what}" must be a JSON object`);
    return (v ?? undefined) as Record<string, unknown> | undefined;
  };
  if (ctx.req.method === 'GET') {
    const q = new URLSearchParams(ctx.req.query);
    return {
      query: q.get('query') ?? undefined,
      variables: json(q.get('variables') ?? undefined, 'variables') ?? null,
      operationName: q.get('operationName'),
      extensions: (json(q.get('extensions') ?? undefined, 'extensions') ?? null) as Params['extensions'],
    };
  }
  const type = ctx.req.get('content-type') ?? '';
  if (!/^application\/(graphql-response\+)?json\b/i.test(type)) throw new HttpError(415, { detail: `a GraphQL POST carries application/json, not ${type || 'no content-type'}` });
  let body: unknown;
  try {
    body = JSON.parse(await ctx.req.text(limit));
  } catch (err) {
    if ((err as { status?: number }).status === 413) throw err;
    throw new Error('the body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('the body must be a JSON object with a "query"');
  const b = body as Record<string, unknown>;
  if (b.query !== undefined && typeof b.query !== 'string') throw new Error('"query" must be a string');
  if (b.variables !== undefined && b.variables !== null && (typeof b.variables !== 'object' || Array.isArray(b.variables))) throw new Error('"variables" must be a JSON object');
  if (b.operationName !== undefined && b.operationName !== null && typeof b.operationName !== 'string') throw new Error('"operationName" must be a string');
  return b as Params;
}

/** GraphQL over SSE, distinct connections: a `next` event per result, then `complete`. */
function streamEvents(ctx: Context, run: Promise<unknown> | unknown): AsyncIterable<string> {
  ctx.res.setHeader('content-type', 'text/event-stream; charset=utf-8');
  ctx.res.setHeader('cache-control', 'no-cache');
  return (async function* () {
    const r = await run;
    if (r !== null && typeof r === 'object' && Symbol.asyncIterator in r) {
      for await (const item of r as AsyncIterable<unknown>) yield `event: next\ndata: ${JSON.stringify(item)}\n\n`;
    } else yield `event: next\ndata: ${JSON.stringify(r)}\n\n`;
    yield 'event: complete\ndata:\n\n';
  })();
}

function graphiqlPage(endpoint: string): string {
  // GraphiQL 3 from unpkg, pinned (the page is a developer tool; production turns it off by default).
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>GraphiQL</title>
<link rel="stylesheet" href="https://unpkg.com/graphiql@3.8.3/graphiql.min.css">
<style>body{margin:0;height:100vh}#graphiql{height:100vh}</style></head><body><div id="graphiql"></div>
<script crossorigin src="https://unpkg.com/react@18.3.1/umd/react.production.min.js"></script>
<script crossorigin src="https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js"></script>
<script crossorigin src="https://unpkg.com/graphiql@3.8.3/graphiql.min.js"></script>
<script>const url = new URL(${JSON.stringify(endpoint)}, location.href);
const fetcher = GraphiQL.createFetcher({ url: url.href, subscriptionUrl: url.href.replace(/^http/, 'ws') });
ReactDOM.createRoot(document.getElementById('graphiql')).render(React.createElement(GraphiQL, { fetcher }));</script>
</body></html>`;
}

/**
 * The GraphQL plugin: `app.register(graphql, options)` serves GraphQL as `app.graphql(options)` does (use
 * the method when you need its endpoint to `persist` trusted documents).
 */
export const graphql = definePlugin<GraphqlOptions>('graphql', (app, options) => {
  mountGraphql(app, options);
});
