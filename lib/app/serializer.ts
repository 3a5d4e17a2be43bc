/**
 * Response serialization compiled from a route's response schema (the fast-json-stringify idea): the
 * shape is known, so property names are literals in generated code and only values are encoded. It also
 * guards the output: properties the schema does not declare are left out (a `passwordHash` on a row
 * never reaches the client) unless the object schema says `additionalProperties: true`.
 *
 * Scope: objects, arrays, strings, numbers, integers, booleans, null, literals; anything else (unions,
 * recursive or referenced schemas) is encoded with `JSON.stringify`. Values are not validated: a wrong
 * type is encoded as JSON.stringify would encode it.
 */
import { Kind, type TSchema } from '@sinclair/typebox';

export type Serializer = (value: unknown) => string;

/** Characters a JSON string must escape, and lone surrogates (JSON.stringify escapes them). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** @internal Runtime helpers the generated code calls. */
const rt = {
  str(x: unknown): string {
    if (typeof x === 'string') return NEEDS_ESCAPE.test(x) ? JSON.stringify(x) : `"${x}"`;
    return JSON.stringify(x) ?? 'null';
  },
  num(x: unknown): string {
    if (typeof x === 'number') return Number.isFinite(x) ? `${x}` : 'null';
    return JSON.stringify(x) ?? 'null';
  },
  any(x: unknown): string {
    return JSON.stringify(x) ?? 'null';
  },
};

/**
 * Compiles a serializer for `schema`.
 *
 * @example
 * ```ts
 * const toJson = compileSerializer(Type.Object({ id: Type.Integer(), title: Type.String() }));
 * toJson({ id: 1, title: 'a', secret: 'x' }); // '{"id":1,"title":"a"}'
 * ```
 */
export function compileSerializer(schema: TSchema): Serializer {
  const fns: string[] = [];
  const root = emit(schema, fns);
  const body = `${fns.join('\n')}\nreturn ${root};`;
  return new Function('rt', body)(rt) as Serializer;
}

/** Emits the function for `schema` into `fns` and returns its name (or a runtime helper's). */
function emit(schema: TSchema, fns: string[]): string {
  const kind = schema[Kind] as string | undefined;
  switch (kind) {
    case 'String':
      return 'rt.str';
    case 'Number':
    case 'Integer':
      return 'rt.num';
    case 'Boolean': {
      const name = `f${fns.length}`;
      fns.push(`function ${name}(x) { return x === true ? 'true' : x === false ? 'false' : rt.any(x); }`);
      return name;
    }
    case 'Null':
      return `(() => 'null')`;
    case 'Array': {
      if (schema.items === undefined || Array.isArray(schema.items)) return 'rt.any';
      const name = `f${fns.length}`;
      fns.push(''); // reserve the slot so nested functions get other names
      const item = emit(schema.items as TSchema, fns);
      fns[Number(name.slice(1))] = `function ${name}(x) {
  if (!Array.isArray(x)) return rt.any(x);
  const n = x.length;
  if (n === 0) return '[]';
  let s = '[' + ${item}(x[0]);
  for (let i = 1; i < n; i++) s += ',' + ${item}(x[i]);
  return s + ']';
}`;
      return name;
    }
    case 'Object': {
      const props = schema.properties as Record<string, TSchema> | undefined;
      if (props === undefined) return 'rt.any';
      const name = `f${fns.length}`;
      fns.push('');
      const lines: string[] = [];
      const keys = Object.keys(props);
      for (const key of keys) {
        const fn = emit(props[key]!, fns);
        const k = JSON.stringify(key);
        // A property that is undefined is left out, as JSON.stringify does.
        lines.push(`  v = x[${k}]; if (v !== undefined) { s += sep + ${JSON.stringify(`${k}:`)} + ${fn}(v); sep = ','; }`);
      }
      if (schema.additionalProperties === true) {
        const known = JSON.stringify(Object.fromEntries(keys.map((k) => [k, true])));
        lines.push(`  for (const k in x) { if (!Object.hasOwn(x, k) || Object.hasOwn(${known}, k)) continue; v = x[k]; if (v === undefined || typeof v === 'function') continue; s += sep + JSON.stringify(k) + ':' + rt.any(v); sep = ','; }`);
      }
      fns[Number(name.slice(1))] = `function ${name}(x) {
  if (x === null || typeof x !== 'object') return rt.any(x);
  if (typeof x.toJSON === 'function') return rt.any(x);
  let s = '', sep = '{', v;
${lines.join('\n')}
  return s === '' ? '{}' : s + '}';
}`;
      return name;
    }
    case 'Literal':
    default:
      return 'rt.any';
  }
}
