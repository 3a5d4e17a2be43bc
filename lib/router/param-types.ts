/**
 * Parameter types: each checks a decoded segment value and converts it (int/float to numbers). A check that
 * fails means "this route does not match here", never an error, so another route may match.
 */
import type { ParamType } from './pattern.js';

/** Returns the converted value, or `undefined` when the value does not fit the type. */
export type ParamCheck = (value: string) => string | number | undefined;

const INT = /^-?\d{1,15}$/;
const FLOAT = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export function checkerFor(type: ParamType, regex?: string): ParamCheck | null {
  switch (type) {
    case 'string':
    case 'wildcard':
      return null;
    case 'int':
      return (v) => (INT.test(v) ? Number(v) : undefined);
    case 'float':
      return (v) => {
        if (!FLOAT.test(v)) return undefined;
        const n = Number(v);
        return Number.isFinite(n) ? n : undefined;
      };
    case 'uuid':
      return (v) => (UUID.test(v) ? v : undefined);
    case 'slug':
      return (v) => (SLUG.test(v) ? v : undefined);
    case 'path':
      // The rest of the path, refusing "." and ".." segments so it cannot climb out of a directory.
      return (v) => {
        if (v.length === 0) return undefined;
        for (const seg of v.split('/')) if (seg === '..' || seg === '.') return undefined;
        return v;
      };
    case 'regex': {
      const re = new RegExp(`^(?:${regex!})$`);
      return (v) => (re.test(v) ? v : undefined);
    }
  }
}

/**
 * Priority among parameter kinds at one position (lower first): typed and constrained parameters before
 * plain ones, rest-of-path last. Among typed ones the order is fixed, so insertion order never matters.
 */
export function paramRank(type: ParamType): number {
  switch (type) {
    case 'int':
      return 10;
    case 'float':
      return 11;
    case 'uuid':
      return 12;
    case 'slug':
      return 13;
    case 'regex':
      return 14;
    case 'string':
      return 20;
    case 'path':
      return 30;
    case 'wildcard':
      return 31;
  }
}
