// @ts-check
import fs from 'node:fs/promises';

/**
 * Writing connection strings into a `.env` that the user (or their tools) also edits. Only the
 * lines that assign the keys being written change; every other byte, comments, blank lines,
 * line endings and a missing final newline included, stays as it was.
 */

/** Values made only of these characters are safe unquoted for dotenv parsers and for `source .env`. */
const BARE = /^[A-Za-z0-9_@%+:,./-]*$/;

/**
 * A value quoted so that dotenv (npm), Node's `--env-file`, Docker Compose and POSIX shells
 * all read back exactly `value`. Single quotes are literal in all of them (no `$` expansion,
 * no escapes). Double quotes are the fallback for a value with a single quote; inside them
 * these readers agree on no escape at all, so a value that would need one (`"`, `$`, a
 * backtick, a backslash, a newline) cannot be written portably and is refused rather than
 * corrupted.
 * dblease's connection strings are percent-encoded URLs and always take one of the first forms.
 * @param {string} value
 */
export function quoteValue(value) {
  if (BARE.test(value)) return value;
  if (/[\r\n]/.test(value)) throw new Error('a value with a line break cannot be written portably to a .env file');
  if (!value.includes("'")) return `'${value}'`;
  if (!/["$`\\]/.test(value)) return `"${value}"`;
  throw new Error('the value mixes quotes, "$", backslashes or newlines in a way no .env reader agrees on');
}

const ASSIGNMENT = /^(\s*)(export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=(.*)$/;

/**
 * Where a quoted value opened on `rest` closes: -1 if it does not on this line.
 * @param {string} rest text after the opening quote
 * @param {string} quote
 */
function closingQuote(rest, quote) {
  for (let i = 0; i < rest.length; i++) {
    if (quote === '"' && rest[i] === '\\') {
      i++;
      continue;
    }
    if (rest[i] === quote) return i;
  }
  return -1;
}

/**
 * Sets `entries` in the text of a `.env` file. An existing assignment of a key (with or without
 * `export`, including a quoted value spanning several lines) is replaced in place, every time
 * it occurs, so no later line can override the new value; keys not yet present are appended.
 * @param {string} text the file's current content ('' for a new file)
 * @param {[string, string][]} entries
 * @returns {string}
 */
export function mergeDotenv(text, entries) {
  const values = new Map(entries);
  // Split after each '\n' so every line keeps its own terminator ('\r\n', '\n', or none at EOF).
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const eol = /\r\n/.test(text) && !/(^|[^\r])\n/.test(text) ? '\r\n' : '\n';
  const seen = new Set();
  let out = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const terminator = line.endsWith('\r\n') ? '\r\n' : line.endsWith('\n') ? '\n' : '';
    const content = line.slice(0, line.length - terminator.length);
    const m = ASSIGNMENT.exec(content);
    if (!m || !values.has(m[3])) {
      out += line;
      continue;
    }
    const [, indent, exported = '', key, rawValue] = m;
    // A quoted value left open on this line continues on the next ones; they are part of the
    // assignment being replaced. If it never closes, only this line is taken.
    let last = i;
    const value = rawValue.trimStart();
    const quote = value[0];
    if ((quote === '"' || quote === "'" || quote === '`') && closingQuote(value.slice(1), quote) === -1) {
      for (let j = i + 1; j < lines.length; j++) {
        if (closingQuote(lines[j], quote) !== -1) {
          last = j;
          break;
        }
      }
    }
    const lastLine = lines[last];
    const lastTerminator = lastLine.endsWith('\r\n') ? '\r\n' : lastLine.endsWith('\n') ? '\n' : '';
    out += `${indent}${exported}${key}=${quoteValue(/** @type {string} */ (values.get(key)))}${lastTerminator}`;
    seen.add(key);
    i = last;
  }
  const missing = entries.filter(([key]) => !seen.has(key));
  if (missing.length > 0) {
    if (out.length > 0 && !out.endsWith('\n')) out += eol;
    for (const [key, value] of missing) out += `${key}=${quoteValue(value)}${eol}`;
  }
  return out;
}

/**
 * Updates (or creates) a `.env` file in place. Writing in place rather than renaming a temp
 * file keeps the file's mode, owner and any symlink; a new file is created 0600 because it
 * holds credentials.
 * @param {string} path
 * @param {[string, string][]} entries
 * @returns {Promise<{ created: boolean }>}
 */
export async function writeDotenv(path, entries) {
  let current;
  try {
    current = await fs.readFile(path, 'utf8');
  } catch (err) {
    if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'ENOENT') throw err;
  }
  if (current === undefined) {
    try {
      await fs.writeFile(path, mergeDotenv('', entries), { mode: 0o600, flag: 'wx' });
      return { created: true };
    } catch (err) {
      // Someone created it between our read and write: merge into theirs instead.
      if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'EEXIST') throw err;
      current = await fs.readFile(path, 'utf8');
    }
  }
  const next = mergeDotenv(current, entries);
  if (next !== current) await fs.writeFile(path, next);
  return { created: false };
}
