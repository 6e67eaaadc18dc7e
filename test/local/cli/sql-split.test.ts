import { describe, expect, it } from 'vitest';
import { splitSqlStatements } from '../../../cli/sql-split.js';

describe('splitSqlStatements', () => {
  it('splits at top-level semicolons and drops empty statements', () => {
    expect(splitSqlStatements('create table t (a int);\ninsert into t values (1);;\n  ')).toEqual([
      'create table t (a int)',
      'insert into t values (1)',
    ]);
    expect(splitSqlStatements('select 1')).toEqual(['select 1']);
  });

  it('keeps semicolons inside strings, identifiers and comments', () => {
    const sql = [
      `insert into t values ('a;b', 'it''s;', E'x\\';y');`,
      `select 1 as "odd;name";`,
      `-- a comment; not a split`,
      `select /* one; /* nested; */ still comment; */ 2;`,
    ].join('\n');
    expect(splitSqlStatements(sql)).toEqual([
      `insert into t values ('a;b', 'it''s;', E'x\\';y')`,
      `select 1 as "odd;name"`,
      `-- a comment; not a split\nselect /* one; /* nested; */ still comment; */ 2`,
    ]);
  });

  it('keeps dollar-quoted bodies whole and treats $1 as a parameter', () => {
    const fn = `create function f() returns int language plpgsql as $body$ begin perform 1; return 2; end $body$`;
    const sql = `${fn};\nselect $$a;b$$, $1;\ndo $$ begin null; end $$;`;
    expect(splitSqlStatements(sql)).toEqual([fn, 'select $$a;b$$, $1', 'do $$ begin null; end $$']);
  });

  it('drops statements that are only comments', () => {
    expect(splitSqlStatements('-- header\n/* c */;\nselect 1;\n-- trailer\n')).toEqual(['select 1']);
    expect(splitSqlStatements('-- nothing here')).toEqual([]);
  });
});
