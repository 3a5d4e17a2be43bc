/**
 * Response serialization compiled from a route's response schema (the fast-json-stringify idea): the
 * shape is known, so property names are literals in generated code and only values are encoded. It also
 * guards the output: a property the schema does not declare is never written (a `passwordHash` on a row
 * never reaches the client) unless the schema says so (`additionalProperties: true` or a schema for them).
 *
 * Every shape TypeBox builds for JSON is compiled: objects, records (pattern properties), arrays, tuples,
 * unions (nullable, discriminated, enums), intersections of objects, recursive and referenced schemas
 * (`Type.Recursive`, `Type.Ref`, `Type.Module`), literals, dates, primitives. A union writes the value by
 * the first member the value fits (a structural check: types, required properties, literals). A schema
 * that cannot guard its output (`Type.Not`, a `$ref` that names nothing, an intersection with a union
 * inside) is refused when the serializer is compiled, with a message saying what to write instead.
 *
 * Values are not validated, but nothing leaks: a primitive of the wrong type is written as JSON.stringify
 * writes it; an object or array where the schema has none (or a value no union member fits) throws a
 * {@link ResponseShapeError} — a 500 whose text names no value — rather than writing it whole. An object's
 * `toJSON()` is called and its result written by the schema, so it cannot bring undeclared keys either.
 */
import { Kind, type TSchema } from '@sinclair/typebox';

export type Serializer = (value: unknown) => string;

/**
 * A handler returned a value its response schema has no place for (it would have been written whole).
 *
 * @example
 * ```ts
 * app.get('/user', { schema: { response: { 200: Type.Object({ id: Type.Integer() }) } } }, () => [1, 2]);
 * // answered 500 (no text of it); onError and the log get a ResponseShapeError:
 * // 'the response schema expects an object here, the handler returned an array'
 * ```
 */
export class ResponseShapeError extends Error {
  override name = 'ResponseShapeError';
}

/** Characters a JSON string must escape, and lone surrogates (JSON.stringify escapes them). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function describe(x: unknown): string {
  return Array.isArray(x) ? 'an array' : x === null ? 'null' : `a value of type ${typeof x}`;
}

/** @internal Runtime helpers the generated code calls. */
const rt = {
  str(x: unknown): string {
    if (typeof x === 'string') return NEEDS_ESCAPE.test(x) ? JSON.stringify(x) : `"${x}"`;
    return rt.prim(x);
  },
  num(x: unknown): string {
    if (typeof x === 'number') return Number.isFinite(x) ? `${x}` : 'null';
    // A bigint is a JSON number of any length (JSON.stringify would throw).
    if (typeof x === 'bigint') return `${x}`;
    return rt.prim(x);
  },
  /** Explicitly any value (`Type.Any`, `Type.Unknown`, `additionalProperties: true`). */
  any(x: unknown): string {
    return JSON.stringify(x) ?? 'null';
  },
  /**
   * A value where the schema expects a primitive — or, where it expects `expected` (an array, an object), a
   * value that is not one: a primitive is written as it is, an object only if its toJSON() is a primitive.
   */
  prim(x: unknown, expected = 'a primitive'): string {
    if (typeof x === 'object' && x !== null) {
      if (typeof (x as { toJSON?: unknown }).toJSON === 'function') {
        const j: unknown = (x as { toJSON(): unknown }).toJSON();
        if (j === null || typeof j !== 'object') return JSON.stringify(j) ?? 'null';
      }
      throw new ResponseShapeError(`the response schema expects ${expected} here, the handler returned ${describe(x)}`);
    }
    return JSON.stringify(x) ?? 'null';
  },
  /** An object's toJSON() result, written by the schema in its place. */
  json(x: { toJSON(): unknown }): unknown {
    return x.toJSON();
  },
  fail(x: unknown, what: string): never {
    throw new ResponseShapeError(`the response schema's ${what} has no member that fits ${describe(x)} the handler returned`);
  },
  has: Object.hasOwn,
};

/**
 * Compiles a serializer for `schema`. `references` are schemas with an `$id` that `Type.Ref` in it may name.
 *
 * @example
 * ```ts
 * const toJson = compileSerializer(Type.Object({ id: Type.Integer(), title: Type.String() }));
 * toJson({ id: 1, title: 'a', secret: 'x' }); // '{"id":1,"title":"a"}'
 * const maybe = compileSerializer(Type.Union([Type.Object({ id: Type.Integer() }), Type.Null()]));
 * maybe({ id: 1, passwordHash: 'x' }); // '{"id":1}'
 * ```
 */
export function compileSerializer(schema: TSchema, references: readonly TSchema[] = []): Serializer {
  const g = new Gen(references);
  g.collect(schema);
  const root = g.ser(schema, '');
  const body = `${g.fns.join('\n')}\nreturn ${root};`;
  return new Function('rt', 'c', body)(rt, g.consts) as Serializer;
}

/**
 * A schema the serializer cannot make safe; thrown when the route is added.
 *
 * @example
 * ```ts
 * try {
 *   compileSerializer(Type.Unsafe({ not: { type: 'string' } }));
 * } catch (err) {
 *   if (err instanceof UnsupportedResponseSchema) console.error(err.message); // 'response schema: a Unsafe cannot be written as JSON …'
 * }
 * // On a route, the app reports it as a SchemaError naming the route, when the route is added.
 * ```
 */
export class UnsupportedResponseSchema extends Error {
  override name = 'UnsupportedResponseSchema';
}

type S = TSchema & Record<string, unknown>;

/** An object-like description: declared properties, key patterns, and what to do with other keys. */
interface ObjectShape {
  props: Map<string, S[]>;
  required: Set<string>;
  patterns: { re: string; schema: S }[];
  /** `true`: any value; a schema: values by it; null: left out. */
  extra: true | S | null;
}

const PRIMITIVE_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null']);

class Gen {
  fns: string[] = [];
  consts: unknown[] = [];
  #ids = new Map<string, S>();
  #serNames = new Map<S, string>();
  #guardNames = new Map<S, string>();

  constructor(references: readonly TSchema[]) {
    for (const r of references) this.collect(r);
  }

  /** Registers every sub-schema with an `$id` (and a module's `$defs`) so references can be resolved. */
  collect(schema: unknown): void {
    if (schema === null || typeof schema !== 'object') return;
    if (Array.isArray(schema)) {
      for (const s of schema) this.collect(s);
      return;
    }
    const s = schema as S;
    if (typeof s.$id === 'string' && !this.#ids.has(s.$id)) this.#ids.set(s.$id, s);
    if (s.$defs !== null && typeof s.$defs === 'object') {
      for (const [name, d] of Object.entries(s.$defs as Record<string, S>)) if (!this.#ids.has(name)) this.#ids.set(name, d);
    }
    for (const k of ['properties', 'patternProperties', '$defs'] as const) {
      const m = s[k];
      if (m !== null && typeof m === 'object') for (const v of Object.values(m)) this.collect(v);
    }
    for (const k of ['items', 'anyOf', 'allOf', 'oneOf', 'additionalProperties', 'not'] as const) this.collect(s[k]);
  }

  /** Follows `$ref`s to the schema they name. */
  resolve(schema: S, at: string): S {
    let s = schema;
    for (let i = 0; typeof s.$ref === 'string'; i++) {
      const t = this.#ids.get(s.$ref);
      if (t === undefined) throw new UnsupportedResponseSchema(`${here(at)}: $ref "${s.$ref}" names no schema; give it (with its $id) among the route's schemas or inline it`);
      if (i > 32) throw new UnsupportedResponseSchema(`${here(at)}: $ref "${schema.$ref as string}" does not reach a schema in 33 steps; a reference that refers to itself needs an object in between`);
      s = t;
    }
    return s;
  }

  #fn(cache: Map<S, string>, s: S, make: (name: string) => string): string {
    const known = cache.get(s);
    if (known !== undefined) return known;
    const name = `f${this.fns.length}`;
    this.fns.push(''); // reserve the slot (and the name) before nested functions, so recursion finds it
    cache.set(s, name);
    this.fns[Number(name.slice(1))] = make(name);
    return name;
  }

  #const(v: unknown): string {
    this.consts.push(v);
    return `c[${this.consts.length - 1}]`;
  }

  /** The serializer function (name) for `schema`. */
  ser(schema: TSchema, at: string): string {
    const s = this.resolve(schema as S, at);
    const kind = s[Kind] as string | undefined;
    switch (kind) {
      case 'String':
      case 'TemplateLiteral':
        return 'rt.str';
      case 'Number':
      case 'Integer':
        return 'rt.num';
      case 'Boolean':
        return this.#fn(this.#serNames, s, (n) => `function ${n}(x) { return x === true ? 'true' : x === false ? 'false' : rt.prim(x); }`);
      case 'Null':
        return this.#fn(this.#serNames, s, (n) => `function ${n}(x) { return x === null ? 'null' : rt.prim(x); }`);
      case 'Literal':
      case 'Date':
      case 'Undefined':
      case 'Void':
        return 'rt.prim';
      case 'Any':
      case 'Unknown':
        return 'rt.any';
      case 'Unsafe':
        if (isPrimitiveSchema(s)) return 'rt.prim';
        break;
      case 'Array':
        return this.#array(s, at);
      case 'Tuple':
        return this.#tuple(s, at);
      case 'Object':
      case 'Record':
        return this.#object(s, this.#shape(s, at), at);
      case 'Intersect':
        return this.#object(s, this.#shape(s, at), at);
      case 'Union':
        return this.#union(s, at);
      case undefined:
        // A plain JSON schema (no TypeBox kind): its type says what it is.
        if (isPrimitiveSchema(s)) return s.type === 'number' || s.type === 'integer' ? 'rt.num' : s.type === 'string' ? 'rt.str' : 'rt.prim';
        if (s.type === 'object' || s.properties !== undefined) return this.#object(s, this.#shape(s, at), at);
        if (s.type === 'array') return this.#array(s, at);
        if (Array.isArray(s.anyOf) || Array.isArray(s.oneOf)) return this.#union(s, at);
        if (Array.isArray(s.allOf)) return this.#object(s, this.#shape(s, at), at);
        if (Object.keys(s).every((k) => k === 'description' || k === 'title' || k === '$id' || k === 'default' || k === 'examples')) return 'rt.any';
        break;
    }
    throw new UnsupportedResponseSchema(
      `${here(at)}: a ${kind ?? 'schema without a type'} cannot be written as JSON with only its declared properties; ` +
        'describe the value with Type.Object, Type.Array, Type.Union, Type.Intersect of objects, Type.Record or a primitive (Type.Unknown to send it as is)',
    );
  }

  #array(s: S, at: string): string {
    const items = s.items as S | S[] | undefined;
    if (items === undefined) return 'rt.any';
    if (Array.isArray(items)) return this.#tuple(s, at);
    return this.#fn(this.#serNames, s, (n) => {
      const item = this.ser(items, `${at}/items`);
      return `function ${n}(x) {
  if (!Array.isArray(x)) return rt.prim(x, 'an array');
  const n = x.length;
  if (n === 0) return '[]';
  let s = '[' + ${item}(x[0]);
  for (let i = 1; i < n; i++) s += ',' + ${item}(x[i]);
  return s + ']';
}`;
    });
  }

  #tuple(s: S, at: string): string {
    const items = (s.items ?? []) as S[];
    return this.#fn(this.#serNames, s, (n) => {
      const fns = items.map((it, i) => this.ser(it, `${at}/items/${i}`));
      const parts = fns.map((f, i) => `${f}(x[${i}])`).join(" + ',' + ");
      return `function ${n}(x) {
  if (!Array.isArray(x)) return rt.prim(x, 'an array');
  return '[' + ${parts === '' ? "''" : parts} + ']';
}`;
    });
  }

  /** Declared properties of an object, a record, or an intersection of them. */
  #shape(s: S, at: string): ObjectShape {
    const shape: ObjectShape = { props: new Map(), required: new Set(), patterns: [], extra: null };
    this.#addShape(shape, s, at, true);
    return shape;
  }

  #addShape(shape: ObjectShape, schema: S, at: string, top: boolean): void {
    const s = this.resolve(schema, at);
    const allOf = s.allOf as S[] | undefined;
    if (Array.isArray(allOf)) {
      allOf.forEach((b, i) => this.#addShape(shape, b, `${at}/allOf/${i}`, false));
      if (top && s.unevaluatedProperties === true) shape.extra = true;
      return;
    }
    const kind = s[Kind] as string | undefined;
    if (!this.#objectLike(s)) {
      throw new UnsupportedResponseSchema(
        `${here(at)}: an intersection may only join objects (found ${kind ?? String(s.type)}); for an intersection with a union, write a union of intersections (Type.Union([Type.Intersect([A, C]), Type.Intersect([B, C])]))`,
      );
    }
    for (const [k, p] of Object.entries((s.properties ?? {}) as Record<string, S>)) {
      const list = shape.props.get(k);
      if (list === undefined) shape.props.set(k, [p]);
      else list.push(p);
    }
    for (const k of (s.required ?? []) as string[]) shape.required.add(k);
    for (const [re, p] of Object.entries((s.patternProperties ?? {}) as Record<string, S>)) shape.patterns.push({ re, schema: p });
    const ap = s.additionalProperties;
    if (ap === true) shape.extra = true;
    else if (ap !== undefined && ap !== false && typeof ap === 'object' && shape.extra === null) shape.extra = ap as S;
  }

  #objectLike(s: S): boolean {
    const kind = s[Kind] as string | undefined;
    return kind === 'Object' || kind === 'Record' || kind === 'Intersect' || (kind === undefined && (s.type === 'object' || s.properties !== undefined || s.patternProperties !== undefined || Array.isArray(s.allOf)));
  }

  /** The schema of property `k` when several intersected objects declare it. */
  #propSchema(list: S[]): S {
    return list.length === 1 ? list[0]! : ({ allOf: list } as unknown as S);
  }

  #object(s: S, shape: ObjectShape, at: string): string {
    return this.#fn(this.#serNames, s, (n) => {
      const lines: string[] = [];
      const keys = [...shape.props.keys()];
      for (const key of keys) {
        const list = shape.props.get(key)!;
        // Declared by several intersected objects: objects merge; otherwise the first declaration writes
        // it (its own guard keeps it to what that declaration allows).
        const merged = list.length > 1 && list.every((p) => this.#objectLike(this.resolve(p, at))) ? this.#propSchema(list) : null;
        const fn = merged === null ? this.ser(list[0]!, `${at}/${key}`) : this.#object(merged, this.#shape(merged, `${at}/${key}`), `${at}/${key}`);
        const k = JSON.stringify(key);
        // A property that is undefined is left out, as JSON.stringify does.
        lines.push(`  v = x[${k}]; if (v !== undefined) { s += sep + ${JSON.stringify(`${k}:`)} + ${fn}(v); sep = ','; }`);
      }
      if (shape.patterns.length > 0 || shape.extra !== null) {
        const known = this.#const(new Set(keys));
        const tests = shape.patterns.map((p) => `${this.#const(new RegExp(p.re, 'u'))}.test(k) ? ${this.ser(p.schema, `${at}/patternProperties`)} : `).join('');
        const other = shape.extra === null ? 'null' : shape.extra === true ? 'rt.any' : this.ser(shape.extra, `${at}/additionalProperties`);
        lines.push(`  for (const k in x) {
    if (!rt.has(x, k) || ${known}.has(k)) continue;
    v = x[k];
    if (v === undefined || typeof v === 'function') continue;
    const f = ${tests}${other};
    if (f === null) continue;
    s += sep + rt.str(k) + ':' + f(v); sep = ',';
  }`);
      }
      return `function ${n}(x) {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return rt.prim(x, 'an object');
  if (typeof x.toJSON === 'function') { x = rt.json(x); if (x === null || typeof x !== 'object' || Array.isArray(x)) return rt.prim(x, 'an object'); }
  let s = '', sep = '{', v;
${lines.join('\n')}
  return s === '' ? '{}' : s + '}';
}`;
    });
  }

  #union(s: S, at: string): string {
    const members = ((s.anyOf ?? s.oneOf) as S[] | undefined) ?? [];
    return this.#fn(this.#serNames, s, (n) => {
      const branches = members.map((m, i) => `  if (${this.guard(m, `${at}/anyOf/${i}`)}(x)) return ${this.ser(m, `${at}/anyOf/${i}`)}(x);`);
      return `function ${n}(x) {
  if (x !== null && typeof x === 'object' && !(x instanceof Date) && typeof x.toJSON === 'function') x = rt.json(x);
${branches.join('\n')}
  return rt.fail(x, ${JSON.stringify(at === '' ? 'union' : `union at ${at}`)});
}`;
    });
  }

  /** The guard function (name) telling whether a value fits `schema` (types, required keys, literals). */
  guard(schema: TSchema, at: string): string {
    const s = this.resolve(schema as S, at);
    const kind = s[Kind] as string | undefined;
    const type = s.type as string | undefined;
    const simple = (expr: string): string => this.#fn(this.#guardNames, s, (n) => `function ${n}(x) { return ${expr}; }`);
    if ('const' in s) return simple(`x === ${this.#const(s.const)}`);
    if (Array.isArray(s.enum)) return simple(`${this.#const(new Set(s.enum as unknown[]))}.has(x)`);
    switch (kind ?? type) {
      case 'String':
      case 'TemplateLiteral':
      case 'string':
        return simple(`typeof x === 'string' || x instanceof Date`);
      case 'Number':
      case 'number':
        return simple(`typeof x === 'number' || typeof x === 'bigint'`);
      case 'Integer':
      case 'integer':
        return simple(`Number.isInteger(x) || typeof x === 'bigint'`);
      case 'Boolean':
      case 'boolean':
        return simple(`typeof x === 'boolean'`);
      case 'Null':
      case 'null':
        return simple('x === null');
      case 'Date':
        return simple('x instanceof Date');
      case 'Undefined':
      case 'Void':
        return simple('x === undefined');
      case 'Any':
      case 'Unknown':
        return simple('true');
      case 'Array':
      case 'Tuple':
      case 'array':
        return this.#fn(this.#guardNames, s, (n) => {
          const items = s.items as S | S[] | undefined;
          if (items === undefined) return `function ${n}(x) { return Array.isArray(x); }`;
          if (Array.isArray(items)) {
            const checks = items.map((it, i) => `${this.guard(it, `${at}/items/${i}`)}(x[${i}])`);
            return `function ${n}(x) { return Array.isArray(x) && x.length === ${items.length}${checks.map((c) => ` && ${c}`).join('')}; }`;
          }
          const g = this.guard(items, `${at}/items`);
          return `function ${n}(x) { if (!Array.isArray(x)) return false; for (let i = 0; i < x.length; i++) if (!${g}(x[i])) return false; return true; }`;
        });
      case 'Union':
        return this.#fn(this.#guardNames, s, (n) => {
          const members = ((s.anyOf ?? s.oneOf) as S[] | undefined) ?? [];
          const gs = members.map((m, i) => `${this.guard(m, `${at}/anyOf/${i}`)}(x)`);
          return `function ${n}(x) { return ${gs.length === 0 ? 'false' : gs.join(' || ')}; }`;
        });
      default:
        if (kind === 'Union' || Array.isArray(s.anyOf) || Array.isArray(s.oneOf)) return this.guard({ ...s, [Kind]: 'Union' } as TSchema, at);
        // Objects by TypeBox kind, or plain schemas that describe one (an Unsafe object is neither: refused below).
        if (kind === 'Object' || kind === 'Record' || kind === 'Intersect' || (kind === undefined && (type === 'object' || s.properties !== undefined || Array.isArray(s.allOf)))) return this.#objectGuard(s, at);
        if (kind === 'Unsafe' && isPrimitiveSchema(s)) return simple(`x === null || typeof x !== 'object'`);
        throw new UnsupportedResponseSchema(`${here(at)}: a ${kind ?? 'schema without a type'} in a union cannot be told apart from the other members; describe it with a TypeBox type`);
    }
  }

  #objectGuard(s: S, at: string): string {
    return this.#fn(this.#guardNames, s, (n) => {
      const shape = this.#shape(s, at);
      const checks: string[] = [];
      for (const [key, list] of shape.props) {
        const k = JSON.stringify(key);
        const gs = list.map((p) => `${this.guard(p, `${at}/${key}`)}(v)`).join(' && ');
        checks.push(shape.required.has(key) ? `  v = x[${k}]; if (v === undefined || !(${gs})) return false;` : `  v = x[${k}]; if (v !== undefined && !(${gs})) return false;`);
      }
      // Keys a pattern (a record) or an additionalProperties schema takes: their values must fit it too.
      if (shape.patterns.length > 0 || (shape.extra !== null && shape.extra !== true)) {
        const known = this.#const(new Set(shape.props.keys()));
        const tests = shape.patterns.map((p) => `${this.#const(new RegExp(p.re, 'u'))}.test(k) ? ${this.guard(p.schema, `${at}/patternProperties`)} : `).join('');
        const other = shape.extra === null || shape.extra === true ? 'null' : this.guard(shape.extra, `${at}/additionalProperties`);
        checks.push(`  for (const k in x) {
    if (!rt.has(x, k) || ${known}.has(k)) continue;
    v = x[k];
    if (v === undefined || typeof v === 'function') continue;
    const g = ${tests}${other};
    if (g !== null && !g(v)) return false;
  }`);
      }
      return `function ${n}(x) {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return false;
  if (typeof x.toJSON === 'function') x = rt.json(x);
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return false;
  let v;
${checks.join('\n')}
  return true;
}`;
    });
  }
}

function isPrimitiveSchema(s: S): boolean {
  return (typeof s.type === 'string' && PRIMITIVE_TYPES.has(s.type)) || 'const' in s || (Array.isArray(s.enum) && s.type === undefined);
}

function here(at: string): string {
  return at === '' ? 'response schema' : `response schema at ${at}`;
}
