/**
 * splitStatements: a migration script cut into statements at `;` only where SQL ends one — never inside
 * a string, a quoted name, a dollar-quoted body, a comment or a SQLite trigger's body — each with the line
 * it starts on, so a failing statement can be named.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitStatements } from '../../../lib/app/db/index.js';

const texts = (script: string, d: 'postgres' | 'sqlite' | 'mysql' = 'postgres') => splitStatements(script, d).map((s) => s.text);

describe('splitStatements', () => {
  it('one statement per `;`, each with its first line; blank space and comments before it are not part of it', () => {
    expect(splitStatements('create table a (x int);\n\n-- the second\ninsert into a values (1);   \n  select 1;', 'postgres')).toEqual([
      { text: 'create table a (x int);', line: 1 },
      { text: 'insert into a values (1);', line: 4 },
      { text: 'select 1;', line: 5 },
    ]);
    expect(texts('select 1')).toEqual(['select 1']); // the last may lack its `;`
    expect(texts('select 1;\n-- the end;\n/* really; */\n')).toEqual(['select 1;']);
    expect(texts('  \n\n')).toEqual([]);
  });

  it('a `;` inside strings, quoted names and comments does not split', () => {
    expect(texts(`insert into t values ('a;b', 'it''s; fine');select "odd;name" from t;`)).toEqual([`insert into t values ('a;b', 'it''s; fine');`, 'select "odd;name" from t;']);
    expect(texts('select 1 -- not; here\n+ 1;select /* nor; here */ 2;')).toEqual(['select 1 -- not; here\n+ 1;', 'select /* nor; here */ 2;']);
    expect(texts('select `a;b` from t # no; split\n;select 2;', 'mysql')).toEqual(['select `a;b` from t # no; split\n;', 'select 2;']);
    expect(texts('select 1 # a hash;\n;', 'postgres')).toEqual(['select 1 # a hash;']); // not a comment but on MySQL; a bare `;` is nothing
    expect(texts(';;select 1;;')).toEqual(['select 1;']);
  });

  it("backslashes: MySQL's strings and PostgreSQL's E'' escape a quote; a standard string does not", () => {
    expect(texts(`select 'a\\';b';select 2;`, 'mysql')).toEqual([`select 'a\\';b';`, 'select 2;']);
    expect(texts(`select E'a\\';b';select 2;`)).toEqual([`select E'a\\';b';`, 'select 2;']);
    expect(texts(`select 'a\\';select 2;`)).toEqual([`select 'a\\';`, 'select 2;']); // standard_conforming_strings
    expect(texts(`select date'2020-01-01';select 2;`)).toEqual([`select date'2020-01-01';`, 'select 2;']);
  });

  it('PostgreSQL dollar-quoted bodies, tagged or not', () => {
    const fn = 'create function f() returns int as $$ begin return 1; end; $$ language plpgsql;';
    const tagged = 'do $body$ begin perform 1; raise notice $$x;$$; end $body$;';
    expect(texts(`${fn}\n${tagged}\nselect 3;`)).toEqual([fn, tagged, 'select 3;']);
    expect(texts('select $1;select 2;')).toEqual(['select $1;', 'select 2;']); // a parameter, not a quote
  });

  it("a SQLite trigger's BEGIN … END is one statement, CASE … END inside it too", () => {
    const trigger = 'create trigger t after insert on a begin\n  update b set n = n + 1;\n  insert into c values (case when 1 then 2 else 3 end);\nend;';
    expect(splitStatements(`begin;\n${trigger}\ninsert into a values (1);`, 'sqlite')).toEqual([
      { text: 'begin;', line: 1 },
      { text: trigger, line: 2 },
      { text: 'insert into a values (1);', line: 6 },
    ]);
    expect(texts('create temp trigger x before delete on a begin select 1; end;\nselect 2;', 'sqlite')).toHaveLength(2);
  });

  it('lines count the newlines inside strings, comments and bodies', () => {
    const script = "insert into t values ('one\ntwo');\n/* a\nb */\nselect $$x\ny$$;\n-- c\nselect 'z';";
    expect(splitStatements(script, 'postgres').map((s) => s.line)).toEqual([1, 5, 8]);
  });

  it('property: statements joined by `;` come back one for one, whatever they quote', () => {
    const atom = fc.oneof(
      fc.stringMatching(/^[a-z0-9 ,()=+*]{1,12}$/),
      fc.string({ maxLength: 8 }).map((s) => `'${s.replace(/'/g, "''")}'`),
      fc.string({ maxLength: 8 }).map((s) => `"${s.replace(/"/g, '""')}"`),
      fc.string({ maxLength: 8 }).filter((s) => !s.includes('*/')).map((s) => `/*${s}*/`),
      fc.string({ maxLength: 8 }).filter((s) => !s.includes('\n')).map((s) => `--${s}\n`),
      fc.string({ maxLength: 8 }).filter((s) => !s.includes('$q$')).map((s) => `$q$${s}$q$`),
    );
    const statement = fc.array(atom, { minLength: 1, maxLength: 5 }).map((a) => `select ${a.join(' ')}`);
    fc.assert(
      fc.property(fc.array(statement, { minLength: 1, maxLength: 6 }), (stmts) => {
        const script = stmts.map((s) => `${s};`).join('\n');
        expect(texts(script)).toEqual(stmts.map((s) => `${s};`));
      }),
    );
  });
});
