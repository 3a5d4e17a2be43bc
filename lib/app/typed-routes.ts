/**
 * Routes as types: each route an app gains in a chain (`app.get(...).post(...)`) adds its method, pattern,
 * inputs and answers to the app's type, which `covet/client` reads (as Hono's `hc` reads an app's). Only
 * types live here; nothing runs.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import type { Readable } from 'node:stream';
import type { PathParams } from '../router/index.js';
import type { Html } from './html.js';
import type { RouteSchema } from './schema.js';

/** One route's types as a client sees them: what a call sends, and the body of each answer by status. */
export interface TypedRoute {
  params: unknown;
  query: unknown;
  headers: unknown;
  body: unknown;
  responses: unknown;
}

/** What a client may send as a query value. */
export type QueryValue = string | number | boolean | null | undefined | ReadonlyArray<string | number | boolean>;

/**
 * A value after it crossed the wire as JSON (or text, or bytes): `Date` → string (its `toJSON`), text and
 * HTML templates → string, bytes and streams → `Uint8Array`, nothing → `undefined`.
 */
export type Wire<T> = T extends void | undefined
  ? undefined
  : T extends string | number | boolean | null
    ? T
    : T extends Uint8Array | Readable
      ? Uint8Array
      : T extends Html
        ? string
        : T extends { toJSON(): infer J }
          ? Wire<J>
          : T extends ReadonlyArray<infer E>
            ? Wire<E>[]
            : T extends object
              ? { [K in keyof T as T[K] extends (...args: never[]) => unknown ? never : K]: Wire<T[K]> }
              : never;

/**
 * A route's answers: its response schemas by status, else what its handler returns, at its success
 * status (`status`, default 200).
 */
export type Responses<S extends RouteSchema, Ret, St extends number> =
  S['response'] extends Record<number, TSchema> ? { [K in keyof S['response'] & number]: Static<S['response'][K]> } : { [K in St]: Wire<Awaited<Ret>> };

/**
 * The client's view of a route with schema `S`, pattern `P` and handler result `Ret`. Query and headers are
 * optional member by member: a schema's `default` is not visible in its type, and the server fills those in.
 */
export interface Typed<S extends RouteSchema, P extends string, Ret, St extends number> extends TypedRoute {
  params: S['params'] extends TSchema ? Static<S['params']> : PathParams<P>;
  query: S['query'] extends TSchema ? Partial<Static<S['query']>> : Record<string, QueryValue>;
  headers: S['headers'] extends TSchema ? Partial<Static<S['headers']>> : Record<string, string>;
  body: S['body'] extends TSchema ? Static<S['body']> : unknown;
  responses: Responses<S, Ret, St>;
}

/** `Routes` with one more route: `M` (one method or a union) at pattern `P`. */
export type WithRoute<Routes, M extends string, P extends string, T extends TypedRoute> = Routes & { [K in P]: { [X in M]: T } };

/** A scope's routes under `Pre` (`group('/admin', ...)`): `'/'` becomes the prefix itself. */
export type Prefixed<Pre extends string, G> = { [K in keyof G & string as K extends '/' ? Pre : `${Pre}${K}`]: G[K] };
