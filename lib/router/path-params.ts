/**
 * The parameters of a route pattern, as a type: `PathParams<'/users/{id:int}/files/:name.:ext'>` is
 * `{ id: number; name: string; ext: string }`. Mirrors pattern.ts: `int`/`float` parameters are numbers
 * (the router converts them), every other kind a string, an optional last parameter (`?`) may be absent,
 * and `*` is the param `'*'`. A pattern that is not a literal type gives a record of both.
 */

type Lower = 'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g' | 'h' | 'i' | 'j' | 'k' | 'l' | 'm' | 'n' | 'o' | 'p' | 'q' | 'r' | 's' | 't' | 'u' | 'v' | 'w' | 'x' | 'y' | 'z';
type Digit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9';
type NameChar = Lower | Uppercase<Lower> | Digit | '_' | '$';

/** Splits the leading parameter name off `S`: `[name, rest]`. */
type TakeName<S extends string, Acc extends string = ''> = S extends `${infer C}${infer R}` ? (C extends NameChar ? TakeName<R, `${Acc}${C}`> : [Acc, S]) : [Acc, ''];

/** The value type of a `{name:spec}` parameter. */
type ValueOf<Spec extends string> = Spec extends 'int' | 'float' ? number : string;

type Param<Name extends string, V, Optional extends boolean> = Optional extends true ? { [K in Name]?: V } : { [K in Name]: V };

type Flatten<T> = { [K in keyof T]: T[K] };

/** Walks the pattern character by character, as pattern.ts does, collecting the parameters. */
type Walk<S extends string, Acc> = S extends `::${infer R}`
  ? Walk<R, Acc>
  : S extends `:${infer R}`
    ? TakeName<R> extends [infer N extends string, infer R2 extends string]
      ? R2 extends `?${infer R3}`
        ? Walk<R3, Acc & Param<N, string, true>>
        : Walk<R2, Acc & Param<N, string, false>>
      : Acc
    : S extends `{${infer Body}}${infer R}`
      ? (Body extends `${infer N}:${infer Spec}` ? [N, ValueOf<Spec>] : [Body, string]) extends [infer N extends string, infer V]
        ? R extends `?${infer R2}`
          ? Walk<R2, Acc & Param<N, V, true>>
          : Walk<R, Acc & Param<N, V, false>>
        : Acc
      : S extends `*${infer R}`
        ? Walk<R, Acc & { '*': string }>
        : S extends `${infer _C}${infer R}`
          ? Walk<R, Acc>
          : Acc;

/**
 * @example
 * ```ts
 * import type { PathParams } from 'covet/router';
 * type P = PathParams<'/orgs/{org:slug}/users/{id:int}'>; // { org: string; id: number }
 * ```
 */
export type PathParams<P extends string> = string extends P ? Record<string, string | number> : Flatten<Walk<P, {}>>;
