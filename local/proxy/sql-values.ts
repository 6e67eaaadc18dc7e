/**
 * Without `Neon-Raw-Text-Output: true`, Neon's SQL-over-HTTP turns PostgreSQL's text output
 * into JSON values: booleans, numbers, parsed json/jsonb, and arrays of those. Everything else
 * (numeric, timestamps, bytea as `\x…`) stays a string. The serverless driver always asks for
 * raw text; this path serves hand-written HTTP clients.
 */

const BOOL = 16;
const JSON_OID = 114;
const JSONB = 3802;
const NUMBERS = new Set([21, 23, 26, 700, 701, 20]);

/** Array type oid → element type oid, for the built-in arrays clients commonly select. */
const ARRAY_ELEMENT = new Map<number, number>([
  [1000, BOOL], [1005, 21], [1007, 23], [1016, 20], [1028, 26], [1021, 700], [1022, 701],
  [199, JSON_OID], [3807, JSONB],
  [1009, 25], [1015, 1043], [1014, 1042], [1003, 19], [1231, 1700], [1182, 1082], [1115, 1114],
  [1185, 1184], [1183, 1083], [2951, 2950], [1001, 17],
]);

function scalar(text: string, oid: number): unknown {
  if (oid === BOOL) return text === 't';
  if (oid === JSON_OID || oid === JSONB) return JSON.parse(text);
  if (NUMBERS.has(oid)) {
    const n = Number(text);
    // int8 beyond 2^53 and NaN/Infinity have no faithful JSON number; keep PostgreSQL's text.
    if (!Number.isFinite(n) || (Number.isInteger(n) && !Number.isSafeInteger(n))) return text;
    return n;
  }
  return text;
}

/** Parses PostgreSQL's array text output (`{1,NULL,"a b",{2,3}}`) into nested arrays. */
export function parseArrayText(text: string, element: (item: string) => unknown): unknown[] {
  let at = 0;
  // A lower bound decoration like `[0:1]={…}` precedes the braces for non-default bounds.
  if (text[0] === '[') at = text.indexOf('=') + 1;
  const parseLevel = (): unknown[] => {
    const out: unknown[] = [];
    at++; // '{'
    if (text[at] === '}') {
      at++;
      return out;
    }
    for (;;) {
      if (text[at] === '{') out.push(parseLevel());
      else if (text[at] === '"') {
        let value = '';
        at++;
        while (text[at] !== '"') {
          if (text[at] === '\\') at++;
          value += text[at++];
        }
        at++;
        out.push(element(value));
      } else {
        const start = at;
        while (text[at] !== ',' && text[at] !== '}') at++;
        const raw = text.slice(start, at).trim();
        out.push(raw === 'NULL' ? null : element(raw));
      }
      if (text[at] === ',') at++;
      else {
        at++; // '}'
        return out;
      }
    }
  };
  return parseLevel();
}

export function textToJson(text: string | null, oid: number): unknown {
  if (text === null) return null;
  const element = ARRAY_ELEMENT.get(oid);
  if (element !== undefined) return parseArrayText(text, (item) => scalar(item, element));
  return scalar(text, oid);
}
