import { readCatalog, type ColumnShape, type Queryable, type SchemaCatalog, type TableShape } from './schema-catalog';

/**
 * A schema catalog (schema-catalog.ts) as DDL text, the `sql` of `GET …/branches/{id}/schema`:
 * one statement per paragraph, in pg_dump's order of kinds (schemas, extensions, types, sequences,
 * functions, tables, views, then keys, indexes, triggers, foreign keys and policies), each kind
 * ordered by name. A table lists one column per line, so a diff of two branches names the column
 * that differs. Pure: the same catalog always gives the same text.
 */
export function renderDdl(catalog: SchemaCatalog): string {
  const out: string[] = [];
  for (const s of catalog.schemas) out.push(`CREATE SCHEMA ${s};`);
  for (const x of catalog.extensions) out.push(`CREATE EXTENSION IF NOT EXISTS ${x.name} WITH SCHEMA ${x.schema};`);
  for (const e of catalog.enums)
    out.push(`CREATE TYPE ${e.qualified} AS ENUM (\n${e.labels.map((l) => `    ${literal(l)}`).join(',\n')}\n);`);
  for (const d of catalog.domains) {
    const parts = [`CREATE DOMAIN ${d.qualified} AS ${d.type}`];
    if (d.default !== null) parts.push(`DEFAULT ${d.default}`);
    if (d.notNull) parts.push('NOT NULL');
    out.push(`${[...parts, ...d.checks].join('\n    ')};`);
  }
  for (const s of catalog.sequences) {
    const lines = [
      `CREATE SEQUENCE ${s.qualified}`,
      `AS ${s.type}`,
      `START WITH ${s.start}`,
      `INCREMENT BY ${s.increment}`,
      `MINVALUE ${s.min}`,
      `MAXVALUE ${s.max}`,
      `CACHE ${s.cache}`,
      ...(s.cycle ? ['CYCLE'] : []),
    ];
    out.push(`${lines.join('\n    ')};`);
  }
  for (const f of catalog.functions) out.push(`${f.definition.trim()};`);
  for (const t of catalog.tables) out.push(createTable(t));
  for (const s of catalog.sequences) if (s.ownedBy) out.push(`ALTER SEQUENCE ${s.qualified} OWNED BY ${s.ownedBy};`);
  for (const v of catalog.views) {
    const body = v.definition.trim().replace(/;$/, '');
    out.push(
      `CREATE ${v.materialized ? 'MATERIALIZED VIEW' : 'VIEW'} ${v.qualified} AS\n${body}${v.materialized ? '\n  WITH NO DATA' : ''};`,
    );
  }
  const addConstraint = (c: SchemaCatalog['constraints'][number]) =>
    `ALTER TABLE ONLY ${c.table}\n    ADD CONSTRAINT ${c.ident} ${c.definition};`;
  for (const c of catalog.constraints) if (c.type !== 'f') out.push(addConstraint(c));
  for (const i of catalog.indexes) out.push(`${i.definition};`);
  for (const t of catalog.triggers) out.push(`${t.definition};`);
  for (const c of catalog.constraints) if (c.type === 'f') out.push(addConstraint(c));
  for (const t of catalog.tables) {
    if (t.rowSecurity) out.push(`ALTER TABLE ${t.qualified} ENABLE ROW LEVEL SECURITY;`);
    if (t.forceRowSecurity) out.push(`ALTER TABLE ${t.qualified} FORCE ROW LEVEL SECURITY;`);
  }
  for (const p of catalog.policies) {
    const lines = [`CREATE POLICY ${p.name} ON ${p.table}`];
    if (!p.permissive) lines.push('AS RESTRICTIVE');
    if (p.command !== 'ALL') lines.push(`FOR ${p.command}`);
    if (!(p.roles.length === 1 && p.roles[0] === 'public')) lines.push(`TO ${p.roles.join(', ')}`);
    if (p.using !== null) lines.push(`USING (${p.using})`);
    if (p.check !== null) lines.push(`WITH CHECK (${p.check})`);
    out.push(`${lines.join('\n    ')};`);
  }
  return out.length === 0 ? '' : `${out.join('\n\n')}\n`;
}

function columnLine(c: ColumnShape): string {
  let line = `    ${c.ident} ${c.type}`;
  if (c.collation) line += ` COLLATE ${c.collation}`;
  if (c.generated) line += ` GENERATED ALWAYS AS (${c.default}) ${c.generated === 's' ? 'STORED' : 'VIRTUAL'}`;
  else if (c.default !== null) line += ` DEFAULT ${c.default}`;
  if (c.identity) line += ` GENERATED ${c.identity === 'a' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY`;
  if (!c.nullable) line += ' NOT NULL';
  return line;
}

function createTable(t: TableShape): string {
  const head = `CREATE ${t.unlogged ? 'UNLOGGED ' : ''}TABLE ${t.qualified}`;
  if (t.partitionOf) return `${head} PARTITION OF ${t.partitionOf.parent}\n    ${t.partitionOf.bound};`;
  let text = `${head} (\n${t.columns.map(columnLine).join(',\n')}\n)`;
  if (t.inherits.length > 0) text += `\nINHERITS (${t.inherits.join(', ')})`;
  if (t.partitionKey) text += `\nPARTITION BY ${t.partitionKey}`;
  return `${text};`;
}

/** Neon's `BranchSchemaJSON`: tables with their columns and keys. */
export function renderJson(catalog: SchemaCatalog) {
  const kinds: Record<string, string> = { p: 'primary_key', u: 'unique', f: 'foreign_key' };
  return {
    tables: catalog.tables.map((t) => ({
      schema: t.schema,
      name: t.name,
      columns: t.columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable, generated: c.generated !== '' })),
      constraints: catalog.constraints
        .filter((c) => c.table === t.qualified && kinds[c.type] && c.columns.length > 0)
        .map((c) => ({
          type: kinds[c.type],
          columns: c.columns,
          name: c.name,
          ...(c.references ? { referenced_table: c.references } : {}),
        })),
    })),
  };
}

/** The DDL of the database `db` is connected to. */
export async function schemaDdl(db: Queryable): Promise<string> {
  return renderDdl(await readCatalog(db));
}

const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;
