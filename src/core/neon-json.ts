/**
 * Result values as JSON, the way Neon's SQL over HTTP writes them for clients that do not ask for
 * raw text: booleans, numbers JSON can hold exactly, parsed json/jsonb, and arrays of those.
 * Every other type stays PostgreSQL's text output (numeric, timestamps, uuid, bytea as `\x…`).
 *
 * Pure and dependency-free: the Worker's SQL endpoint and the local stack's SQL over HTTP both
 * speak this format, from this one module.
 */

const BOOL = 16;
const JSON_OID = 114;
const JSONB = 3802;
/** int2, int4, oid, float4, float8, int8. */
const NUMBERS = new Set([21, 23, 26, 700, 701, 20]);

/** Array type oid → its element's oid, for PostgreSQL's built-in arrays of common types. */
const ELEMENT_OF = new Map<number, number>([
  [1000, BOOL],
  [1005, 21],
  [1007, 23],
  [1016, 20],
  [1028, 26],
  [1021, 700],
  [1022, 701],
  [199, JSON_OID],
  [3807, JSONB],
  // Arrays of text-like types: their elements stay strings, but the array itself becomes JSON.
  [1009, 25],
  [1015, 1043],
  [1014, 1042],
  [1003, 19],
  [1231, 1700],
  [1182, 1082],
  [1115, 1114],
  [1185, 1184],
  [1183, 1083],
  [2951, 2950],
  [1001, 17],
]);

function scalar(text: string, oid: number): unknown {
  if (oid === BOOL) return text === 't' || text === 'true';
  if (oid === JSON_OID || oid === JSONB) return JSON.parse(text);
  if (NUMBERS.has(oid)) {
    const n = Number(text);
    // int8 past 2^53, NaN and ±Infinity have no exact JSON number: PostgreSQL's text is kept.
    if (!Number.isFinite(n) || (Number.isInteger(n) && !Number.isSafeInteger(n))) return text;
    return n;
  }
  return text;
}

/**
 * PostgreSQL's array output (`{1,NULL,"a \"b\"",{2,3}}`, optionally prefixed by bounds such as
 * `[0:1]=`) as nested arrays, each element converted by `element`. Unquoted NULL is null.
 */
export function parsePgArray(text: string, element: (item: string) => unknown): unknown[] {
  let i = text.startsWith('[') ? text.indexOf('=') + 1 : 0;
  const level = (): unknown[] => {
    const items: unknown[] = [];
    i++; // past '{'
    while (i < text.length && text[i] !== '}') {
      if (text[i] === '{') {
        items.push(level());
      } else if (text[i] === '"') {
        let value = '';
        for (i++; text[i] !== '"'; i++) value += text[i] === '\\' ? text[++i] : text[i];
        i++; // past the closing quote
        items.push(element(value));
      } else {
        const start = i;
        while (text[i] !== ',' && text[i] !== '}') i++;
        const bare = text.slice(start, i).trim();
        items.push(bare === 'NULL' ? null : element(bare));
      }
      if (text[i] === ',') i++;
    }
    i++; // past '}'
    return items;
  };
  return level();
}

/** One value from PostgreSQL's text output, as Neon's JSON would carry it. */
export function pgTextToJson(text: string | null, oid: number): unknown {
  if (text === null) return null;
  const element = ELEMENT_OF.get(oid);
  if (element !== undefined) return parsePgArray(text, (item) => scalar(item, element));
  return scalar(text, oid);
}

/** A result column as pg describes it. */
interface PgField {
  name: string;
  dataTypeID: number;
  tableID: number;
  columnID: number;
  dataTypeSize: number;
  dataTypeModifier: number;
  format: string | number;
}

/** Result columns as Neon's SQL over HTTP describes them (`fields`). */
export const neonFields = (fields: readonly PgField[]) =>
  fields.map((f) => ({
    name: f.name,
    dataTypeID: f.dataTypeID,
    tableID: f.tableID,
    columnID: f.columnID,
    dataTypeSize: f.dataTypeSize,
    dataTypeModifier: f.dataTypeModifier,
    format: String(f.format),
  }));
