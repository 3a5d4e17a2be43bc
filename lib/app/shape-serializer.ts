/**
 * JSON for responses without a response schema: the exact bytes of `JSON.stringify`, faster on the few
 * object shapes a route keeps returning.
 *
 * Node 20's `JSON.stringify` (V8 11) walks every object generically, ~100 ns a property on this kind of
 * machine. A route returns objects of one or a few shapes, so each place in the output (the root, each
 * property, the elements of each array) learns the shapes it sees — own enumerable keys, in order — and
 * compiles a function per shape with the keys as literals; values are encoded by their runtime type, so
 * `null` in one response and a string in the next fit the same shape. A value that fits no learned shape
 * is encoded by `JSON.stringify` itself; so is everything when code generation is not allowed.
 *
 * Exactness: a shape matches only an object with the learned prototype whose enumerable string keys
 * (for-in: own, and inherited ones, which make it miss) are exactly the learned ones in the same order;
 * boxed primitives are never learned; `toJSON` is called with the
 * property name (or index) as the key argument, as ECMA-262 §25.5.2.2 SerializeJSONProperty does; values
 * that JSON leaves out (undefined, functions, symbols) are left out, or written `null` in arrays; a BigInt
 * anywhere hands the whole value to `JSON.stringify`, which throws as it should. One difference remains:
 * when a value is handed over part-way through, getters and `toJSON` methods met before that point run
 * again.
 */

/** Characters a JSON string must escape, and surrogates (paired or lone: left to JSON.stringify). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Shapes learned per place; a place that sees more stops learning and uses JSON.stringify. */
const MAX_SHAPES = 4;
/** Objects with more keys than this are records keyed by data, not shapes: not learned. */
const MAX_KEYS = 32;
/** Nested places deeper than this are not learned. */
const MAX_DEPTH = 8;
/** A place that missed this many more times than it hit stops learning. */
const GIVE_UP = 64;

type ShapeFn = (o: object) => string | undefined;

let codegen = true;

/**
 * Learns and encodes the JSON of one place in a value (one per route at the root).
 *
 * @example
 * ```ts
 * const json = new ShapeSerializer();
 * json.stringify({ id: 1, name: 'Ada' }); // '{"id":1,"name":"Ada"}', as JSON.stringify; the shape is learned
 * json.stringify({ id: 2, name: null });  // same shape, compiled code
 * ```
 */
export class ShapeSerializer {
  #shapes: ShapeFn[] = [];
  #misses = 0;
  #learning = true;
  readonly #depth: number;
  /** Places under this one: per learned shape, per key; and the elements of arrays found here. */
  #elements: ShapeSerializer | null = null;

  constructor(depth = 0) {
    this.#depth = depth;
    if (depth >= MAX_DEPTH) this.#learning = false;
  }

  /** The JSON text of `value`, byte for byte what `JSON.stringify(value)` returns. */
  stringify(value: unknown): string {
    if (typeof value !== 'object' || value === null || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      return JSON.stringify(value);
    }
    return this.object(value);
  }

  /** @internal A non-null object whose `toJSON`, if any, has been applied by the caller. */
  object(o: object): string {
    const shapes = this.#shapes;
    if (Array.isArray(o)) {
      const r = this.#array(o);
      return r === undefined ? JSON.stringify(o) : r;
    }
    for (let i = 0; i < shapes.length; i++) {
      const r = shapes[i]!(o);
      if (r !== undefined) return r;
    }
    if (this.#learning) {
      const r = this.#learn(o);
      if (r !== undefined) return r;
    }
    return JSON.stringify(o);
  }

  #array(a: unknown[]): string | undefined {
    const n = a.length;
    if (n === 0) return '[]';
    const el = (this.#elements ??= new ShapeSerializer(this.#depth + 1));
    let s = '[';
    for (let i = 0; i < n; i++) {
      let v = a[i];
      if (typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
        v = (v as { toJSON(k: string): unknown }).toJSON(String(i));
        if (typeof v === 'object' && v !== null && typeof (v as { toJSON?: unknown }).toJSON === 'function') return undefined;
      }
      let e: string;
      switch (typeof v) {
        case 'string':
          e = NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : `"${v}"`;
          break;
        case 'number':
          e = v - v === 0 ? `${v}` : 'null';
          break;
        case 'boolean':
          e = v ? 'true' : 'false';
          break;
        case 'object':
          e = v === null ? 'null' : el.object(v);
          break;
        case 'bigint':
          return undefined;
        default:
          e = 'null'; // undefined, function, symbol (ECMA-262 §25.5.2.6)
      }
      s += i === 0 ? e : `,${e}`;
    }
    return `${s}]`;
  }

  #learn(o: object): string | undefined {
    const proto = Object.getPrototypeOf(o) as object | null;
    // Boxed primitives are written as their primitive (§25.5.2.2 step 4), not as objects.
    if (!codegen || o instanceof Number || o instanceof String || o instanceof Boolean || o instanceof BigInt) {
      this.#miss();
      return undefined;
    }
    const keys = Object.keys(o);
    if (keys.length > MAX_KEYS) {
      this.#miss();
      return undefined;
    }
    let fn: ShapeFn;
    const places = keys.map(() => new ShapeSerializer(this.#depth + 1));
    try {
      fn = compileShape(proto, keys, places);
    } catch {
      codegen = false; // code generation from strings is disallowed in this process
      this.#learning = false;
      return undefined;
    }
    this.#shapes.push(fn);
    if (this.#shapes.length >= MAX_SHAPES) this.#learning = false;
    return fn(o);
  }

  #miss(): void {
    if (++this.#misses >= GIVE_UP) this.#learning = false;
  }
}

/**
 * The encoder of one shape: checks the prototype and the key sequence, then encodes each value by its
 * type (a nested object goes to the place learned for that key). Returns undefined when `o` does not have
 * this shape, or holds something only JSON.stringify may answer (a BigInt, a toJSON returning an object
 * with a toJSON of its own).
 */
function compileShape(proto: object | null, keys: string[], places: ShapeSerializer[]): ShapeFn {
  let body = '';
  for (let i = 0; i < keys.length; i++) {
    const k = JSON.stringify(keys[i]);
    const prefix = JSON.stringify(`${JSON.stringify(keys[i])}:`);
    body += `
  v = o[${k}];
  if (typeof v === 'object' && v !== null && typeof v.toJSON === 'function') {
    v = v.toJSON(${k});
    if (typeof v === 'object' && v !== null && typeof v.toJSON === 'function') return undefined;
  }
  switch (typeof v) {
    case 'string': s += c + ${prefix} + (E.test(v) ? J(v) : '"' + v + '"'); c = ','; break;
    case 'number': s += c + ${prefix} + (v - v === 0 ? '' + v : 'null'); c = ','; break;
    case 'boolean': s += c + ${prefix} + (v ? 'true' : 'false'); c = ','; break;
    case 'object': s += c + ${prefix} + (v === null ? 'null' : P[${i}].object(v)); c = ','; break;
    case 'bigint': return undefined;
  }`;
  }
  const src = `
return function shape(o) {
  if (G(o) !== PR) return undefined;
  let n = 0;
  for (const k in o) if (k !== K[n++]) return undefined;
  if (n !== ${keys.length}) return undefined;
  let s = '{', c = '', v;${body}
  return s + '}';
};`;
  return new Function('G', 'PR', 'K', 'P', 'E', 'J', src)(Object.getPrototypeOf, proto, keys, places, NEEDS_ESCAPE, JSON.stringify) as ShapeFn;
}
