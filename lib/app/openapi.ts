/**
 * The OpenAPI 3.1 document, generated from the route table: paths from the router's patterns (typed
 * params become parameter schemas), and parameters, request bodies and responses from the route schemas
 * (TypeBox schemas are JSON Schema, which OpenAPI 3.1 uses as is). Schemas given an `$id` become
 * `components.schemas` entries referenced by `$ref`. What the framework itself answers is documented
 * with the route: its success status (a single 2xx response schema, or `status`), 422 with the field list
 * when a schema validates the request, 404 when typed params may not match, 401/403 and the security
 * scheme when auth deps or `requires` guard it, and what middleware declares (429 from `rateLimit`).
 * Errors are problem+json (RFC 9457).
 */
import type { TSchema } from '@sinclair/typebox';
import { parsePattern, type ParamType, type RouteInfo } from '../router/index.js';
import type { Middleware, RouteEntry } from './route.js';
import { successStatus } from './schema.js';

type Json = Record<string, unknown>;

const TYPE_SCHEMA: Record<ParamType, (regex?: string) => Json> = {
  string: () => ({ type: 'string' }),
  // `{id:int}` takes up to 15 digits (within 2^53): an int64 with those bounds. A params schema with
  // Type.Integer({ format: 'int32' }) documents a narrower column.
  int: () => ({ type: 'integer', format: 'int64', minimum: -999_999_999_999_999, maximum: 999_999_999_999_999 }),
  float: () => ({ type: 'number' }),
  uuid: () => ({ type: 'string', format: 'uuid' }),
  slug: () => ({ type: 'string', pattern: '^[a-z0-9]+(?:-[a-z0-9]+)*$' }),
  path: () => ({ type: 'string' }),
  regex: (re) => ({ type: 'string', pattern: `^(?:${re})$` }),
  wildcard: () => ({ type: 'string' }),
};

/** Responses a middleware adds to every route it wraps, for the document (e.g. `rateLimit`'s 429). */
export interface MiddlewareDoc {
  responses?: Record<number, string>;
}

/**
 * Attaches documentation to a middleware: the routes it wraps list these responses.
 *
 * @example
 * ```ts
 * app.use(documented(myQuota, { responses: { 402: 'quota exhausted' } }));
 * ```
 */
export function documented<M extends Middleware>(mw: M, doc: MiddlewareDoc): M & { openapi: MiddlewareDoc } {
  return Object.assign(mw, { openapi: doc });
}

/** `/notes/{id:int}` → `/notes/{id}` with the parameters it declares. */
function openApiPath(pattern: string): { path: string; params: Array<{ name: string; schema: Json; typed: boolean }> } {
  let path = '';
  const params: Array<{ name: string; schema: Json; typed: boolean }> = [];
  for (const t of parsePattern(pattern)) {
    if (t.kind === 'static') path += t.text;
    else {
      const name = t.name === '*' ? 'wildcard' : t.name;
      path += `{${name}}`;
      params.push({ name, schema: TYPE_SCHEMA[t.type](t.regex), typed: t.type !== 'string' && t.type !== 'wildcard' && t.type !== 'path' });
    }
  }
  return { path, params };
}

/**
 * Copies a schema for the document: every sub-schema with an `$id` moves into `components.schemas`,
 * leaving a `$ref` in its place. `requested`: a request schema as clients see it — a property with a
 * `default` is not required of them (the server fills it in before validating), at any depth.
 */
class Components {
  readonly schemas: Record<string, unknown> = {};
  readonly securitySchemes: Record<string, unknown> = {};
  ref(schema: unknown, requested = false): unknown {
    if (Array.isArray(schema)) return schema.map((s) => this.ref(s, requested));
    if (typeof schema !== 'object' || schema === null) return schema;
    const out: Json = {};
    for (const [k, v] of Object.entries(schema)) out[k] = k === 'default' || k === 'examples' || k === 'const' ? v : this.ref(v, requested);
    const props = (schema as { properties?: Record<string, Json> }).properties;
    const required = (schema as { required?: unknown }).required;
    if (requested && props !== undefined && Array.isArray(required)) out.required = required.filter((n: string) => !('default' in (props[n] ?? {})));
    const id = (schema as { $id?: unknown }).$id;
    if (typeof id !== 'string' || !/^[A-Za-z0-9._-]+$/.test(id)) return out;
    delete out.$id;
    this.schemas[id] ??= out;
    return { $ref: `#/components/schemas/${id}` };
  }
}

const PROBLEM_SCHEMA = {
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, instance: { type: 'string' } },
};
const VALIDATION_PROBLEM = {
  ...PROBLEM_SCHEMA,
  required: [...PROBLEM_SCHEMA.required, 'errors'],
  properties: { ...PROBLEM_SCHEMA.properties, errors: { type: 'array', items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string', description: 'JSON Pointer: /body/title, /query/limit, ...' }, message: { type: 'string' } } } } },
};
const problem = (description: string, schema: unknown = { $ref: '#/components/schemas/Problem' }): Json => ({ description, content: { 'application/problem+json': { schema } } });

/**
 * The OpenAPI 3.1 document of `routes` (see the module comment); the `openApi` plugin serves it.
 *
 * @example
 * ```ts
 * const app = createApp();
 * app.get('/notes', { schema: { response: { 200: Type.Array(Note) } } }, listNotes);
 * await app.ready();
 * const doc = buildOpenApi(app.routeTable(), { title: 'Notes', version: '1.0.0' });
 * ```
 */
export function buildOpenApi(routes: Array<RouteInfo<RouteEntry>>, info: { title: string; version: string; description?: string }, version: { parameter?: Json; deprecated?: boolean } = {}): Json {
  const paths: Record<string, Record<string, Json>> = {};
  const c = new Components();
  c.schemas.Problem = PROBLEM_SCHEMA;
  c.schemas.ValidationProblem = VALIDATION_PROBLEM;
  for (const r of routes) {
    const opts = r.store.options;
    if (opts.hide === true) continue;
    const { path, params } = openApiPath(r.pattern);
    const schema = opts.schema ?? {};
    const paramProps = (schema.params as { properties?: Record<string, Json> } | undefined)?.properties ?? {};
    const objectParams = (s: TSchema | undefined, where: 'query' | 'header'): Json[] => {
      const props = (s as { properties?: Record<string, Json> } | undefined)?.properties;
      if (props === undefined) return [];
      const required = new Set((s as { required?: string[] }).required ?? []);
      // A value with a default may be left out: the server fills it in before validating.
      return Object.entries(props).map(([name, p]) => ({ name, in: where, required: required.has(name) && !('default' in p), schema: c.ref(p) }));
    };
    const parameters: Json[] = [
      ...params.map((p) => ({ name: p.name, in: 'path', required: true, schema: c.ref(paramProps[p.name] ?? p.schema) })),
      ...objectParams(schema.query, 'query'),
      ...objectParams(schema.headers, 'header'),
      ...(version.parameter === undefined || r.store.versions === undefined ? [] : [version.parameter]),
    ];
    const responses: Record<string, Json> = {};
    for (const [status, s] of Object.entries(schema.response ?? {})) {
      responses[status] = Number(status) === 204 ? { description: 'No Content' } : { description: `HTTP ${status}`, content: { 'application/json': { schema: c.ref(s) } } };
    }
    const ok = successStatus(opts);
    if (responses[ok] === undefined && !Object.keys(responses).some((s) => s.startsWith('2'))) responses[ok] = { description: ok === 204 ? 'No Content' : 'OK' };
    if (params.some((p) => p.typed)) responses['404'] ??= problem('Not Found: no resource here, or a path parameter not of its type');
    if (schema.params || schema.query || schema.headers || schema.body) responses['422'] ??= problem('Validation failed: each failing field with its JSON Pointer', { $ref: '#/components/schemas/ValidationProblem' });
    if (schema.body) responses['415'] ??= problem('Unsupported Media Type: the body is neither JSON nor a form');
    // Authentication: deps that declare a security scheme, and `requires` (checked by the app's authorize).
    const requirement: Record<string, string[]> = {};
    for (const d of opts.deps ?? []) {
      if (d.security === undefined) continue;
      c.securitySchemes[d.security.name] ??= d.security.scheme;
      requirement[d.security.name] = [...new Set([...(requirement[d.security.name] ?? []), ...(d.scopes ?? [])])];
    }
    const guarded = Object.keys(requirement).length > 0 || opts.requires !== undefined;
    if (guarded) {
      responses['401'] ??= problem('Unauthorized: no valid credentials (see WWW-Authenticate)');
      if (opts.requires !== undefined || Object.values(requirement).some((s) => s.length > 0)) responses['403'] ??= problem('Forbidden: the caller lacks a required scope or permission');
    }
    for (const mw of r.store.middleware as Array<Middleware & { openapi?: MiddlewareDoc }>) {
      for (const [status, description] of Object.entries(mw.openapi?.responses ?? {})) responses[status] ??= problem(description);
    }
    responses.default = problem('Problem details (RFC 9457)');
    const op: Json = { responses };
    if (opts.summary) op.summary = opts.summary;
    if (opts.description) op.description = opts.description;
    if (opts.tags) op.tags = opts.tags;
    if ((opts.deprecated !== undefined && opts.deprecated !== false) || (version.deprecated === true && r.store.versions !== undefined)) op.deprecated = true;
    op.operationId = opts.operationId ?? `${r.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, ch: string | undefined) => (ch ?? '').toUpperCase())}`;
    if (parameters.length > 0) op.parameters = parameters;
    if (Object.keys(requirement).length > 0) op.security = [requirement];
    const content: Json = {};
    if (schema.body !== undefined) {
      const body = c.ref(schema.body, true);
      for (const t of schema.consumes ?? ['application/json']) content[t] = { schema: body };
    }
    if (schema.multipart !== undefined) content['multipart/form-data'] = { schema: c.ref(schema.multipart, true) };
    if (Object.keys(content).length > 0) op.requestBody = { required: true, content };
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  const components: Json = { schemas: c.schemas };
  if (Object.keys(c.securitySchemes).length > 0) components.securitySchemes = c.securitySchemes;
  return { openapi: '3.1.0', info, paths, components };
}

/**
 * The document as YAML (block style; strings quoted wherever YAML could read them as something else).
 * JSON values only, so this small emitter is exact for them.
 *
 * @example
 * ```ts
 * toYaml({ openapi: '3.1.0', info: { title: 'x', version: '1' } });
 * // 'openapi: "3.1.0"\ninfo:\n  title: x\n  version: "1"\n'
 * ```
 */
export function toYaml(value: unknown): string {
  const scalar = (v: unknown): string => {
    if (v === null) return 'null';
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    const s = String(v);
    // Plain only when YAML 1.2 core schema reads it back as this same string.
    return /^[A-Za-z_][\w./-]*(?: [\w./-]+)*$/.test(s) && !/^(?:true|false|null|yes|no|on|off|y|n)$/i.test(s) ? s : JSON.stringify(s);
  };
  const lines: string[] = [];
  const emit = (v: unknown, indent: string): void => {
    if (Array.isArray(v)) {
      for (const item of v) {
        if (item !== null && typeof item === 'object' && Object.keys(item).length > 0) {
          const sub: string[] = [];
          const saved = lines.length;
          emit(item, `${indent}  `);
          sub.push(...lines.splice(saved));
          lines.push(`${indent}- ${sub[0]!.trimStart()}`, ...sub.slice(1));
        } else lines.push(`${indent}- ${item !== null && typeof item === 'object' ? (Array.isArray(item) ? '[]' : '{}') : scalar(item)}`);
      }
      return;
    }
    for (const [k, x] of Object.entries(v as Json)) {
      const key = scalar(k);
      if (x !== null && typeof x === 'object' && Object.keys(x).length > 0) {
        lines.push(`${indent}${key}:`);
        emit(x, `${indent}  `);
      } else lines.push(`${indent}${key}: ${x !== null && typeof x === 'object' ? (Array.isArray(x) ? '[]' : '{}') : scalar(x)}`);
    }
  };
  emit(value, '');
  return `${lines.join('\n')}\n`;
}
