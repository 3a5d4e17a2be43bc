/**
 * Route schemas (TypeBox, i.e. JSON Schema): params, query, headers and body are checked before the
 * handler runs, with validators compiled once when the route is added. Strings from the path, the query
 * and headers are converted to the declared types first (`"5"` → 5 for an integer). A failure is a 422
 * problem listing every failing field; a body that is not JSON where a body schema expects it is a 415.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { HttpError } from './errors.js';

export interface RouteSchema {
  params?: TSchema;
  query?: TSchema;
  headers?: TSchema;
  body?: TSchema;
  /** Response schemas by status, for the OpenAPI document. */
  response?: Record<number, TSchema>;
}

/** The static types a schema gives a handler. */
export type SchemaTypes<S extends RouteSchema> = {
  params: S['params'] extends TSchema ? Static<S['params']> : Record<string, string | number>;
  query: S['query'] extends TSchema ? Static<S['query']> : Record<string, string | string[]>;
  body: S['body'] extends TSchema ? Static<S['body']> : unknown;
};

export interface CompiledSchema {
  schema: RouteSchema;
  params: TypeCheck<TSchema> | null;
  query: TypeCheck<TSchema> | null;
  headers: TypeCheck<TSchema> | null;
  body: TypeCheck<TSchema> | null;
}

export function compileSchema(schema: RouteSchema): CompiledSchema {
  const c = (s: TSchema | undefined) => (s === undefined ? null : TypeCompiler.Compile(s));
  return { schema, params: c(schema.params), query: c(schema.query), headers: c(schema.headers), body: c(schema.body) };
}

export interface FieldError {
  /** Where: `/body/title`, `/query/limit`, ... (JSON Pointer under the part). */
  path: string;
  message: string;
}

/**
 * Checks one part of a request. Returns the converted value; pushes every failure to `errors`.
 */
export function checkPart(part: string, check: TypeCheck<TSchema>, value: unknown, convert: boolean, errors: FieldError[]): unknown {
  const v = convert ? Value.Convert(check.Schema(), value) : value;
  if (check.Check(v)) return v;
  for (const e of check.Errors(v)) errors.push({ path: `/${part}${e.path}`, message: e.message });
  return v;
}

export function validationError(errors: FieldError[]): HttpError {
  return new HttpError(422, { detail: `${errors.length} field${errors.length === 1 ? '' : 's'} failed validation`, errors });
}

export function unsupportedMediaType(type: string | undefined): HttpError {
  return new HttpError(415, { detail: `expected application/json, got ${type ?? 'no content-type'}` });
}
