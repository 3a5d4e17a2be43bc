/**
 * The `sql` tagged template: interpolated values always become parameters (`$1`, `$2`, ...), never SQL
 * text. Fragments nest (`sql` inside `sql`), identifiers are quoted by `sql.ident`, lists joined by
 * `sql.join`; `sql.unsafe` is the one, explicit, way to put text into the statement.
 */

/**
 * A piece of SQL with its parameter values, composable into larger statements.
 *
 * @example
 * ```ts
 * const where = sql`owner_id = ${userId}`;
 * const q = sql`select * from notes where ${where} order by id limit ${10}`;
 * q.compile(); // { text: 'select * from notes where owner_id = $1 order by id limit $2', values: [userId, 10] }
 * ```
 */
export class Sql {
  readonly strings: readonly string[];
  readonly values: readonly unknown[];
  /** @internal */
  constructor(strings: readonly string[], values: readonly unknown[]) {
    this.strings = strings;
    this.values = values;
  }

  /** The statement text with `$n` placeholders, and the parameter values in order. */
  compile(): { text: string; values: unknown[] } {
    const values: unknown[] = [];
    const text = this.#write(values);
    return { text, values };
  }

  #write(values: unknown[]): string {
    let text = this.strings[0]!;
    for (let i = 0; i < this.values.length; i++) {
      const v = this.values[i];
      if (v instanceof Sql) text += v.#write(values);
      else if (v instanceof Identifier) text += v.quoted;
      else {
        values.push(v);
        text += `$${values.length}`;
      }
      text += this.strings[i + 1]!;
    }
    return text;
  }
}

/** One identifier in double quotes, quotes inside doubled (SQL §5.2.5): `quoteIdent('a"b')` → `"a""b"`. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A string constant for where a parameter cannot go (DDL, `DO` blocks), quotes inside doubled: `'it''s'`. */
export function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * A quoted identifier (table or column name).
 *
 * @example
 * ```ts
 * sql`select ${sql.ident('a"b')} from t`.compile().text; // 'select "a""b" from t'
 * ```
 */
export class Identifier {
  readonly quoted: string;
  constructor(name: string) {
    // A dotted name quotes each part.
    this.quoted = name.split('.').map(quoteIdent).join('.');
  }
}

/**
 * @example
 * ```ts
 * const byId = sql`select * from notes where id = ${id}`;
 * const q = sql`select ${sql.join(cols.map(sql.ident))} from ${sql.ident('notes')} where ${byId.where ?? sql`true`}`;
 * await db.query(sql`update notes set title = ${title} where id = ${id}`);
 * ```
 */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): Sql {
  return new Sql(strings, values);
}

sql.ident = (name: string): Identifier => new Identifier(name);
sql.join = (parts: readonly unknown[], separator = ', '): Sql => {
  if (parts.length === 0) return new Sql([''], []);
  return new Sql(['', ...parts.slice(1).map(() => separator), ''], parts);
};
/** Raw SQL text. Never pass user input here. */
sql.unsafe = (text: string): Sql => new Sql([text], []);
