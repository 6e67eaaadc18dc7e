/**
 * A schema snapshot (src/app/migrations/snapshot.ts) as DDL: the statements that make an empty
 * database have the same tables, columns, constraints, indexes, enums and views, in an order
 * PostgreSQL accepts. Pure, so the same snapshot always gives the same text.
 *
 * It is the schema resource's readable form and what `seed: {from}` runs on the new database. What
 * the snapshot does not hold is not rendered: functions, triggers, extensions, policies, comments,
 * grants, identity and generated columns (they come through as plain columns), and partitioning.
 * Sequences are: each one a column default's `nextval('…')` names is created first.
 */
import type { SchemaSnapshot, TableShape } from '../migrations/snapshot';

export const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** `schema.name` (as the snapshot keys it) as a quoted, qualified name. */
export function qualified(key: string): string {
  const dot = key.indexOf('.');
  return dot < 0 ? ident(key) : `${ident(key.slice(0, dot))}.${ident(key.slice(dot + 1))}`;
}

const schemaOf = (key: string) => key.slice(0, Math.max(0, key.indexOf('.')));
const NEXTVAL = /nextval\('((?:[^']|'')+)'::regclass\)/g;

/** The sequences column defaults draw from, as PostgreSQL printed their names. */
export function sequencesOf(snapshot: SchemaSnapshot): string[] {
  const found = new Set<string>();
  for (const table of Object.values(snapshot.tables)) {
    for (const column of Object.values(table.columns)) {
      for (const m of column.default?.matchAll(NEXTVAL) ?? []) found.add(m[1]!.replace(/''/g, "'"));
    }
  }
  return [...found].sort();
}

const isTable = (t: TableShape) => t.kind === 'table' || t.kind === 'partitioned_table';

function createTable(key: string, table: TableShape): string {
  const columns = Object.entries(table.columns).map(
    ([name, c]) => `${ident(name)} ${c.type}${c.nullable ? '' : ' NOT NULL'}${c.default !== null ? ` DEFAULT ${c.default}` : ''}`,
  );
  return `CREATE TABLE ${qualified(key)} (${columns.join(', ')})`;
}

/** The DDL in two parts: `objects` (schemas, enums, sequences, tables) and `constraints` (keys, indexes, views). */
export function renderDdl(snapshot: SchemaSnapshot): { objects: string[]; constraints: string[] } {
  const tables = Object.entries(snapshot.tables).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const schemas = new Set([...tables.map(([k]) => schemaOf(k)), ...Object.keys(snapshot.enums).map(schemaOf)]);
  schemas.delete('public');
  schemas.delete('');
  const objects = [
    ...[...schemas].sort().map((s) => `CREATE SCHEMA IF NOT EXISTS ${ident(s)}`),
    ...Object.keys(snapshot.enums)
      .sort()
      .map((k) => `CREATE TYPE ${qualified(k)} AS ENUM (${snapshot.enums[k]!.map(literal).join(', ')})`),
    // PostgreSQL printed these names as regclass text: already quoted where they need it.
    ...sequencesOf(snapshot).map((s) => `CREATE SEQUENCE IF NOT EXISTS ${s}`),
    ...tables.filter(([, t]) => isTable(t)).map(([k, t]) => createTable(k, t)),
  ];
  const keys: string[] = [];
  const foreign: string[] = [];
  const indexes: string[] = [];
  for (const [key, table] of tables) {
    if (!isTable(table)) continue;
    for (const [name, c] of Object.entries(table.constraints).sort(([a], [b]) => (a < b ? -1 : 1))) {
      // NOT NULL is the column's own nullability; triggers' constraints come with their triggers.
      if (c.type === 'not_null' || c.type === 'trigger') continue;
      (c.type === 'foreign_key' ? foreign : keys).push(`ALTER TABLE ${qualified(key)} ADD CONSTRAINT ${ident(name)} ${c.definition}`);
    }
    for (const [name, definition] of Object.entries(table.indexes).sort(([a], [b]) => (a < b ? -1 : 1))) {
      // A key's index is made by its constraint.
      if (!Object.hasOwn(table.constraints, name)) indexes.push(definition);
    }
  }
  const views = tables
    .filter(([, t]) => t.kind === 'view' || t.kind === 'materialized_view')
    .map(
      ([k, t]) => `CREATE ${t.kind === 'view' ? 'VIEW' : 'MATERIALIZED VIEW'} ${qualified(k)} AS ${t.definition!.trim().replace(/;$/, '')}`,
    );
  return { objects, constraints: [...keys, ...indexes, ...foreign, ...views] };
}

/** The whole DDL, ordered: what `GET /v1/databases/:id/schema` shows. */
export const ddlStatements = (snapshot: SchemaSnapshot) => {
  const { objects, constraints } = renderDdl(snapshot);
  return [...objects, ...constraints];
};
