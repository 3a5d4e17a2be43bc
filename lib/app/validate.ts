/**
 * Checking a request against its route's compiled schema — params, query, headers and the body (JSON or
 * an urlencoded form, by the media types the route consumes) — and, in dev and tests, a response against
 * the schema of its status.
 */
import type { TSchema } from '@sinclair/typebox';
import { parsePattern, type Params } from '../router/index.js';
import type { Context } from './context.js';
import { answerError } from './errors.js';
import { isJsonType, parseMediaType } from './media-type.js';
import { checkPart, responseMismatch, SchemaError, unsupportedMediaType, validationError, type CompiledSchema, type FieldError } from './schema.js';

/** A params schema may only name parameters the path has: any other could never be present (a 422 for ever). */
export function checkParamsSchema(schema: TSchema, pattern: string, where: string): void {
  const names = new Set(parsePattern(pattern).flatMap((t) => (t.kind === 'param' ? [t.name] : [])));
  const props = Object.keys((schema as { properties?: Record<string, unknown> }).properties ?? {});
  const stray = props.filter((n) => !names.has(n));
  if (stray.length > 0) {
    const have = names.size === 0 ? 'the path has no parameters' : `its parameters: ${[...names].join(', ')}`;
    throw new SchemaError(`${where}: the params schema names ${stray.map((n) => `"${n}"`).join(', ')}, not in the path (${have})`);
  }
}

/**
 * With `checkResponses`: the JSON about to be sent must match the response schema of its status. The
 * serialized form is checked (parsed back), since that is what the schema describes: a `Date` is its ISO
 * string there, and a property the serializer dropped is absent.
 */
export function checkResponseBody(ctx: Context, compiled: CompiledSchema, body: string | Uint8Array): void {
  const status = ctx.res.statusCode;
  const check = compiled.responseChecks?.[status];
  if (check === undefined || typeof body !== 'string') return;
  const errors: FieldError[] = [];
  checkPart('response', check, JSON.parse(body) as unknown, errors);
  if (errors.length > 0) throw responseMismatch(status, errors);
}

/** Checks a request against its route's compiled schema (after middleware, before the handler). */
export function validate(ctx: Context, c: CompiledSchema, limit: number | undefined): void | Promise<void> {
  const errors: FieldError[] = [];
  if (c.params !== null) ctx.params = checkPart('params', c.params.check, c.params.convert(ctx.params, true), errors) as Params;
  if (c.query !== null) ctx.query = checkPart('query', c.query.check, c.query.convert(ctx.query, true), errors) as Record<string, string | string[]>;
  if (c.headers !== null) checkPart('headers', c.headers.check, c.headers.convert(ctx.req.headers, false), errors);
  if (c.body !== null) return validateBody(ctx, c, errors, limit);
  if (errors.length > 0) throw validationError(errors);
}

/**
 * The body part of `validate`, the only part that waits: JSON, or an urlencoded form (its strings
 * converted to the declared types like the query's). Anything else is a 415; over `limit` bytes, a 413.
 */
async function validateBody(ctx: Context, c: CompiledSchema, errors: FieldError[], limit: number | undefined): Promise<void> {
  const type = ctx.req.get('content-type');
  const consumes = c.consumes;
  if (type === undefined) throw unsupportedMediaType(undefined, consumes, ctx.req.method);
  // One media type, well formed (a repeated header arrives joined with a comma: a list, refused).
  const media = parseMediaType(type);
  if (media === null) throw answerError(400, { detail: 'Content-Type must be one well-formed media type (RFC 9110 §8.3)' });
  const charset = media.params.charset?.toLowerCase();
  let value: unknown;
  if (isJsonType(media.essence) && consumes.some((t) => t === media.essence || (t === 'application/json' && media.essence.endsWith('+json')))) {
    if (charset !== undefined && charset !== 'utf-8') throw unsupportedMediaType(type, consumes, ctx.req.method);
    value = await readJson(ctx, limit);
  } else if (media.essence === 'application/x-www-form-urlencoded' && consumes.includes(media.essence)) value = c.form!(await ctx.form(limit), true);
  else throw unsupportedMediaType(type, consumes, ctx.req.method);
  if (c.bodyDefaults !== null) value = c.bodyDefaults(value);
  ctx.body = checkPart('body', c.body!, value, errors);
  if (errors.length > 0) throw validationError(errors);
  // After the check, so `additionalProperties: false` still refuses what it names.
  if (c.bodyStrip !== null) c.bodyStrip(ctx.body);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** A JSON body: invalid UTF-8 is a 400 (never stored with U+FFFD in its place), as is invalid JSON. */
async function readJson(ctx: Context, limit: number | undefined): Promise<unknown> {
  const bytes = await ctx.req.buffer(limit);
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw answerError(400, { detail: 'the JSON body is not valid UTF-8 (RFC 8259 §8.1)' });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw answerError(400, { detail: `invalid JSON body: ${(err as Error).message}` });
  }
}
