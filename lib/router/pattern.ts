/**
 * Route patterns: parsing `'/users/{id:int}/files/:name.:ext'` into tokens, with every mistake reported
 * at registration time as a {@link RouteError}.
 *
 * Syntax:
 * - static text; `::` is a literal `:`
 * - `:name` or `{name}`: a plain parameter (one segment, or up to the static text that follows it)
 * - `{name:int}`, `{name:float}`, `{name:uuid}`, `{name:slug}`: typed parameters (int/float converted)
 * - `{name:path}`: the rest of the path, `/` included, `..` segments refused (last token only)
 * - `{name:<regex>}`: a parameter that must match the regular expression, e.g. `{code:[A-Z]{3}}`; a plain
 *   word is a type name, so an unknown one (`{id:integer}`) is refused, and a one-word regex is `{x:(word)}`
 * - a `?` after a parameter that ends the pattern makes it optional (`/:id?`, `{id:int}?`)
 * - `*` at the end: the rest of the path, `/` included, as the param `*`
 */

export type ParamType = 'string' | 'int' | 'float' | 'uuid' | 'slug' | 'path' | 'regex' | 'wildcard';

export interface StaticToken {
  kind: 'static';
  text: string;
}

export interface ParamToken {
  kind: 'param';
  name: string;
  type: ParamType;
  /** Source of the constraint for `type: 'regex'`. */
  regex?: string;
  optional: boolean;
}

export type Token = StaticToken | ParamToken;

/**
 * A registration mistake: malformed pattern, duplicate parameter name, or a route that conflicts.
 *
 * @example
 * ```ts
 * try {
 *   router.add('GET', '/users/:id/:id', handler);
 * } catch (err) {
 *   if (err instanceof RouteError) console.error(err.message); // names the pattern and the problem
 * }
 * ```
 */
export class RouteError extends Error {
  readonly code: 'MALFORMED_PATTERN' | 'DUPLICATE_PARAM' | 'ROUTE_CONFLICT' | 'INVALID_METHOD';
  constructor(code: RouteError['code'], message: string) {
    super(message);
    this.name = 'RouteError';
    this.code = code;
  }
}

const NAME_START = /[A-Za-z_$]/;
const NAME_CHAR = /[A-Za-z0-9_$]/;
const TYPES = new Set(['int', 'float', 'uuid', 'slug', 'path']);

/**
 * Parses a pattern into tokens. Adjacent static text is merged.
 *
 * @example
 * ```ts
 * parsePattern('/users/{id:int}/files/{rest:path}'); // tokens: static, param (int), static, param (path)
 * ```
 */
export function parsePattern(pattern: string): Token[] {
  const bad = (why: string): never => {
    throw new RouteError('MALFORMED_PATTERN', `route pattern ${JSON.stringify(pattern)}: ${why}`);
  };
  if (pattern[0] !== '/') bad('must start with "/"');
  const tokens: Token[] = [];
  const names = new Set<string>();
  let text = '';
  const flush = () => {
    if (text.length > 0) tokens.push({ kind: 'static', text });
    text = '';
  };
  const addParam = (p: ParamToken) => {
    if (names.has(p.name)) {
      throw new RouteError('DUPLICATE_PARAM', `route pattern ${JSON.stringify(pattern)}: parameter "${p.name}" used twice`);
    }
    names.add(p.name);
    // The pattern starts with "/", so no text before a parameter means another parameter just before it.
    if (text.length === 0) bad(`parameters "${(tokens[tokens.length - 1] as ParamToken).name}" and "${p.name}" need static text between them`);
    flush();
    tokens.push(p);
  };
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === ':') {
      if (pattern[i + 1] === ':') {
        text += ':';
        i += 2;
        continue;
      }
      let j = i + 1;
      if (!NAME_START.test(pattern[j] ?? '')) bad(`":" at ${i} must be followed by a parameter name`);
      while (NAME_CHAR.test(pattern[j] ?? '')) j++;
      const name = pattern.slice(i + 1, j);
      let optional = false;
      if (pattern[j] === '?') {
        optional = true;
        j++;
      }
      addParam({ kind: 'param', name, type: 'string', optional });
      i = j;
    } else if (c === '{') {
      // Find the matching brace, allowing braces inside a regex ({code:[A-Z]{3}}).
      let depth = 1;
      let j = i + 1;
      while (depth > 0) {
        const d = pattern[j];
        if (d === undefined) bad(`unclosed "{" at ${i}`);
        else if (d === '\\') j++;
        else if (d === '{') depth++;
        else if (d === '}') depth--;
        j++;
      }
      const body = pattern.slice(i + 1, j - 1);
      const colon = body.indexOf(':');
      const name = colon < 0 ? body : body.slice(0, colon);
      if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name)) bad(`invalid parameter name ${JSON.stringify(name)}`);
      let type: ParamType = 'string';
      let regex: string | undefined;
      if (colon !== -1) {
        const spec = body.slice(colon + 1);
        if (spec.length === 0) bad(`empty type for "${name}"`);
        if (TYPES.has(spec)) type = spec as ParamType;
        else if (/^[A-Za-z_]\w*$/.test(spec)) {
          // A plain word is meant as a type name ({id:integer}); taken as a regex it would match only itself.
          bad(`unknown parameter type "${spec}" for "${name}": the types are ${[...TYPES].join(', ')}; a regular expression that is one plain word goes in parentheses, {${name}:(${spec})}`);
        } else {
          try {
            new RegExp(`^(?:${spec})$`);
          } catch (e) {
            bad(`invalid regular expression for "${name}": ${(e as Error).message}`);
          }
          type = 'regex';
          regex = spec;
        }
      }
      let optional = false;
      if (pattern[j] === '?') {
        optional = true;
        j++;
      }
      addParam(regex === undefined ? { kind: 'param', name, type, optional } : { kind: 'param', name, type, regex, optional });
      i = j;
    } else if (c === '*') {
      if (i !== pattern.length - 1) bad('"*" must end the pattern');
      addParam({ kind: 'param', name: '*', type: 'wildcard', optional: false });
      i++;
    } else if (c === '}' ) {
      bad(`unbalanced "}" at ${i}`);
    } else {
      if (c === '?' || c === '#') bad(`"${c}" is not allowed in a path pattern`);
      text += c;
      i++;
    }
  }
  flush();
  // Rest-of-path parameters and optional parameters can only end the pattern.
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.kind !== 'param') continue;
    const last = k === tokens.length - 1;
    // ("*" was refused earlier unless last.)
    if (t.type === 'path' && !last) bad(`"${t.name}" matches the rest of the path and must end the pattern`);
    if (t.optional && !last) bad(`optional parameter "${t.name}" must end the pattern`);
    // The token before a parameter is static text (two parameters in a row were refused above).
    if (t.optional && !(tokens[k - 1] as StaticToken).text.endsWith('/')) {
      bad(`optional parameter "${t.name}" must be a whole last segment`);
    }
  }
  return tokens;
}

/** The patterns an optional trailing parameter stands for: with it, and without it (and its slash). */
export function expandOptional(tokens: Token[]): Token[][] {
  // (A static token has no `optional`.) The form with it is the tokens as they are: matching ignores `optional`.
  if ((tokens[tokens.length - 1] as ParamToken).optional !== true) return [tokens];
  const prev = tokens[tokens.length - 2] as StaticToken;
  const stripped = prev.text.slice(0, -1);
  const without: Token[] = [...tokens.slice(0, -2)];
  if (stripped.length > 0) without.push({ kind: 'static', text: stripped });
  if (without.length === 0) without.push({ kind: 'static', text: '/' });
  return [tokens, without];
}

/** A key that is equal for patterns no request can tell apart (parameter names ignored). */
export function shapeKey(tokens: Token[]): string {
  return tokens
    // Static text never holds "{" (it starts a parameter), so no parameter's key can be mistaken for text.
    .map((t) => (t.kind === 'static' ? t.text : t.type === 'regex' ? `{:${t.regex}}` : `{:${t.type}}`))
    .join('');
}
