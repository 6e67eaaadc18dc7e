/**
 * The databases list (`/databases`): the API's list (same filters, same cursors) as a table,
 * branches nested under their parents where both are on the page.
 */
import { Hono } from 'hono';
import { invalidFields } from '../../../core/errors';
import { listDatabases } from '../../databases/service';
import { databaseStateSchema, sessionIdSchema } from '../../schemas/databases';
import type { Database } from '../../schemas/databases';
import { Layout } from '../layout';
import { signedIn, type DashboardEnv } from '../session';
import { Labels, usd, When, ColumnHeads } from './ui';

const STATES = databaseStateSchema.options;

interface Filters {
  state?: Database['state'];
  label?: string;
  session_id?: string;
  /** Rows per page (the API's 1-100); kept in the paging links. */
  limit?: string;
}

/** The query string of the filters (and a cursor), for links that keep them. */
const query = (f: Filters, cursor?: string) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...f, cursor })) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
};

/** Parents before their children, depth-first, in the page's order; a branch whose parent is elsewhere starts its own tree. */
export function asTree(rows: readonly Database[]): { row: Database; level: number }[] {
  const ids = new Set(rows.map((r) => r.id));
  const children = new Map<string, Database[]>();
  for (const r of rows) if (r.parent_id && ids.has(r.parent_id)) children.set(r.parent_id, [...(children.get(r.parent_id) ?? []), r]);
  const out: { row: Database; level: number }[] = [];
  const visit = (r: Database, level: number) => {
    out.push({ row: r, level });
    for (const child of children.get(r.id) ?? []) visit(child, level + 1);
  };
  for (const r of rows) if (!r.parent_id || !ids.has(r.parent_id)) visit(r, 0);
  return out;
}

function FilterForm({ f }: { f: Filters }) {
  return (
    <form method="get" action="/databases" class="card filters" role="search" aria-label="Filter databases">
      <div>
        <label for="f-state">State</label>
        <select id="f-state" name="state">
          <option value="">live (all but deleted)</option>
          {STATES.map((s) => (
            <option value={s} selected={f.state === s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label for="f-label">Label</label>
        <input id="f-label" name="label" type="text" placeholder="key:value" value={f.label ?? ''} />
      </div>
      <div>
        <label for="f-session">Session</label>
        <input id="f-session" name="session_id" type="text" placeholder="ses_…" value={f.session_id ?? ''} />
      </div>
      {f.limit && <input type="hidden" name="limit" value={f.limit} />}
      <div class="actions">
        <button type="submit">Filter</button> <a href="/databases">Clear</a>
      </div>
    </form>
  );
}

export function DatabaseTable({ rows, caption = 'Databases' }: { rows: readonly Database[]; caption?: string }) {
  return (
    <table class="databases">
      <caption>{caption}</caption>
      <ColumnHeads columns={['Id', 'Kind', 'Labels', 'Session', 'State', 'Created', 'Expires', 'Reserved', 'Spent']} />
      <tbody>
        {rows.length === 0 && (
          <tr>
            <td colspan={9} class="muted">
              No databases match.
            </td>
          </tr>
        )}
        {asTree(rows).map(({ row: d, level }) => (
          <tr data-id={d.id} data-level={level}>
            <th scope="row" class={`tree level-${Math.min(level, 5)}`}>
              {level > 0 && (
                <span class="branch-mark" aria-label={`branch of ${d.parent_id}`}>
                  └{' '}
                </span>
              )}
              <a href={`/databases/${d.id}`}>{d.id}</a>
              {level === 0 && d.parent_id && <span class="muted"> (branch of {d.parent_id})</span>}
            </th>
            <td>{d.kind}</td>
            <td>
              <Labels labels={d.labels} />
            </td>
            <td>{d.session_id ? <a href={`/databases?session_id=${d.session_id}`}>{d.session_id}</a> : <span class="muted">—</span>}</td>
            <td>
              <span class={`state state-${d.state}`}>{d.state}</span>
              {d.kept && <span class="muted"> (kept)</span>}
            </td>
            <td>
              <When at={d.created_at} />
            </td>
            <td class="expires">
              <When at={d.expires_at} none={d.kept ? 'kept' : '—'} />
            </td>
            <td>{usd(d.reserved_usd)}</td>
            <td>{usd(d.spent_usd)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The query's filters, each checked as the API checks it (a bad one is a 400 naming it). */
function filtersOf(q: Record<string, string>): Filters {
  const f: Filters = {};
  if (q.state) {
    const state = databaseStateSchema.safeParse(q.state);
    if (!state.success) throw invalidFields([{ path: 'state', message: `one of ${STATES.join(', ')}` }]);
    f.state = state.data;
  }
  if (q.label?.trim()) f.label = q.label.trim();
  if (q.session_id?.trim()) {
    if (!sessionIdSchema.safeParse(q.session_id.trim()).success) throw invalidFields([{ path: 'session_id', message: 'not a session id' }]);
    f.session_id = q.session_id.trim();
  }
  if (q.limit) {
    const limit = Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100)
      throw invalidFields([{ path: 'limit', message: 'a whole number from 1 to 100' }]);
    f.limit = String(limit);
  }
  return f;
}

export const databasesList = new Hono<DashboardEnv>().get('/databases', signedIn(), async (c) => {
  const q = c.req.query();
  const f = filtersOf(q);
  const page = await listDatabases(c.env, c.var.principal, {
    state: f.state,
    label: f.label,
    session_id: f.session_id,
    cursor: q.cursor || undefined,
    limit: f.limit ? Number(f.limit) : 25,
  });
  return c.html(
    <Layout title="Databases" visit={c.var.visit} current="/databases">
      <FilterForm f={f} />
      <DatabaseTable rows={page.data} />
      <nav class="pager" aria-label="Pages">
        {q.cursor && <a href={`/databases${query(f)}`}>First page</a>}
        {page.next_cursor && (
          <a href={`/databases${query(f, page.next_cursor)}`} rel="next">
            Next page
          </a>
        )}
      </nav>
    </Layout>,
  );
});
