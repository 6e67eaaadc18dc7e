import { describe, expect, it } from 'vitest';
import { diffKeyed, diffSchemas } from '../../../src/app/migrations/diff';
import { canonicalJson, fingerprint, snapshotFromRow, type SchemaSnapshot, type TableShape } from '../../../src/app/migrations/snapshot';

const users = (): TableShape => ({
  kind: 'table',
  definition: null,
  columns: {
    id: { type: 'integer', nullable: false, default: "nextval('public.users_id_seq'::regclass)" },
    name: { type: 'text', nullable: true, default: null },
  },
  indexes: { users_pkey: 'CREATE UNIQUE INDEX users_pkey ON public.users USING btree (id)' },
  constraints: { users_pkey: { type: 'primary_key', definition: 'PRIMARY KEY (id)' } },
});

const schema = (over: Partial<SchemaSnapshot> = {}): SchemaSnapshot => ({ tables: { 'public.users': users() }, enums: {}, ...over });

describe('schema diff', () => {
  it('is empty for equal schemas', () => {
    const d = diffSchemas(schema(), schema());
    expect(d.changed).toBe(false);
    expect(d.tables).toEqual({ added: [], removed: [], changed: [] });
  });

  it('names added and removed tables with their shape', () => {
    const orders = { ...users(), columns: { id: { type: 'bigint', nullable: false, default: null } }, indexes: {}, constraints: {} };
    const d = diffSchemas(schema(), { tables: { 'public.orders': orders }, enums: {} });
    expect(d.changed).toBe(true);
    expect(d.tables.added).toEqual([{ name: 'public.orders', ...orders }]);
    expect(d.tables.removed.map((t) => t.name)).toEqual(['public.users']);
  });

  it('reports column type, nullability and default changes, and added/removed columns', () => {
    const after = users();
    after.columns.name = { type: 'character varying(100)', nullable: false, default: "'anon'::character varying" };
    after.columns.email = { type: 'text', nullable: true, default: null };
    delete after.columns.id;
    const [change] = diffSchemas(schema(), schema({ tables: { 'public.users': after } })).tables.changed;
    expect(change!.name).toBe('public.users');
    expect(change!.columns.added).toEqual([{ name: 'email', value: { type: 'text', nullable: true, default: null } }]);
    expect(change!.columns.removed.map((c) => c.name)).toEqual(['id']);
    expect(change!.columns.changed).toEqual([
      {
        name: 'name',
        before: { type: 'text', nullable: true, default: null },
        after: { type: 'character varying(100)', nullable: false, default: "'anon'::character varying" },
      },
    ]);
  });

  it('reports indexes, constraints, view definitions and enums', () => {
    const after = users();
    after.indexes.users_name_idx = 'CREATE INDEX users_name_idx ON public.users USING btree (name)';
    after.constraints = { users_pkey: { type: 'primary_key', definition: 'PRIMARY KEY (id, name)' } };
    const view = (q: string): TableShape => ({ kind: 'view', definition: q, columns: {}, indexes: {}, constraints: {} });
    const d = diffSchemas(
      schema({ tables: { 'public.users': users(), 'public.v': view(' SELECT 1') }, enums: { 'public.mood': ['sad', 'ok'] } }),
      schema({ tables: { 'public.users': after, 'public.v': view(' SELECT 2') }, enums: { 'public.mood': ['sad', 'ok', 'happy'] } }),
    );
    const [u, v] = d.tables.changed;
    expect(u!.indexes.added.map((i) => i.name)).toEqual(['users_name_idx']);
    expect(u!.constraints.changed[0]!.after.definition).toBe('PRIMARY KEY (id, name)');
    expect(v!.definition).toEqual({ before: ' SELECT 1', after: ' SELECT 2' });
    expect(d.enums.changed).toEqual([{ name: 'public.mood', before: ['sad', 'ok'], after: ['sad', 'ok', 'happy'] }]);
  });

  it('diffs keyed maps in name order', () => {
    expect(diffKeyed({ b: 1, a: 1 }, { c: 1, a: 2 })).toEqual({
      added: [{ name: 'c', value: 1 }],
      removed: [{ name: 'b', value: 1 }],
      changed: [{ name: 'a', before: 1, after: 2 }],
    });
  });
});

describe('schema snapshot and fingerprint', () => {
  const row = {
    tables: [{ schema: 'public', name: 'users', kind: 'r', definition: null }],
    columns: [{ schema: 'public', table: 'users', name: 'id', type: 'integer', nullable: false, default: null }],
    indexes: [{ schema: 'public', table: 'users', name: 'users_pkey', definition: 'CREATE UNIQUE INDEX …' }],
    constraints: [{ schema: 'public', table: 'users', name: 'users_pkey', type: 'p', definition: 'PRIMARY KEY (id)' }],
    enums: [{ schema: 'public', name: 'mood', labels: ['a'] }],
  };

  it('builds tables from the catalog rows', () => {
    expect(snapshotFromRow(row)).toEqual({
      tables: {
        'public.users': {
          kind: 'table',
          definition: null,
          columns: { id: { type: 'integer', nullable: false, default: null } },
          indexes: { users_pkey: 'CREATE UNIQUE INDEX …' },
          constraints: { users_pkey: { type: 'primary_key', definition: 'PRIMARY KEY (id)' } },
        },
      },
      enums: { 'public.mood': ['a'] },
    });
  });

  it('keys objects named __proto__, constructor or toString like any other name', () => {
    const awkward = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];
    const tables = ['public.users', 'public.constructor'].map((t) => ({ schema: 'public', name: t.slice(7), kind: 'r', definition: null }));
    const columns = (names: string[], table = 'users') =>
      names.map((name) => ({ schema: 'public', table, name, type: 'text', nullable: true, default: null }));
    const before = snapshotFromRow({ ...row, tables: [tables[0]!], columns: columns(['id']), indexes: [], constraints: [] });
    const after = snapshotFromRow({
      ...row,
      tables,
      columns: [...columns(['id', ...awkward]), ...columns(['__proto__'], 'constructor')],
      indexes: [{ schema: 'public', table: 'users', name: '__proto__', definition: 'CREATE INDEX "__proto__" …' }],
      constraints: [{ schema: 'public', table: 'users', name: 'constructor', type: 'u', definition: 'UNIQUE (id)' }],
    });
    expect(Object.keys(after.tables['public.users']!.columns).sort()).toEqual([
      '__proto__',
      'constructor',
      'hasOwnProperty',
      'id',
      'toString',
    ]);
    const d = diffSchemas(before, after);
    expect(d.tables.added.map((t) => t.name)).toEqual(['public.constructor']);
    expect(Object.keys(d.tables.added[0]!.columns)).toEqual(['__proto__']);
    const [users] = d.tables.changed;
    expect(users!.columns.added.map((c) => c.name)).toEqual([...awkward].sort());
    expect(users!.indexes.added.map((i) => i.name)).toEqual(['__proto__']);
    expect(users!.constraints.added.map((c) => c.name)).toEqual(['constructor']);
    // And back: removing them is seen too, and the text of the diff carries them.
    expect(diffSchemas(after, before).tables.changed[0]!.columns.removed.map((c) => c.name)).toEqual([...awkward].sort());
    expect(JSON.parse(JSON.stringify(d)).tables.changed[0].columns.added).toHaveLength(awkward.length);
  });

  it('hashes canonically: key order does not matter, any change does', async () => {
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
    const a = snapshotFromRow(row);
    const reordered = JSON.parse(JSON.stringify({ enums: a.enums, tables: a.tables }));
    expect(await fingerprint(reordered)).toBe(await fingerprint(a));
    const changed = snapshotFromRow({ ...row, columns: [{ ...row.columns[0]!, nullable: true }] });
    expect(await fingerprint(changed)).not.toBe(await fingerprint(a));
  });
});
