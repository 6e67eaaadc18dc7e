/**
 * One agent statement on a session, the way Neon's SQL over HTTP runs it (the extended protocol,
 * so one string is exactly one statement, parameters bound), with its rows handed over one at a
 * time so the row and byte caps are counted as they arrive and nothing past them is kept.
 */
import { Client, type FieldDef, type PoolClient } from '@neondatabase/serverless';
import type { SqlLimits } from './failures';
import { neonFields, pgTextToJson } from '../../core/neon-json';

/** node-postgres's `Query` (the driver bundles it as `Client.Query`): emits `row`, `end`, `error`. */
export interface PgQuery {
  requiresPreparation(): boolean;
  on(event: string, listener: (...args: never[]) => void): void;
}
export interface PgResult {
  fields: FieldDef[];
  command: string;
  rowCount: number | null;
}
export const PgQueryClass = (Client as unknown as { Query: new (config: object) => PgQuery }).Query;

/** One statement's result, as Neon's SQL over HTTP returns it. */
export interface SqlResult {
  fields: {
    name: string;
    dataTypeID: number;
    tableID: number;
    columnID: number;
    dataTypeSize: number;
    dataTypeModifier: number;
    format: string;
  }[];
  rows: unknown[];
  command: string;
  rowCount: number | null;
  rowAsArray: boolean;
}

/**
 * The caps on the answer, counted across a request's statements while rows arrive. A value's
 * size is counted as a lower bound of its JSON (a string's length, or its JSON text), so once the
 * count passes the byte cap the answer is certainly too large and later rows are not kept.
 */
export class AnswerMeter {
  rows = 0;
  valueChars = 0;
  constructor(private readonly limits: SqlLimits) {}

  get overRows() {
    return this.rows > this.limits.maxRows;
  }

  get overBytes() {
    return this.valueChars > this.limits.maxBytes;
  }

  /** The driver's `types`: each value as Neon's JSON, measured; nothing is converted once refused. */
  readonly types = {
    getTypeParser: (oid: number) => (text: string | null) => {
      if (text === null || this.overRows || this.overBytes) return null;
      const value = pgTextToJson(text, oid);
      this.valueChars += typeof value === 'string' ? value.length : JSON.stringify(value).length;
      return value;
    },
  };

  /** Counts a row; true if it is to be kept. */
  keep(): boolean {
    this.rows++;
    return !this.overRows && !this.overBytes;
  }
}

/** Runs `query` with `params`; rows as arrays or objects keyed by column name (the last of equal names wins). */
export function runStatement(
  client: PoolClient,
  statement: { query: string; params?: unknown[] },
  arrayMode: boolean,
  meter: AnswerMeter,
): Promise<SqlResult> {
  const query = new PgQueryClass({ text: statement.query, values: statement.params ?? [], rowMode: 'array', types: meter.types });
  // Always the extended protocol, as Neon's SQL over HTTP: never several statements in one string.
  query.requiresPreparation = () => true;
  const rows: unknown[][] = [];
  query.on('row', (row: unknown[]) => {
    if (meter.keep()) rows.push(row);
  });
  return new Promise<SqlResult>((resolve, reject) => {
    query.on('error', reject);
    query.on('end', (result: PgResult) => {
      const fields = neonFields(result.fields);
      // Built with fromEntries, so a column named `__proto__` is a column like any other.
      const shaped = arrayMode ? rows : rows.map((row) => Object.fromEntries(fields.map((f, i) => [f.name, row[i]])));
      resolve({ fields, rows: shaped, command: result.command, rowCount: result.rowCount ?? null, rowAsArray: arrayMode });
    });
    client.query(query as never);
  });
}
