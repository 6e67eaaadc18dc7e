/**
 * A database's schema as plain data, read from the catalogs (what `GET …/branches/{id}/schema`
 * renders: schema-ddl.ts). Objects of the system schemas and of extensions are left out, as
 * pg_dump leaves them out. Every list is ordered by name in the "C" collation, so the same schema
 * reads the same on any server. Owners and grants are left out too: they name roles, and a diff of
 * two branches is about their structure.
 */

/** What this reads through: `pg.Client`, `pg.PoolClient`, anything with pg's `query`. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

export interface ColumnShape {
  name: string;
  /** The name as quote_ident prints it. */
  ident: string;
  type: string;
  nullable: boolean;
  default: string | null;
  /** `s` stored, `v` virtual (attgenerated); `default` holds the expression. */
  generated: '' | 's' | 'v';
  /** `a` ALWAYS, `d` BY DEFAULT (attidentity). */
  identity: '' | 'a' | 'd';
  collation: string | null;
}

export interface TableShape {
  schema: string;
  name: string;
  /** Schema-qualified and quoted as PostgreSQL quotes it. */
  qualified: string;
  partitioned: boolean;
  partitionKey: string | null;
  /** Set for a partition: its parent and bound; its columns come from the parent. */
  partitionOf: { parent: string; bound: string } | null;
  inherits: string[];
  unlogged: boolean;
  rowSecurity: boolean;
  forceRowSecurity: boolean;
  columns: ColumnShape[];
}

export interface ConstraintShape {
  table: string;
  name: string;
  ident: string;
  /** p, u, c, f, x (pg_constraint.contype). */
  type: string;
  definition: string;
  columns: string[];
  references: { schema: string; table: string; columns: string[] } | null;
}

/** Names are as quote_ident prints them, except where a field says `name` (raw, for the JSON form). */
export interface SchemaCatalog {
  schemas: string[];
  extensions: { name: string; schema: string }[];
  enums: { qualified: string; labels: string[] }[];
  domains: { qualified: string; type: string; default: string | null; notNull: boolean; checks: string[] }[];
  sequences: {
    qualified: string;
    type: string;
    start: string;
    increment: string;
    min: string;
    max: string;
    cache: string;
    cycle: boolean;
    ownedBy: string | null;
  }[];
  functions: { definition: string }[];
  tables: TableShape[];
  views: { qualified: string; materialized: boolean; definition: string }[];
  constraints: ConstraintShape[];
  indexes: { definition: string }[];
  triggers: { definition: string }[];
  policies: {
    table: string;
    name: string;
    permissive: boolean;
    command: string;
    roles: string[];
    using: string | null;
    check: string | null;
  }[];
}

const USER_NAMESPACE = `n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'`;
const notExtensionMember = (catalog: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '${catalog}'::regclass AND e.objid = ${oid} AND e.deptype = 'e')`;
const qualifiedName = (ns: string, name: string) => `quote_ident(${ns}) || '.' || quote_ident(${name})`;

const SQL = {
  schemas: `SELECT quote_ident(n.nspname) AS name FROM pg_namespace n
    WHERE ${USER_NAMESPACE} AND n.nspname <> 'public' AND ${notExtensionMember('pg_namespace', 'n.oid')}
    ORDER BY n.nspname COLLATE "C"`,
  extensions: `SELECT quote_ident(x.extname) AS name, quote_ident(n.nspname) AS schema FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace
    WHERE x.extname <> 'plpgsql' ORDER BY x.extname COLLATE "C"`,
  enums: `SELECT ${qualifiedName('n.nspname', 't.typname')} AS qualified,
      (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) AS labels
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE t.typtype = 'e' AND ${USER_NAMESPACE} AND ${notExtensionMember('pg_type', 't.oid')}
    ORDER BY n.nspname COLLATE "C", t.typname COLLATE "C"`,
  domains: `SELECT ${qualifiedName('n.nspname', 't.typname')} AS qualified, format_type(t.typbasetype, t.typtypmod) AS type,
      t.typdefault AS "default", t.typnotnull AS "notNull",
      COALESCE((SELECT json_agg(pg_get_constraintdef(c.oid, true) ORDER BY c.conname COLLATE "C")
        FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c'), '[]') AS checks
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE t.typtype = 'd' AND ${USER_NAMESPACE} AND ${notExtensionMember('pg_type', 't.oid')}
    ORDER BY n.nspname COLLATE "C", t.typname COLLATE "C"`,
  // Identity columns' sequences are internal to their column and come with it.
  sequences: `SELECT ${qualifiedName('n.nspname', 'c.relname')} AS qualified, format_type(s.seqtypid, NULL) AS type,
      s.seqstart::text AS start, s.seqincrement::text AS increment, s.seqmin::text AS min, s.seqmax::text AS max,
      s.seqcache::text AS cache, s.seqcycle AS cycle,
      (SELECT ${qualifiedName('tn.nspname', 'tc.relname')} || '.' || quote_ident(a.attname)
        FROM pg_depend d JOIN pg_class tc ON tc.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
        JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a'
        LIMIT 1) AS "ownedBy"
    FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE ${USER_NAMESPACE} AND ${notExtensionMember('pg_class', 'c.oid')}
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')
    ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C"`,
  functions: `SELECT pg_get_functiondef(p.oid) AS definition
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE p.prokind IN ('f', 'p') AND ${USER_NAMESPACE} AND ${notExtensionMember('pg_proc', 'p.oid')}
    ORDER BY n.nspname COLLATE "C", p.proname COLLATE "C", pg_get_function_identity_arguments(p.oid) COLLATE "C"`,
  tables: `SELECT c.oid::int8::text AS oid, n.nspname AS schema, c.relname AS name, ${qualifiedName('n.nspname', 'c.relname')} AS qualified,
      c.relkind = 'p' AS partitioned, CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS "partitionKey",
      CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS bound,
      COALESCE((SELECT json_agg(i.inhparent::regclass::text ORDER BY i.inhseqno) FROM pg_inherits i WHERE i.inhrelid = c.oid), '[]') AS parents,
      c.relpersistence = 'u' AS unlogged, c.relrowsecurity AS "rowSecurity", c.relforcerowsecurity AS "forceRowSecurity"
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND ${USER_NAMESPACE} AND ${notExtensionMember('pg_class', 'c.oid')}
    ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C"`,
  columns: `SELECT a.attrelid::int8::text AS oid, a.attname AS name, quote_ident(a.attname) AS ident, format_type(a.atttypid, a.atttypmod) AS type,
      NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS "default", a.attgenerated::text AS generated,
      a.attidentity::text AS identity, a.attislocal AS local,
      CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN (SELECT quote_ident(co.collname) FROM pg_collation co WHERE co.oid = a.attcollation) END AS collation
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND ${USER_NAMESPACE}
    ORDER BY a.attrelid, a.attnum`,
  views: `SELECT ${qualifiedName('n.nspname', 'c.relname')} AS qualified, c.relkind = 'm' AS materialized, pg_get_viewdef(c.oid, true) AS definition
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('v', 'm') AND ${USER_NAMESPACE} AND ${notExtensionMember('pg_class', 'c.oid')}
    ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C"`,
  // NOT NULL (contype n) is part of the column; a partition's copies of its parent's keys are the parent's.
  constraints: `SELECT ${qualifiedName('n.nspname', 'c.relname')} AS "table", k.conname AS name, quote_ident(k.conname) AS ident, k.contype::text AS type,
      pg_get_constraintdef(k.oid, true) AS definition,
      COALESCE((SELECT json_agg(a.attname ORDER BY u.i) FROM unnest(k.conkey) WITH ORDINALITY u(num, i)
        JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num), '[]') AS columns,
      CASE WHEN k.contype = 'f' THEN json_build_object('schema', fn.nspname, 'table', fc.relname, 'columns',
        (SELECT json_agg(a.attname ORDER BY u.i) FROM unnest(k.confkey) WITH ORDINALITY u(num, i)
          JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num)) END AS "references"
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_class fc ON fc.oid = k.confrelid LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
    WHERE k.contype IN ('p', 'u', 'c', 'f', 'x') AND k.conparentid = 0 AND k.conislocal AND ${USER_NAMESPACE}
      AND ${notExtensionMember('pg_class', 'c.oid')}
    ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C", k.conname COLLATE "C"`,
  // A key's index is made by its constraint; a partition's index attached to its parent's comes with it.
  indexes: `SELECT pg_get_indexdef(i.indexrelid) AS definition
    FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'm') AND NOT ic.relispartition AND ${USER_NAMESPACE}
      AND ${notExtensionMember('pg_class', 'c.oid')}
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
    ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C", ic.relname COLLATE "C"`,
  triggers: `SELECT pg_get_triggerdef(t.oid, true) AS definition
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND ${USER_NAMESPACE} AND ${notExtensionMember('pg_class', 'c.oid')}
    ORDER BY n.nspname COLLATE "C", c.relname COLLATE "C", t.tgname COLLATE "C"`,
  policies: `SELECT ${qualifiedName('p.schemaname', 'p.tablename')} AS "table", quote_ident(p.policyname) AS name, p.permissive = 'PERMISSIVE' AS permissive,
      p.cmd AS command, (SELECT json_agg(quote_ident(r) ORDER BY r COLLATE "C") FROM unnest(p.roles) r) AS roles, p.qual AS using, p.with_check AS check
    FROM pg_policies p
    ORDER BY p.schemaname COLLATE "C", p.tablename COLLATE "C", p.policyname COLLATE "C"`,
};

type Row = Record<string, unknown>;
const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
const list = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

/**
 * Reads the catalog in one read-only, repeatable-read transaction (one consistent picture even
 * while clients write), with an empty search path so every name PostgreSQL prints is qualified.
 */
export async function readCatalog(db: Queryable): Promise<SchemaCatalog> {
  await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    await db.query("SET LOCAL search_path = ''");
    await db.query("SET LOCAL statement_timeout = '30s'");
    const rows: Record<keyof typeof SQL, Row[]> = {} as never;
    for (const [key, text] of Object.entries(SQL)) rows[key as keyof typeof SQL] = (await db.query(text)).rows;
    return shape(rows);
  } finally {
    await db.query('ROLLBACK').catch(() => {});
  }
}

function shape(rows: Record<keyof typeof SQL, Row[]>): SchemaCatalog {
  const columnsOf = new Map<string, (ColumnShape & { local: boolean })[]>();
  for (const r of rows.columns) {
    const cols = columnsOf.get(String(r.oid)) ?? [];
    cols.push({
      name: String(r.name),
      ident: String(r.ident),
      type: String(r.type),
      nullable: Boolean(r.nullable),
      default: str(r.default),
      generated: (String(r.generated ?? '') as ColumnShape['generated']) || '',
      identity: (String(r.identity ?? '') as ColumnShape['identity']) || '',
      collation: str(r.collation),
      local: Boolean(r.local),
    });
    columnsOf.set(String(r.oid), cols);
  }
  return {
    schemas: rows.schemas.map((r) => String(r.name)),
    extensions: rows.extensions.map((r) => ({ name: String(r.name), schema: String(r.schema) })),
    enums: rows.enums.map((r) => ({ qualified: String(r.qualified), labels: list<string>(r.labels) })),
    domains: rows.domains.map((r) => ({
      qualified: String(r.qualified),
      type: String(r.type),
      default: str(r.default),
      notNull: Boolean(r.notNull),
      checks: list<string>(r.checks),
    })),
    sequences: rows.sequences.map((r) => ({
      qualified: String(r.qualified),
      type: String(r.type),
      start: String(r.start),
      increment: String(r.increment),
      min: String(r.min),
      max: String(r.max),
      cache: String(r.cache),
      cycle: Boolean(r.cycle),
      ownedBy: str(r.ownedBy),
    })),
    functions: rows.functions.map((r) => ({ definition: String(r.definition) })),
    tables: rows.tables.map((r) => {
      const bound = str(r.bound);
      const parents = list<string>(r.parents);
      // Inherited columns are the parent's: a child lists only its own (as CREATE TABLE … INHERITS
      // does), a partition all of them (its DDL names none, the JSON form lists them).
      const columns = (columnsOf.get(String(r.oid)) ?? []).filter((c) => c.local || parents.length === 0 || bound);
      return {
        schema: String(r.schema),
        name: String(r.name),
        qualified: String(r.qualified),
        partitioned: Boolean(r.partitioned),
        partitionKey: str(r.partitionKey),
        partitionOf: bound ? { parent: parents[0] ?? '', bound } : null,
        inherits: bound ? [] : parents,
        unlogged: Boolean(r.unlogged),
        rowSecurity: Boolean(r.rowSecurity),
        forceRowSecurity: Boolean(r.forceRowSecurity),
        columns: columns.map(({ local: _local, ...c }) => c),
      };
    }),
    views: rows.views.map((r) => ({
      qualified: String(r.qualified),
      materialized: Boolean(r.materialized),
      definition: String(r.definition),
    })),
    constraints: rows.constraints.map((r) => ({
      table: String(r.table),
      name: String(r.name),
      ident: String(r.ident),
      type: String(r.type),
      definition: String(r.definition),
      columns: list<string>(r.columns),
      references: (r.references as ConstraintShape['references']) ?? null,
    })),
    indexes: rows.indexes.map((r) => ({ definition: String(r.definition) })),
    triggers: rows.triggers.map((r) => ({ definition: String(r.definition) })),
    policies: rows.policies.map((r) => ({
      table: String(r.table),
      name: String(r.name),
      permissive: Boolean(r.permissive),
      command: String(r.command),
      roles: list<string>(r.roles),
      using: str(r.using),
      check: str(r.check),
    })),
  };
}
