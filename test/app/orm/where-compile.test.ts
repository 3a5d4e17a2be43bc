/**
 * What `sql` and the ORM's filters compile to, exactly (#28: the statement text and the parameters, from
 * the surviving mutants of db/sql.ts and orm/where.ts). The database-backed suites (orm.test.ts,
 * hostile-input.test.ts) show the statements do what they mean; this pins the statements themselves.
 */
import { describe, expect, it } from 'vitest';
import { Identifier, quoteIdent, Sql, sql } from '../../../lib/app/db/sql.js';
import { mysql, postgres, sqlite } from '../../../lib/app/orm/dialect.js';
import { bigint, bigserial, integer, serial, smallint, table, text, timestamptz } from '../../../lib/app/orm/index.js';
import { beyondColumn, compileWhere, escapeLike } from '../../../lib/app/orm/where.js';

const notes = table('notes', {
  id: serial().primaryKey(),
  title: text(),
  ownerId: integer(),
  small: smallint(),
  big: bigint(),
  bigId: bigserial(),
  at: timestamptz(),
});

const c = (where: Record<string, unknown> | undefined, related?: (key: string, filter: unknown) => Sql | undefined, dialect = postgres) =>
  compileWhere(notes, 'n', where, related, dialect).compile();

describe('sql', () => {
  it('values become numbered parameters, in order, through nested fragments', () => {
    const inner = sql`b = ${2} and c = ${3}`;
    expect(sql`select ${1}, (${inner}), ${4}`.compile()).toEqual({ text: 'select $1, (b = $2 and c = $3), $4', values: [1, 2, 3, 4] });
    expect(sql`no values`.compile()).toEqual({ text: 'no values', values: [] });
    expect(sql`${'only'}`.compile()).toEqual({ text: '$1', values: ['only'] });
  });

  it('identifiers are quoted, each part of a dotted name, quotes doubled', () => {
    expect(quoteIdent('a"b')).toBe('"a""b"');
    expect(quoteIdent('a""b')).toBe('"a""""b"');
    expect(new Identifier('s.t').quoted).toBe('"s"."t"');
    expect(sql`select * from ${sql.ident('x"y.z')}`.compile()).toEqual({ text: 'select * from "x""y"."z"', values: [] });
  });

  it('join: a separator between parts (", " by default), nothing for none', () => {
    expect(sql.join([1, 2, 3]).compile()).toEqual({ text: '$1, $2, $3', values: [1, 2, 3] });
    expect(sql.join([sql`a`, sql`b`], ' or ').compile()).toEqual({ text: 'a or b', values: [] });
    expect(sql.join([7]).compile()).toEqual({ text: '$1', values: [7] });
    expect(sql.join([]).compile()).toEqual({ text: '', values: [] });
    expect(sql`x in (${sql.join([])})`.compile()).toEqual({ text: 'x in ()', values: [] });
  });

  it('unsafe is text, with no parameters', () => {
    expect(sql`select ${sql.unsafe('now()')}, ${1}`.compile()).toEqual({ text: 'select now(), $1', values: [1] });
    expect(sql.unsafe('a').strings).toEqual(['a']);
    expect(sql.unsafe('a').values).toEqual([]);
  });
});

describe('compileWhere', () => {
  it('nothing, an empty object and undefined values are "true"', () => {
    expect(c(undefined)).toEqual({ text: 'true', values: [] });
    expect(c({})).toEqual({ text: 'true', values: [] });
    expect(c({ title: undefined })).toEqual({ text: 'true', values: [] });
    expect(c({ title: { eq: undefined } })).toEqual({ text: 'true', values: [] });
  });

  it('bare values are equality; null is IS NULL; dates, arrays and buffers are values', () => {
    const d = new Date(0);
    const b = Buffer.from('x');
    expect(c({ title: 'a', ownerId: 2 })).toEqual({ text: 'n."title" = $1 and n."owner_id" = $2', values: ['a', 2] });
    expect(c({ title: null })).toEqual({ text: 'n."title" is null', values: [] });
    expect(c({ at: d })).toEqual({ text: 'n."at" = $1', values: [d] });
    expect(c({ title: ['a'] })).toEqual({ text: 'n."title" = $1', values: [['a']] });
    expect(c({ title: b })).toEqual({ text: 'n."title" = $1', values: [b] });
  });

  it('every comparison operator', () => {
    expect(c({ ownerId: { eq: 1, ne: 2, gt: 3, gte: 4, lt: 5, lte: 6 } })).toEqual({
      text: 'n."owner_id" = $1 and n."owner_id" <> $2 and n."owner_id" > $3 and n."owner_id" >= $4 and n."owner_id" < $5 and n."owner_id" <= $6',
      values: [1, 2, 3, 4, 5, 6],
    });
    expect(c({ title: { eq: null } })).toEqual({ text: 'n."title" is null', values: [] });
    expect(c({ title: { ne: null } })).toEqual({ text: 'n."title" is not null', values: [] });
    expect(c({ title: { isNull: true } })).toEqual({ text: 'n."title" is null', values: [] });
    expect(c({ title: { isNull: false } })).toEqual({ text: 'n."title" is not null', values: [] });
    expect(c({ title: { like: 'a%' } })).toEqual({ text: 'n."title" like $1', values: ['a%'] });
    expect(c({ title: { ilike: 'a%' } })).toEqual({ text: 'n."title" ilike $1', values: ['a%'] });
  });

  it('an unknown operator is an error naming it, never text', () => {
    expect(() => c({ title: { between: 1 } })).toThrow('unknown operator "between" on notes.title');
    expect(() => c({ title: { __proto__: 1 } as unknown as Record<string, unknown> })).not.toThrow();
    expect(() => c({ title: JSON.parse('{"constructor": 1}') })).toThrow(/unknown operator "constructor"/);
    expect(() => c({ title: JSON.parse('{"toString": 1}') })).toThrow(/unknown operator "toString"/);
  });

  it('in and notIn: a list (filtered of values beyond an integer column), or a subquery', () => {
    expect(c({ ownerId: { in: [1, 2] } })).toEqual({ text: 'n."owner_id" = any($1)', values: [[1, 2]] });
    expect(c({ ownerId: { notIn: [1, 2] } })).toEqual({ text: 'not (n."owner_id" = any($1))', values: [[1, 2]] });
    expect(c({ ownerId: { in: [1, 2147483648, -2147483649, 2147483647] } })).toEqual({ text: 'n."owner_id" = any($1)', values: [[1, 2147483647]] });
    expect(c({ title: { in: ['99999999999999999999'] } })).toEqual({ text: 'n."title" = any($1)', values: [['99999999999999999999']] });
    const sub = sql`select owner_id from shares where user_id = ${9}`;
    expect(c({ ownerId: { in: sub } })).toEqual({ text: 'n."owner_id" in (select owner_id from shares where user_id = $1)', values: [9] });
    expect(c({ ownerId: { notIn: sub } })).toEqual({ text: 'n."owner_id" not in (select owner_id from shares where user_id = $1)', values: [9] });
  });

  it('AND, OR, NOT and raw sql, nested; empty AND is true and empty OR is false', () => {
    expect(c({ OR: [{ title: 'a' }, { AND: [{ ownerId: 1 }, { NOT: { title: null } }] }] })).toEqual({
      text: '(n."title" = $1 or (n."owner_id" = $2 and not (n."title" is null)))',
      values: ['a', 1],
    });
    expect(c({ AND: [] })).toEqual({ text: 'true', values: [] });
    expect(c({ OR: [] })).toEqual({ text: 'false', values: [] });
    expect(c({ AND: [{ title: 'x' }] })).toEqual({ text: '(n."title" = $1)', values: ['x'] });
    expect(c({ sql: sql`length(title) > ${3}`, title: 'y' })).toEqual({ text: '(length(title) > $1) and n."title" = $2', values: [3, 'y'] });
  });

  it('keys that are not columns go to the relation handler, and an unknown one is an error', () => {
    const related = (key: string, filter: unknown) => (key === 'tags' ? sql`exists (select 1 where ${filter})` : undefined);
    expect(c({ tags: 'x' }, related)).toEqual({ text: 'exists (select 1 where $1)', values: ['x'] });
    expect(() => c({ nope: 1 }, related)).toThrow('notes has no column or relation "nope"');
    expect(() => c({ nope: 1 })).toThrow('notes has no column or relation "nope"');
    expect(() => c({ OR: [{ nope: 1 }] })).toThrow(/nope/);
  });

  it('integers beyond the column type equal no row: at the limit and one past, on each integer type', () => {
    const limits: Array<[string, bigint, bigint]> = [
      ['small', -32768n, 32767n],
      ['ownerId', -2147483648n, 2147483647n],
      ['id', -2147483648n, 2147483647n],
      ['big', -9223372036854775808n, 9223372036854775807n],
      ['bigId', -9223372036854775808n, 9223372036854775807n],
    ];
    for (const [key, lo, hi] of limits) {
      const col = `n."${key === 'ownerId' ? 'owner_id' : key === 'bigId' ? 'big_id' : key}"`;
      for (const v of [lo, hi, String(lo), String(hi)]) {
        expect(c({ [key]: v }), `${key} ${v}`).toEqual({ text: `${col} = $1`, values: [v] });
        expect(beyondColumn(notes, key, v)).toBe(false);
      }
      for (const v of [lo - 1n, hi + 1n, String(lo - 1n), String(hi + 1n)]) {
        expect(c({ [key]: v }), `${key} ${v}`).toEqual({ text: '1 = 0', values: [] });
        expect(c({ [key]: { eq: v } })).toEqual({ text: '1 = 0', values: [] });
        expect(c({ [key]: { ne: v } })).toEqual({ text: `${col} is not null`, values: [] });
        expect(beyondColumn(notes, key, v)).toBe(true);
      }
    }
    // Numbers: whole ones are checked; fractions, text that is not a whole number, and other columns are not.
    expect(c({ small: 32768 })).toEqual({ text: '1 = 0', values: [] });
    expect(c({ small: 32767 })).toEqual({ text: 'n."small" = $1', values: [32767] });
    expect(c({ small: 32768.5 })).toEqual({ text: 'n."small" = $1', values: [32768.5] });
    expect(c({ small: '32768x' })).toEqual({ text: 'n."small" = $1', values: ['32768x'] });
    expect(c({ small: 'x32768' })).toEqual({ text: 'n."small" = $1', values: ['x32768'] });
    expect(c({ small: `1${'0'.repeat(39)}` })).toEqual({ text: '1 = 0', values: [] }); // 40 digits
    expect(c({ small: `1${'0'.repeat(40)}` })).toEqual({ text: 'n."small" = $1', values: [`1${'0'.repeat(40)}`] }); // 41: not taken as a number
    expect(c({ small: { gt: 40000 } })).toEqual({ text: 'n."small" > $1', values: [40000] });
    expect(c({ small: [40000] })).toEqual({ text: 'n."small" = $1', values: [[40000]] }); // an array is not a number
    expect(c({ small: true })).toEqual({ text: 'n."small" = $1', values: [true] });
    expect(c({ title: { eq: '99999999999' } })).toEqual({ text: 'n."title" = $1', values: ['99999999999'] });
    expect(c({ ownerId: { gt: null } })).toEqual({ text: 'n."owner_id" > $1', values: [null] });
    expect(c({ title: '99999999999' })).toEqual({ text: 'n."title" = $1', values: ['99999999999'] });
    expect(beyondColumn(notes, 'title', 99999999999)).toBe(false);
    expect(beyondColumn(notes, 'nope', 99999999999)).toBe(false);
  });

  it('dialects: MySQL like is binary and escaped, SQLite in-lists', () => {
    expect(c({ title: { like: 'a' } }, undefined, mysql).text).toBe("n.\"title\" like binary $1 escape '\\\\'");
    expect(c({ title: { ilike: 'a' } }, undefined, mysql).text).toBe("lower(n.\"title\") like lower($1) escape '\\\\'");
    expect(c({ ownerId: { in: [1] } }, undefined, sqlite)).toEqual(sqlite.inList(sql.unsafe('n."owner_id"'), [1], false).compile());
  });

  it('escapeLike escapes %, _ and the escape character', () => {
    expect(escapeLike('50%_a\\b')).toBe('50\\%\\_a\\\\b');
    expect(escapeLike('plain')).toBe('plain');
  });
});
