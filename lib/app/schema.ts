/**
 * Route schemas (TypeBox, i.e. JSON Schema): params, query, headers and body are checked before the
 * handler runs, with validators compiled once when the route is added. Strings from the path, the query
 * and headers are converted to the declared types first (`"5"` → 5 for an integer). A failure is a 422
 * problem listing every failing field; a body that is neither JSON nor an urlencoded form where a body
 * schema expects one is a 415.
 */
import { Kind, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { answerError, type HttpError } from './errors.js';
import { compileSerializer, type Serializer } from './serializer.js';

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
}

/** The static types a schema gives a handler. */
export type SchemaTypes<S extends RouteSchema> = {
  params: S['params'] extends TSchema ? Static<S['params']> : Record<string, string | number>;
  query: S['query'] extends TSchema ? Static<S['query']> : Record<string, string | string[]>;
  body: S['body'] extends TSchema ? Static<S['body']> : unknown;
};

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
  /** Converts an urlencoded form's strings to the body schema's types. */
  form: CompiledPart['convert'] | null;
  /** JSON serializers by response status. */
  response: Record<number, Serializer> | null;
}

export function compileSchema(schema: RouteSchema): CompiledSchema {
  const part = (s: TSchema | undefined): CompiledPart | null => (s === undefined ? null : { check: TypeCompiler.Compile(s), convert: compileConverter(s) });
  return { schema, params: part(schema.params), query: part(schema.query), headers: part(schema.headers), body: schema.body === undefined ? null : TypeCompiler.Compile(schema.body), form: schema.body === undefined ? null : compileConverter(schema.body), response: compileResponses(schema.response) };
}

function compileResponses(response: RouteSchema['response']): Record<number, Serializer> | null {
  if (response === undefined) return null;
  const out: Record<number, Serializer> = {};
  for (const [status, s] of Object.entries(response)) out[Number(status)] = compileSerializer(s);
  return out;
}

export interface FieldError {
  /** Where: `/body/title`, `/query/limit`, ... (JSON Pointer under the part). */
  path: string;
  message: string;
}

/** Checks a converted part. Returns it; pushes every failure to `errors`. */
export function checkPart(part: string, check: TypeCheck<TSchema>, value: unknown, errors: FieldError[]): unknown {
  if (check.Check(value)) return value;
  for (const e of check.Errors(value)) errors.push({ path: `/${part}${e.path}`, message: e.message });
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
  const fallback = (v: Record<string, unknown>) => Value.Convert(schema, { ...v }) as Record<string, unknown>;
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
    return out;
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

export function unsupportedMediaType(type: string | undefined): HttpError {
  return answerError(415, { detail: `expected application/json or application/x-www-form-urlencoded, got ${type ?? 'no content-type'}` });
}
