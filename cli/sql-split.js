// @ts-check
/**
 * Splits a SQL script into statements for `dblease sql --file`. SQL over HTTP runs one
 * statement per query (extended protocol), so a migration file has to be cut at its
 * top-level semicolons: not those inside strings, quoted identifiers, dollar-quoted bodies
 * or comments.
 *
 * Known limit: SQL-standard function bodies (`BEGIN ATOMIC … END`) contain bare semicolons;
 * write such functions with a dollar-quoted body instead.
 */

/**
 * @param {string} sql
 * @returns {string[]} statements, trimmed, without their final semicolon; statements that are
 * only comments or whitespace are dropped (Postgres would reject them as empty).
 */
export function splitSqlStatements(sql) {
  /** @type {string[]} */
  const statements = [];
  let start = 0;
  let hasCode = false; // anything but whitespace and comments since `start`
  let i = 0;
  const n = sql.length;

  const finish = (/** @type {number} */ end) => {
    const text = sql.slice(start, end).trim();
    if (hasCode && text) statements.push(text);
    hasCode = false;
  };

  while (i < n) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const eol = sql.indexOf('\n', i);
      i = eol === -1 ? n : eol + 1;
    } else if (c === '/' && next === '*') {
      // Postgres block comments nest.
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') (depth++, (i += 2));
        else if (sql[i] === '*' && sql[i + 1] === '/') (depth--, (i += 2));
        else i++;
      }
    } else if (c === "'") {
      // E'…' strings take backslash escapes; standard strings only double the quote.
      const escaped = i > 0 && /[eE]/.test(sql[i - 1]) && !/[A-Za-z0-9_]/.test(sql[i - 2] ?? '');
      i = skipQuoted(sql, i + 1, "'", escaped);
      hasCode = true;
    } else if (c === '"') {
      i = skipQuoted(sql, i + 1, '"', false);
      hasCode = true;
    } else if (c === '$' && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? '')) {
      // $tag$ or $$ opens a dollar-quoted string; $1 is a parameter.
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (m) {
        const close = sql.indexOf(m[0], i + m[0].length);
        i = close === -1 ? n : close + m[0].length;
      } else {
        i++;
      }
      hasCode = true;
    } else if (c === ';') {
      finish(i);
      start = ++i;
    } else {
      if (!/\s/.test(c)) hasCode = true;
      i++;
    }
  }
  finish(n);
  return statements;
}

/**
 * The index just past the closing quote (a doubled quote is an escaped one).
 * @param {string} sql
 * @param {number} i just past the opening quote
 * @param {string} quote
 * @param {boolean} backslashEscapes
 */
function skipQuoted(sql, i, quote, backslashEscapes) {
  while (i < sql.length) {
    const c = sql[i];
    if (backslashEscapes && c === '\\') i += 2;
    else if (c === quote && sql[i + 1] === quote) i += 2;
    else if (c === quote) return i + 1;
    else i++;
  }
  return sql.length;
}
