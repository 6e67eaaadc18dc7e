/**
 * A database's schema as data: tables (and views), their columns with types, nullability and
 * defaults, indexes, constraints, and enum types, read from pg_catalog. pg_catalog rather than
 * information_schema because the latter shows only what the current role may use, and a branch
 * has a role of its own: the parent's and the branch's snapshots must not differ by who looks.
 */
import type { Client, PoolClient } from '@neondatabase/serverless';
import { sha256Hex } from '../../core/ids';

export interface ColumnShape {
  type: string;
  nullable: boolean;
  default: string | null;
}

export interface TableShape {
  /** `table`, `partitioned_table`, `view`, `materialized_view` or `foreign_table`. */
  kind: string;
  /** Views and materialized views: their query, as PostgreSQL prints it. */
  definition: string | null;
  columns: Record<string, ColumnShape>;
  /** Index name → `CREATE INDEX …` as PostgreSQL prints it. */
  indexes: Record<string, string>;
  /** Constraint name → its definition (`PRIMARY KEY (id)`, `CHECK (…)`, `FOREIGN KEY …`). */
  constraints: Record<string, { type: string; definition: string }>;
}

export interface SchemaSnapshot {
  /** `schema.table` → its shape. */
  tables: Record<string, TableShape>;
  /** `schema.type` → its labels in order. */
  enums: Record<string, string[]>;
}

const KINDS: Record<string, string> = { r: 'table', p: 'partitioned_table', v: 'view', m: 'materialized_view', f: 'foreign_table' };
const CONSTRAINT_TYPES: Record<string, string> = {
  p: 'primary_key',
  f: 'foreign_key',
  u: 'unique',
  c: 'check',
  x: 'exclusion',
  t: 'trigger',
  n: 'not_null',
};

/** User schemas only: system catalogs and per-backend temporary schemas are not the agent's. */
const USER_NAMESPACE = `n.nspname <> 'information_schema' and n.nspname not like 'pg\\_%'`;

/** Objects an extension made (pg_stat_statements' views, PostGIS's tables) belong to it, not to the schema. */
const NOT_EXTENSION_MEMBER = (catalog: string, oid: string) =>
  `not exists (select 1 from pg_depend e where e.classid = '${catalog}'::regclass and e.objid = ${oid} and e.deptype = 'e')`;

/** One statement, one row of five JSON arrays, each ordered so equal schemas give equal text. */
export const SNAPSHOT_QUERY = `
with rels as (
  select c.oid, n.nspname as schema, c.relname as name, c.relkind as kind
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('r', 'p', 'v', 'm', 'f') and ${USER_NAMESPACE} and ${NOT_EXTENSION_MEMBER('pg_class', 'c.oid')}
)
select
  (select coalesce(json_agg(json_build_object('schema', r.schema, 'name', r.name, 'kind', r.kind,
      'definition', case when r.kind in ('v', 'm') then pg_get_viewdef(r.oid) end) order by r.schema, r.name), '[]')
     from rels r) as tables,
  (select coalesce(json_agg(json_build_object('schema', r.schema, 'table', r.name, 'name', a.attname,
      'type', format_type(a.atttypid, a.atttypmod), 'nullable', not a.attnotnull,
      'default', pg_get_expr(d.adbin, d.adrelid)) order by r.schema, r.name, a.attname), '[]')
     from rels r
     join pg_attribute a on a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped
     left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum) as columns,
  (select coalesce(json_agg(json_build_object('schema', r.schema, 'table', r.name, 'name', i.relname,
      'definition', pg_get_indexdef(x.indexrelid)) order by r.schema, r.name, i.relname), '[]')
     from rels r join pg_index x on x.indrelid = r.oid join pg_class i on i.oid = x.indexrelid) as indexes,
  (select coalesce(json_agg(json_build_object('schema', r.schema, 'table', r.name, 'name', k.conname,
      'type', k.contype, 'definition', pg_get_constraintdef(k.oid)) order by r.schema, r.name, k.conname), '[]')
     from rels r join pg_constraint k on k.conrelid = r.oid) as constraints,
  (select coalesce(json_agg(json_build_object('schema', n.nspname, 'name', t.typname,
      'labels', (select json_agg(e.enumlabel order by e.enumsortorder) from pg_enum e where e.enumtypid = t.oid))
      order by n.nspname, t.typname), '[]')
     from pg_type t join pg_namespace n on n.oid = t.typnamespace
     where t.typtype = 'e' and ${USER_NAMESPACE} and ${NOT_EXTENSION_MEMBER('pg_type', 't.oid')}) as enums
`;

interface SnapshotRow {
  tables: { schema: string; name: string; kind: string; definition: string | null }[];
  columns: ({ schema: string; table: string; name: string } & ColumnShape)[];
  indexes: { schema: string; table: string; name: string; definition: string }[];
  constraints: { schema: string; table: string; name: string; type: string; definition: string }[];
  enums: { schema: string; name: string; labels: string[] | null }[];
}

/**
 * An object used as a map of names: no prototype, so a table, column or index named `__proto__`,
 * `constructor` or `toString` is a key like any other (on `{}` the first would set the object's
 * prototype instead, and the others would be found before they exist).
 */
const names = <T>(): Record<string, T> => Object.create(null) as Record<string, T>;

/** The snapshot from the query's one row (pure: the tests build rows by hand). */
export function snapshotFromRow(row: SnapshotRow): SchemaSnapshot {
  const tables = names<TableShape>();
  for (const t of row.tables) {
    tables[`${t.schema}.${t.name}`] = {
      kind: KINDS[t.kind] ?? t.kind,
      definition: t.definition,
      columns: names(),
      indexes: names(),
      constraints: names(),
    };
  }
  const tableOf = (r: { schema: string; table: string }) => tables[`${r.schema}.${r.table}`];
  for (const c of row.columns) {
    const t = tableOf(c);
    if (t) t.columns[c.name] = { type: c.type, nullable: c.nullable, default: c.default };
  }
  for (const i of row.indexes) {
    const t = tableOf(i);
    if (t) t.indexes[i.name] = i.definition;
  }
  for (const k of row.constraints) {
    const t = tableOf(k);
    if (t) t.constraints[k.name] = { type: CONSTRAINT_TYPES[k.type] ?? k.type, definition: k.definition };
  }
  const enums = names<string[]>();
  for (const e of row.enums) enums[`${e.schema}.${e.name}`] = e.labels ?? [];
  return { tables, enums };
}

/** JSON with keys sorted at every level: equal snapshots, equal text, equal hash. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export const fingerprint = (snapshot: SchemaSnapshot) => sha256Hex(canonicalJson(snapshot));

/**
 * Reads the snapshot on an open client (inside the caller's transaction, if any). The search
 * path is pg_catalog while it reads, so every name PostgreSQL prints is schema-qualified the
 * same way whichever role asks; the caller's search path is restored afterwards.
 */
export async function readSnapshot(client: Client | PoolClient): Promise<SchemaSnapshot> {
  const saved = (await client.query<{ path: string }>(`select current_setting('search_path') as path`)).rows[0]!.path;
  await client.query(`select set_config('search_path', 'pg_catalog', true)`);
  try {
    const { rows } = await client.query<SnapshotRow>(SNAPSHOT_QUERY);
    return snapshotFromRow(rows[0]!);
  } finally {
    await client.query(`select set_config('search_path', $1, true)`, [saved]);
  }
}
