import { describe, expect, it } from 'vitest';
import { CliError, EXIT } from '../../../cli/errors.js';
import {
  compactDuration,
  formatDatabase,
  formatDatabaseTable,
  formatError,
  formatSqlResult,
  formatTable,
  relativeTime,
} from '../../../cli/output.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const db = {
  id: 'db_4f9c2a1b7e3d5c6a',
  object: 'database',
  state: 'ready',
  kind: 'fresh',
  parent_id: null,
  depth: 0,
  region: 'local',
  labels: { task: 'fix-1' },
  session_id: null,
  kept: false,
  created_at: '2026-03-01T12:00:00Z',
  ready_at: '2026-03-01T12:00:00Z',
  expires_at: '2026-03-01T13:00:00Z',
  deleted_at: null,
  reserved_usd: 0.01,
  connection: { direct: 'postgresql://direct', pooled: 'postgresql://pooled', host: 'h', database: 'd', role: 'r' },
  timings: { total: 74.4 },
};

describe('time', () => {
  it('is compact, two units at most', () => {
    expect(compactDuration(0)).toBe('0s');
    expect(compactDuration(59)).toBe('59s');
    expect(compactDuration(3600)).toBe('1h');
    expect(compactDuration(3600 + 5 * 60 + 7)).toBe('1h5m');
    expect(compactDuration(2 * 86400 + 3 * 3600 + 60)).toBe('2d3h');
    expect(relativeTime('2026-03-01T12:59:00Z', NOW)).toBe('in 59m');
    expect(relativeTime('2026-03-01T11:57:00Z', NOW)).toBe('3m ago');
    expect(relativeTime(null, NOW)).toBe('-');
  });
});

describe('tables', () => {
  it('pads columns and trims the last', () => {
    expect(
      formatTable([
        ['A', 'BB'],
        ['ccc', 'd'],
      ]),
    ).toBe('A    BB\nccc  d\n');
    expect(formatTable([])).toBe('');
  });

  it('lists databases without credentials', () => {
    const branch = { ...db, id: 'db_b', kind: 'branch', parent_id: db.id, kept: true, labels: {}, session_id: 'ses_1' };
    const out = formatDatabaseTable([db, branch], NOW);
    expect(out.split('\n')[0]).toMatch(/^ID\s+STATE\s+KIND\s+PARENT\s+EXPIRES\s+SESSION\s+LABELS$/);
    expect(out).toContain('in 1h');
    expect(out).toContain('kept');
    expect(out).toContain('task=fix-1');
    expect(out).not.toContain('postgresql://');
    expect(formatDatabaseTable([], NOW)).toBe('no databases\n');
  });

  it('shows connection strings only when asked', () => {
    expect(formatDatabase(db, NOW)).not.toContain('postgresql://');
    const shown = formatDatabase(db, NOW, { withConnection: true });
    expect(shown).toMatch(/^pooled\s+postgresql:\/\/pooled$/m);
    expect(shown).toMatch(/^direct\s+postgresql:\/\/direct$/m);
    expect(shown).toMatch(/^took\s+74 ms$/m);
  });
});

describe('formatSqlResult', () => {
  it('prints object rows in field order, then the command tag', () => {
    const result = {
      fields: [{ name: 'n' }, { name: 'j' }, { name: 'z' }],
      rows: [{ n: 1, j: { a: 1 }, z: null }],
      command: 'SELECT',
      rowCount: 1,
      rowAsArray: false,
    };
    expect(formatSqlResult(result)).toBe('n  j        z\n1  {"a":1}  NULL\nSELECT 1\n');
  });

  it('prints array rows, and commands without columns', () => {
    expect(
      formatSqlResult({ fields: [{ name: 'a' }, { name: 'a' }], rows: [[1, 2]], command: 'SELECT', rowCount: 1, rowAsArray: true }),
    ).toBe('a  a\n1  2\nSELECT 1\n');
    expect(formatSqlResult({ fields: [], rows: [], command: 'CREATE', rowCount: null, rowAsArray: false })).toBe('CREATE\n');
  });
});

describe('formatError', () => {
  it('is one line naming the fields at fault, the code and the request', () => {
    const err = new CliError(
      {
        type: 'invalid_request',
        code: 'invalid_field',
        message: 'the body is invalid',
        details: { fields: [{ path: 'ttl_seconds', message: 'must be positive' }] },
        request_id: 'req_9',
      },
      { exitCode: EXIT.usage, status: 400 },
    );
    expect(formatError(err)).toBe('dblease: the body is invalid (ttl_seconds: must be positive) [invalid_field, request req_9]\n');
  });

  it('does not repeat fields the message already names, and prints the wait', () => {
    const err = new CliError(
      {
        type: 'rate_limited',
        code: 'quota',
        message: 'labels.team: too long',
        details: { fields: [{ path: 'labels.team', message: 'too long' }] },
      },
      { exitCode: EXIT.limit, status: 429, retryAfter: 30 },
    );
    expect(formatError(err)).toBe('dblease: labels.team: too long [quota]; retry after 30 s\n');
  });
});
