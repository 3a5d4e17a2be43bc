
/** One statement of a script: its text (with its `;`, without surrounding blank space) and first line. */
export interface ScriptStatement {
  text: string;
  line: number;
}

/**
 * A SQL script split into its statements, each with the line it starts on — so a migration that fails can
 * say which statement failed. The split is at `;` outside string literals ('…', with `''` and, on MySQL,
 * backslash escapes; PostgreSQL's E'…' too), quoted identifiers ("…", `…`), dollar-quoted bodies
 * (`$tag$…$tag$`), comments (`--`, `#` on MySQL, `/* … *\/`), and a trigger's BEGIN … END (SQLite).
 *
 * @example
 * ```ts
 * splitStatements("create table t (a text);\ninsert into t values ('a;b');", 'postgres');
 * // [{ text: 'create table t (a text);', line: 1 }, { text: "insert into t values ('a;b');", line: 2 }]
 * ```
 */
export function splitStatements(script: string, dialect: 'postgres' | 'sqlite' | 'mysql'): ScriptStatement[] {
  const out: ScriptStatement[] = [];
  const n = script.length;
  let start = 0; // where the current statement began
  let line = 1;
  let i = 0;
  // Inside CREATE TRIGGER … BEGIN, a `;` ends a statement of the body, not the trigger (SQLite).
  let triggerDepth = 0;
  const push = (end: number) => {
    const raw = script.slice(start, end);
    const body = raw.slice(leadingTrivia(raw, dialect));
    const text = body.trim();
    if (text !== '' && text !== ';') out.push({ text, line: line - countLines(body) });
    start = end;
  };
  while (i < n) {
    const c = script[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === "'" || c === '"' || c === '`') {
      const backslash = c === "'" && (dialect === 'mysql' || (dialect === 'postgres' && /[Ee]/.test(script[i - 1] ?? '') && !/\w/.test(script[i - 2] ?? '')));
      i = skipQuoted(script, i, c, backslash, (k) => (line += k));
    } else if (c === '-' && script[i + 1] === '-' || (c === '#' && dialect === 'mysql')) {
      while (i < n && script[i] !== '\n') i++;
    } else if (c === '/' && script[i + 1] === '*') {
      const end = script.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      line += countLines(script.slice(i, stop));
      i = stop;
    } else if (c === '$' && dialect === 'postgres' && /^\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$/.test(script.slice(i, i + 64))) {
      const tag = /^\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$/.exec(script.slice(i, i + 64))![0];
      const end = script.indexOf(tag, i + tag.length);
      const stop = end < 0 ? n : end + tag.length;
      line += countLines(script.slice(i, stop));
      i = stop;
    } else if (c === ';') {
      i++;
      if (triggerDepth > 0) continue;
      push(i);
    } else if (/[A-Za-z_]/.test(c) && !/\w/.test(script[i - 1] ?? '')) {
      const word = /^\w+/.exec(script.slice(i, i + 32))![0].toLowerCase();
      if (dialect === 'sqlite') {
        if (word === 'begin' && /^\s*create\s+(?:temp\s+|temporary\s+)?trigger\b/i.test(script.slice(start, i).replace(/--[^\n]*\n/g, ''))) triggerDepth++;
        else if (word === 'end' && triggerDepth > 0 && /^end\s*;/i.test(script.slice(i, i + 16))) triggerDepth--; // a CASE's END has no `;`
      }
      i += word.length;
    } else i++;
  }
  push(n);
  return out;
}

/** The index just past the closing quote of the literal opening at `at`. */
function skipQuoted(s: string, at: number, q: string, backslash: boolean, lines: (k: number) => void): number {
  let i = at + 1;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '\n') lines(1);
    if (backslash && c === '\\') {
      if (s[i + 1] === '\n') lines(1);
      i += 2;
    } else if (c === q) {
      if (s[i + 1] === q) i += 2; // a doubled quote stands for itself
      else return i + 1;
    } else i++;
  }
  return i;
}

const countLines = (s: string): number => {
  let k = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 10) k++;
  return k;
};

/** Where a statement proper begins: after blank space and comments. */
function leadingTrivia(raw: string, dialect: string): number {
  let i = 0;
  for (;;) {
    while (i < raw.length && /\s/.test(raw[i]!)) i++;
    if (raw.startsWith('--', i) || (dialect === 'mysql' && raw[i] === '#')) {
      const nl = raw.indexOf('\n', i);
      i = nl < 0 ? raw.length : nl + 1;
    } else if (raw.startsWith('/*', i)) {
      const end = raw.indexOf('*/', i + 2);
      i = end < 0 ? raw.length : end + 2;
    } else return i;
  }
}
