/**
 * Route schemas (TypeBox, i.e. JSON Schema): params, query, headers and body are checked before the
 * handler runs, with validators compiled once when the route is added. Strings from the path, the query
 * and headers are converted to the declared types first (`"5"` → 5 for an integer), then absent values
 * take their schema's `default`. A failure is a 422 problem listing each failing field once; a body that
 * is neither JSON nor an urlencoded form where a body schema expects one is a 415. String formats come
 * from formats.ts; a schema naming an unregistered one is refused when the route is added.
 */
import { Kind, type Static, type TSchema } from '@sinclair/typebox';
import type { PathParams } from '../router/index.js';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { answerError, type HttpError } from './errors.js';
import { unknownFormats } from './formats.js';
import { compileSerializer, UnsupportedResponseSchema, type Serializer } from './serializer.js';

export interface RouteSchema {
  params?: TSchema;
  query?: TSchema;
  headers?: TSchema;
  body?: TSchema;
  /**
   * Response schemas by status: documented in OpenAPI, and a returned object is serialized by a
   * serializer compiled from the schema for the response's status — only declared properties are sent.
   */
  response?: Record<number, TSchema>;
  /**
   * A `multipart/form-data` body, for the OpenAPI document (files as `Type.String({ format: 'binary' })`).
   * Not validated: the handler reads the parts as they stream (`ctx.parts()`, `ctx.multipart()`).
   */
  multipart?: TSchema;
  /**
   * The media types the body may come in. Default `['application/json']` (and `+json` types); add
   * `'application/x-www-form-urlencoded'` for an HTML form — only then, since a form from any site is
   * sent without a CORS preflight. Anything else is a 415 naming these.
   */
  consumes?: readonly ('application/json' | 'application/x-www-form-urlencoded' | `application/${string}+json`)[];
}

/**
 * The status a route answers when its handler succeeds without choosing one: `status`, else the one 2xx
 * code its response schemas declare, else 200.
 */
export function successStatus(options: { status?: number; schema?: RouteSchema }): number {
  if (options.status !== undefined) return options.status;
  const ok = Object.keys(options.schema?.response ?? {}).map(Number).filter((s) => s >= 200 && s < 300);
  return ok.length === 1 ? ok[0]! : 200;
}

/**
 * The static types a schema gives a handler; without a params schema, the params come from the path
 * pattern `P` (`{id:int}` → number, see `PathParams`).
 */
export type SchemaTypes<S extends RouteSchema, P extends string = string> = {
  params: S['params'] extends TSchema ? Static<S['params']> : PathParams<P>;
  query: S['query'] extends TSchema ? Static<S['query']> : Record<string, string | string[]>;
  body: S['body'] extends TSchema ? Static<S['body']> : unknown;
  /**
   * What the handler may return: a value that serializes to one of the declared response schemas (a
   * `Date` where a string is declared, say), or nothing, having answered itself.
   */
  result: S['response'] extends Record<number, TSchema> ? ResponseValue<S['response']> | void : unknown;
};

/** The union of a route's response values, as handlers may return them. */
type ResponseValue<R extends Record<number, TSchema>> = { [K in keyof R]: R[K] extends TSchema ? JsonInput<Static<R[K]>> : never }[keyof R];

/** Values whose JSON is `T`: where `T` has a plain string, anything with a `toJSON()` giving one (a `Date`) fits too. */
export type JsonInput<T> = T extends string
  ? string extends T
    ? T | { toJSON(): string }
    : T
  : T extends ReadonlyArray<infer E>
    ? ReadonlyArray<JsonInput<E>>
    : T extends object
      ? { [K in keyof T]: JsonInput<T[K]> }
      : T;

/** One request part's validator, with the string-to-type conversion it needs. */
export interface CompiledPart {
  check: TypeCheck<TSchema>;
  /**
   * Converts a record of strings (path, query, headers) to the declared types: in place when `inPlace`
   * (the record is this request's own) and the record is not frozen, else on a copy.
   */
  convert: (value: Record<string, unknown>, inPlace: boolean) => Record<string, unknown>;
}

export interface CompiledSchema {
  schema: RouteSchema;
  params: CompiledPart | null;
  query: CompiledPart | null;
  headers: CompiledPart | null;
  body: TypeCheck<TSchema> | null;
  /** Fills absent body properties from the body schema's defaults (null: the schema has none). */
  bodyDefaults: ((value: unknown) => unknown) | null;
  /**
   * Removes body properties the schema does not declare, in objects whose `additionalProperties` is not
   * set (`true` or a schema keeps them; `false` refuses them, 422): a handler never sees `id`, `role` or
   * `createdAt` that a client slipped in (mass assignment). Null: nothing to remove.
   */
  bodyStrip: ((value: unknown) => void) | null;
  /** Converts an urlencoded form's strings to the body schema's types. */
  form: CompiledPart['convert'] | null;
  /** Media types the body may come in. */
  consumes: readonly string[];
  /** JSON serializers by response status. */
  response: Record<number, Serializer> | null;
  /** Validators of returned values by response status (used with `checkResponses`). */
  responseChecks: Record<number, TypeCheck<TSchema>> | null;
}

/**
 * A route schema that cannot be used: the route is refused when it is added.
 *
 * @example
 * ```ts
 * try {
 *   app.get('/x', { schema: { query: Type.Object({ at: Type.String({ format: 'nope' }) }) } }, handler);
 * } catch (err) {
 *   if (err instanceof SchemaError) console.error(err.message); // 'GET /x: unknown string format "nope" at …'
 * }
 * ```
 */
export class SchemaError extends Error {
  override name = 'SchemaError';
}

export function compileSchema(schema: RouteSchema, route = ''): CompiledSchema {
  const parts: Array<[string, TSchema | undefined]> = [['params', schema.params], ['query', schema.query], ['headers', schema.headers], ['body', schema.body], ...Object.entries(schema.response ?? {}).map(([st, s]): [string, TSchema] => [`response ${st}`, s])];
  for (const [name, s] of parts) {
    if (s === undefined) continue;
    const unknown = unknownFormats(s);
    if (unknown.length > 0) {
      const list = unknown.map((u) => `"${u.format}" at ${name}${u.at === '/' ? '' : u.at}`).join(', ');
      throw new SchemaError(`${route}: unknown string format ${list}; register it with registerFormat(name, check) from covet/app before adding the route`);
    }
  }
  const part = (s: TSchema | undefined): CompiledPart | null => (s === undefined ? null : { check: TypeCompiler.Compile(s), convert: compileConverter(s) });
  return {
    schema,
    params: part(schema.params),
    query: part(schema.query),
    headers: part(schema.headers),
    body: schema.body === undefined ? null : TypeCompiler.Compile(schema.body),
    bodyDefaults: schema.body === undefined ? null : compileDefaults(schema.body),
    bodyStrip: schema.body === undefined ? null : compileStrip(schema.body),
    form: schema.body === undefined ? null : compileConverter(schema.body),
    response: compileResponses(schema.response, route),
    consumes: schema.consumes ?? DEFAULT_CONSUMES,
    responseChecks: schema.response === undefined ? null : Object.fromEntries(Object.entries(schema.response).map(([st, r]) => [Number(st), TypeCompiler.Compile(r)])),
  };
}

/** Whether a schema declares a `default` anywhere (then values are filled before validation). */
function hasDefault(schema: unknown, seen = new Set<object>()): boolean {
  if (typeof schema !== 'object' || schema === null || seen.has(schema)) return false;
  seen.add(schema);
  if ('default' in schema) return true;
  for (const [k, v] of Object.entries(schema)) if (k !== 'examples' && k !== 'const' && hasDefault(v, seen)) return true;
  return false;
}

/** A default value for one request: objects and arrays are copied so no request changes another's. */
function fresh(d: unknown): unknown {
  return typeof d === 'object' && d !== null ? structuredClone(d) : d;
}

/**
 * Fills absent values from `default`s: a precompiled loop for an object whose defaults are all on its
 * own properties, TypeBox's `Value.Default` (which walks the schema per call) for nested ones; null when
 * the schema has no default.
 */
function compileDefaults(schema: TSchema): ((value: unknown) => unknown) | null {
  if (!hasDefault(schema)) return null;
  const props = schema[Kind] === 'Object' ? (schema.properties as Record<string, TSchema> | undefined) : undefined;
  const nested = (p: TSchema): boolean => Object.entries(p).some(([k, v]) => k !== 'default' && hasDefault(v));
  if (props === undefined || 'default' in schema || Object.values(props).some(nested)) return (v) => Value.Default(schema, v);
  const top = Object.entries(props).filter(([, p]) => 'default' in p).map(([k, p]): [string, unknown] => [k, p.default]);
  return (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const o = v as Record<string, unknown>;
    for (let i = 0; i < top.length; i++) if (o[top[i]![0]] === undefined) o[top[i]![0]] = fresh(top[i]![1]);
    return o;
  };
}

/**
 * The walk that drops undeclared properties of a (validated) value: objects with declared `properties`
 * and no `additionalProperties`, through nested properties and array items. Unions and other composites
 * are left as they are (which branch a value took is not known here).
 */
function compileStrip(schema: TSchema): ((value: unknown) => void) | null {
  const kind = schema[Kind] as string | undefined;
  if (kind === 'Array') {
    const item = compileStrip(schema.items as TSchema);
    if (item === null) return null;
    return (v) => {
      if (Array.isArray(v)) for (const x of v) item(x);
    };
  }
  if (kind !== 'Object') return null;
  const props = (schema.properties ?? {}) as Record<string, TSchema>;
  const declared = new Set(Object.keys(props));
  const strip = schema.additionalProperties === undefined;
  const nested = Object.entries(props)
    .map(([k, p]): [string, ((v: unknown) => void) | null] => [k, compileStrip(p)])
    .filter((e): e is [string, (v: unknown) => void] => e[1] !== null);
  if (!strip && nested.length === 0) return null;
  return (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return;
    const o = v as Record<string, unknown>;
    if (strip) for (const k of Object.keys(o)) if (!declared.has(k)) delete o[k];
    for (const [k, f] of nested) if (o[k] !== undefined) f(o[k]);
  };
}

function compileResponses(response: RouteSchema['response'], route: string): Record<number, Serializer> | null {
  if (response === undefined) return null;
  const out: Record<number, Serializer> = {};
  for (const [status, s] of Object.entries(response)) {
    try {
      out[Number(status)] = compileSerializer(s);
    } catch (e) {
      if (e instanceof UnsupportedResponseSchema) throw new SchemaError(`${route}: ${status} ${e.message}`);
      throw e;
    }
  }
  return out;
}

export interface FieldError {
  /** Where: `/body/title`, `/query/limit`, ... (JSON Pointer under the part). */
  path: string;
  message: string;
}

/**
 * Checks a converted part. Returns it; pushes each failing field to `errors` once — TypeBox reports a
 * missing property both as missing and as not of its type; the first (and clearest) message is kept.
 */
export function checkPart(part: string, check: TypeCheck<TSchema>, value: unknown, errors: FieldError[]): unknown {
  if (check.Check(value)) return value;
  const start = errors.length;
  outer: for (const e of check.Errors(value)) {
    const path = `/${part}${e.path}`;
    for (let i = start; i < errors.length; i++) if (errors[i]!.path === path) continue outer;
    errors.push({ path, message: e.message });
  }
  return value;
}

type Conversion = 'number' | 'boolean' | 'string' | 'number[]' | 'boolean[]' | 'string[]';
const NUMERIC = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * The per-request conversion of string values to the declared types. Objects whose properties are
 * scalars (or arrays of scalars, for repeated query keys) get a precompiled loop; any other shape falls
 * back to TypeBox's generic `Value.Convert`, which walks the schema on every call.
 */
function compileConverter(schema: TSchema): CompiledPart['convert'] {
  const defaults = compileDefaults(schema);
  const fallback = (v: Record<string, unknown>) => {
    const out = Value.Convert(schema, { ...v }) as Record<string, unknown>;
    return defaults === null ? out : (defaults(out) as Record<string, unknown>);
  };
  if (schema[Kind] !== 'Object' || typeof schema.properties !== 'object') return fallback;
  const steps: Array<[string, Conversion]> = [];
  for (const [key, prop] of Object.entries(schema.properties as Record<string, TSchema>)) {
    const c = scalar(prop) ?? (prop[Kind] === 'Array' ? arrayOf(prop.items as TSchema) : undefined);
    if (c === undefined) return fallback;
    if (c !== 'string') steps.push([key, c]);
  }
  return (v, inPlace) => {
    // Spreading the query's null-prototype record costs more than the whole conversion: skip it when we may.
    const out = inPlace && !Object.isFrozen(v) ? v : { ...v };
    for (let i = 0; i < steps.length; i++) {
      const [key, c] = steps[i]!;
      const x = out[key];
      if (x !== undefined) out[key] = convertValue(c, x);
    }
    return defaults === null ? out : (defaults(out) as Record<string, unknown>);
  };
}

function scalar(s: TSchema): Conversion | undefined {
  const k = s[Kind] as string;
  if (k === 'Integer' || k === 'Number') return 'number';
  if (k === 'Boolean') return 'boolean';
  if (k === 'String' || (k === 'Literal' && typeof s.const === 'string')) return 'string';
  if (k === 'Union' && (s.anyOf as TSchema[]).every((m) => m[Kind] === 'Literal' && typeof m.const === 'string')) return 'string';
  return undefined;
}

function arrayOf(items: TSchema): Conversion | undefined {
  const c = scalar(items);
  return c === undefined ? undefined : (`${c}[]` as Conversion);
}

function convertValue(c: Conversion, x: unknown): unknown {
  switch (c) {
    case 'number':
      return typeof x === 'string' && NUMERIC.test(x) ? Number(x) : x;
    case 'boolean':
      return x === 'true' ? true : x === 'false' ? false : x;
    case 'string':
      return x;
    default: {
      // A single query value where an array is declared is a one-element array (?tag=a).
      const arr = Array.isArray(x) ? x : [x];
      const el = c.slice(0, -2) as Conversion;
      return el === 'string' ? arr : arr.map((e: unknown) => convertValue(el, e));
    }
  }
}

export function validationError(errors: FieldError[]): HttpError {
  return answerError(422, { detail: `${errors.length} field${errors.length === 1 ? '' : 's'} failed validation`, errors });
}

/** A handler returned a value its response schema does not allow: the server's fault, a 500. */
export function responseMismatch(status: number, errors: FieldError[]): HttpError {
  const list = errors.map((e) => `${e.path}: ${e.message}`).join('; ');
  return answerError(500, { detail: `the handler's ${status} response does not match its schema: ${list}`, errors });
}

/** 415 naming what the route takes, with `Accept-Post`/`Accept-Patch` (RFC 5789 §3.1) listing it. */
export function unsupportedMediaType(type: string | undefined, consumes: readonly string[] = DEFAULT_CONSUMES, method = 'POST'): HttpError {
  const list = consumes.join(', ');
  const headers: Record<string, string> = method === 'PATCH' ? { 'accept-patch': list } : { 'accept-post': list };
  return answerError(415, { detail: `this route takes ${consumes.join(' or ')}, got ${type === undefined ? 'no Content-Type' : JSON.stringify(type.slice(0, 100))}` }, headers);
}

/** What a route with a body schema takes when it does not say (a form needs `consumes`: cross-site forms need no preflight). */
const DEFAULT_CONSUMES: readonly string[] = ['application/json'];
