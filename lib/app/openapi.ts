/**
 * The OpenAPI 3.1 document, generated from the route table: paths from the router's patterns (typed
 * params become parameter schemas), and parameters, request bodies and responses from the route schemas
 * (TypeBox schemas are JSON Schema, which OpenAPI 3.1 uses as is). Errors are documented as problem+json.
 */
import type { TSchema } from '@sinclair/typebox';
import { parsePattern, type ParamType, type RouteInfo } from '../router/index.js';
import type { RouteEntry } from './app.js';

type Json = Record<string, unknown>;

const TYPE_SCHEMA: Record<ParamType, (regex?: string) => Json> = {
  string: () => ({ type: 'string' }),
  int: () => ({ type: 'integer' }),
  float: () => ({ type: 'number' }),
  uuid: () => ({ type: 'string', format: 'uuid' }),
  slug: () => ({ type: 'string', pattern: '^[a-z0-9]+(?:-[a-z0-9]+)*$' }),
  path: () => ({ type: 'string' }),
  regex: (re) => ({ type: 'string', pattern: `^(?:${re})$` }),
  wildcard: () => ({ type: 'string' }),
};

/** `/notes/{id:int}` → `/notes/{id}` with the parameters it declares. */
function openApiPath(pattern: string): { path: string; params: Array<{ name: string; schema: Json }> } {
  let path = '';
  const params: Array<{ name: string; schema: Json }> = [];
  for (const t of parsePattern(pattern)) {
    if (t.kind === 'static') path += t.text;
    else {
      const name = t.name === '*' ? 'wildcard' : t.name;
      path += `{${name}}`;
      params.push({ name, schema: TYPE_SCHEMA[t.type](t.regex) });
    }
  }
  return { path, params };
}

function objectParams(schema: TSchema | undefined, where: 'query' | 'header'): Json[] {
  const props = (schema as { properties?: Record<string, Json> } | undefined)?.properties;
  if (props === undefined) return [];
  const required = new Set((schema as { required?: string[] }).required ?? []);
  // A value with a default may be left out: the server fills it in before validating.
  return Object.entries(props).map(([name, s]) => ({ name, in: where, required: required.has(name) && !('default' in s), schema: s }));
}

/**
 * A request schema as clients see it: a property with a `default` is not required of them (the server
 * fills it in before validation), at any depth. The route keeps the original for validation.
 */
function asRequested(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(asRequested);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === 'default' || k === 'examples' || k === 'const' ? v : asRequested(v);
  const props = (schema as { properties?: Record<string, Json> }).properties;
  const required = (schema as { required?: unknown }).required;
  if (props !== undefined && Array.isArray(required)) out.required = required.filter((n: string) => !('default' in (props[n] ?? {})));
  return out;
}

const PROBLEM = { description: 'Problem details (RFC 9457)', content: { 'application/problem+json': { schema: { type: 'object' } } } };

export function buildOpenApi(routes: Array<RouteInfo<RouteEntry>>, info: { title: string; version: string; description?: string }): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const r of routes) {
    const { path, params } = openApiPath(r.pattern);
    const opts = r.store.options;
    if (opts.hide === true) continue;
    const schema = opts.schema ?? {};
    const paramProps = (schema.params as { properties?: Record<string, Json> } | undefined)?.properties ?? {};
    const parameters: Json[] = [
      ...params.map((p) => ({ name: p.name, in: 'path', required: true, schema: paramProps[p.name] ?? p.schema })),
      ...objectParams(schema.query, 'query'),
      ...objectParams(schema.headers, 'header'),
    ];
    const responses: Record<string, Json> = {};
    for (const [status, s] of Object.entries(schema.response ?? {})) responses[status] = { description: `HTTP ${status}`, content: { 'application/json': { schema: s } } };
    if (Object.keys(responses).length === 0) responses['200'] = { description: 'OK' };
    if (schema.params || schema.query || schema.headers || schema.body) responses['422'] = PROBLEM;
    responses.default = PROBLEM;
    const op: Json = { responses };
    if (opts.summary) op.summary = opts.summary;
    if (opts.description) op.description = opts.description;
    if (opts.tags) op.tags = opts.tags;
    op.operationId = opts.operationId ?? `${r.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`;
    if (parameters.length > 0) op.parameters = parameters;
    if (schema.body !== undefined) {
      const body = asRequested(schema.body);
      op.requestBody = { required: true, content: { 'application/json': { schema: body }, 'application/x-www-form-urlencoded': { schema: body } } };
    }
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  return { openapi: '3.1.0', info, paths };
}
