/**
 * The schema diff of a migration: what the branch's schema has that the parent's has not, and
 * back. Pure (snapshots in, plain data out), so it is tested without a database.
 */
import { canonicalJson, type ColumnShape, type SchemaSnapshot, type TableShape } from './snapshot';

export interface Change<T> {
  name: string;
  before: T;
  after: T;
}

export interface KeyedDiff<T> {
  added: { name: string; value: T }[];
  removed: { name: string; value: T }[];
  changed: Change<T>[];
}

export interface TableChange {
  name: string;
  kind?: { before: string; after: string };
  definition?: { before: string | null; after: string | null };
  columns: KeyedDiff<ColumnShape>;
  indexes: KeyedDiff<string>;
  constraints: KeyedDiff<{ type: string; definition: string }>;
}

export interface SchemaDiff {
  /** False when the two schemas are the same. */
  changed: boolean;
  tables: { added: ({ name: string } & TableShape)[]; removed: ({ name: string } & TableShape)[]; changed: TableChange[] };
  enums: KeyedDiff<string[]>;
}

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
const sortedKeys = (...maps: Record<string, unknown>[]) => [...new Set(maps.flatMap((m) => Object.keys(m)))].sort();

/** Entries only in `after` (added), only in `before` (removed), and in both but different. */
export function diffKeyed<T>(before: Record<string, T>, after: Record<string, T>): KeyedDiff<T> {
  const out: KeyedDiff<T> = { added: [], removed: [], changed: [] };
  for (const name of sortedKeys(before, after)) {
    const inBefore = Object.hasOwn(before, name);
    const inAfter = Object.hasOwn(after, name);
    if (!inBefore) out.added.push({ name, value: after[name]! });
    else if (!inAfter) out.removed.push({ name, value: before[name]! });
    else if (!same(before[name], after[name])) out.changed.push({ name, before: before[name]!, after: after[name]! });
  }
  return out;
}

const isEmpty = (d: KeyedDiff<unknown>) => d.added.length + d.removed.length + d.changed.length === 0;

function diffTable(name: string, before: TableShape, after: TableShape): TableChange | null {
  const change: TableChange = {
    name,
    columns: diffKeyed(before.columns, after.columns),
    indexes: diffKeyed(before.indexes, after.indexes),
    constraints: diffKeyed(before.constraints, after.constraints),
  };
  if (before.kind !== after.kind) change.kind = { before: before.kind, after: after.kind };
  if (before.definition !== after.definition) change.definition = { before: before.definition, after: after.definition };
  const untouched = !change.kind && !change.definition && isEmpty(change.columns) && isEmpty(change.indexes) && isEmpty(change.constraints);
  return untouched ? null : change;
}

/** `after` (the branch once migrated) against `before` (the parent). */
export function diffSchemas(before: SchemaSnapshot, after: SchemaSnapshot): SchemaDiff {
  const tables: SchemaDiff['tables'] = { added: [], removed: [], changed: [] };
  for (const name of sortedKeys(before.tables, after.tables)) {
    // Own keys only: a table named `constructor` must not find Object.prototype's.
    const b = Object.hasOwn(before.tables, name) ? before.tables[name] : undefined;
    const a = Object.hasOwn(after.tables, name) ? after.tables[name] : undefined;
    if (!b) tables.added.push({ name, ...a! });
    else if (!a) tables.removed.push({ name, ...b });
    else {
      const change = diffTable(name, b, a);
      if (change) tables.changed.push(change);
    }
  }
  const enums = diffKeyed(before.enums, after.enums);
  const changed = tables.added.length + tables.removed.length + tables.changed.length > 0 || !isEmpty(enums);
  return { changed, tables, enums };
}
