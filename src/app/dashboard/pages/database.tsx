/**
 * One database (`/databases/:id`): its facts, its events as a timeline, its branches, and the
 * owner's actions, each a form posting to the same services as the API: extend (a TTL choice),
 * keep, rotate credentials (the new password shown once, behind a reveal), reset a branch to its
 * parent (never an anonymised one), claim, and delete
 * (with its branches only when the owner ticks the cascade box).
 */
import { Hono } from 'hono';
import { invalidFields } from '../../../core/errors';
import { getAccount } from '../../accounts/service';
import { listBindings } from '../../bindings/service';
import type { Binding } from '../../schemas/bindings';
import {
  claimDatabase,
  databaseDetail,
  deleteDatabase,
  keepDatabase,
  resetDatabase,
  rotateCredentials,
  updateDatabase,
} from '../../databases/service';
import type { DatabaseDetail } from '../../databases/detail';
import { databaseIdSchema, resetDatabaseSchema, type Database } from '../../schemas/databases';
import { FormToken, Layout } from '../layout';
import { signedIn, type DashboardEnv, type DashboardVisit } from '../session';
import { DatabaseTable } from './databases';
import { formBody, Labels, Notice, parseWith, usd, When, type Ctx, ColumnHeads, CopyableSecret } from './ui';

/** The lease lengths offered, in seconds; those above the account's maximum TTL are left out. */
export const TTL_CHOICES: [number, string][] = [
  [3_600, '1 hour'],
  [4 * 3_600, '4 hours'],
  [24 * 3_600, '1 day'],
  [3 * 86_400, '3 days'],
  [7 * 86_400, '7 days'],
];

const LIVE = new Set<Database['state']>(['provisioning', 'ready']);

function Facts({ d, spent }: { d: Database; spent: number }) {
  return (
    <dl class="card facts">
      <dt>State</dt>
      <dd>
        <span class={`state state-${d.state}`}>{d.state}</span>
        {d.kept && ' (kept)'}
        {d.last_error && <span class="muted"> — {d.last_error}</span>}
      </dd>
      <dt>Kind</dt>
      <dd>
        {d.kind}
        {d.parent_id && (
          <>
            {' '}
            of <a href={`/databases/${d.parent_id}`}>{d.parent_id}</a>
          </>
        )}
      </dd>
      <dt>Labels</dt>
      <dd>
        <Labels labels={d.labels} />
      </dd>
      <dt>Session</dt>
      <dd>{d.session_id ?? <span class="muted">—</span>}</dd>
      <dt>Region</dt>
      <dd>{d.region}</dd>
      <dt>Created</dt>
      <dd>
        <When at={d.created_at} />
      </dd>
      <dt>Expires</dt>
      <dd id="expires">
        <When at={d.expires_at} none={d.kept ? 'never (kept)' : '—'} />
      </dd>
      <dt>Reserved</dt>
      <dd>{usd(d.reserved_usd)}</dd>
      <dt>Spent</dt>
      <dd>{usd(spent)}</dd>
      {d.claim && (
        <>
          <dt>Claim</dt>
          <dd>
            pending until <When at={d.claim.expires_at} />: <a href={d.claim.url}>the claim link</a>
          </dd>
        </>
      )}
    </dl>
  );
}

function Actions({ d, visit, maxTtl, children }: { d: Database; visit: DashboardVisit; maxTtl: number; children: number }) {
  const action = (name: string) => `/databases/${d.id}/${name}`;
  const choices = TTL_CHOICES.filter(([s]) => s <= maxTtl);
  return (
    <section class="card actions" aria-labelledby="actions">
      <h2 id="actions">Actions</h2>
      {LIVE.has(d.state) && (
        <>
          <form method="post" action={action('extend')} class="inline">
            <FormToken value={visit.csrf} />
            <label for="ttl">Lease from now</label>
            <select id="ttl" name="ttl_seconds">
              {choices.map(([s, label]) => (
                <option value={String(s)}>{label}</option>
              ))}
            </select>
            <button type="submit">Extend</button>
          </form>
          {!d.kept && (
            <form method="post" action={action('keep')} class="inline">
              <FormToken value={visit.csrf} />
              <button type="submit" class="secondary">
                Keep
              </button>
              <span class="muted"> no expiry, never swept</span>
            </form>
          )}
        </>
      )}
      {d.state === 'ready' && (
        <form method="post" action={action('rotate')} class="inline">
          <FormToken value={visit.csrf} />
          <button type="submit" class="secondary">
            Rotate credentials
          </button>
        </form>
      )}
      {d.state === 'ready' && d.kind === 'branch' && !d.anonymized && children === 0 && (
        <form method="post" action={action('reset')} class="inline">
          <FormToken value={visit.csrf} />
          <button type="submit" class="secondary">
            Reset to parent
          </button>
          <label>
            {' '}
            as of <input type="text" name="at" placeholder="now, or 2026-03-01T12:00:00Z" aria-label="as of (RFC 3339, optional)" />
          </label>
          <span class="muted"> its own writes go; the connection string stays</span>
        </form>
      )}
      {d.state === 'ready' && d.kind === 'fresh' && !d.claim && (
        <form method="post" action={action('claim')} class="inline">
          <FormToken value={visit.csrf} />
          <button type="submit" class="secondary">
            Claim into my Neon account
          </button>
        </form>
      )}
      {d.state !== 'deleted' && d.state !== 'claimed' && (
        <form method="post" action={action('delete')} class="inline danger-zone">
          <FormToken value={visit.csrf} />
          {children > 0 && (
            <p>
              <input id="cascade" name="cascade" type="checkbox" value="on" />{' '}
              <label for="cascade" class="inline-label">
                Also delete its {children} branch{children === 1 ? '' : 'es'}
              </label>
            </p>
          )}
          <button type="submit" class="danger">
            Delete
          </button>
        </form>
      )}
    </section>
  );
}

/** Where the database is wired into the owner's Workers (the API's bindings); read-only here. */
function Bindings({ bindings }: { bindings: Binding[] }) {
  if (bindings.length === 0) return null;
  return (
    <table class="bindings">
      <caption>Bindings</caption>
      <ColumnHeads columns={['Name', 'Type', 'Worker', 'State', 'Created']} />
      <tbody>
        {bindings.map((x) => (
          <tr data-id={x.id}>
            <th scope="row">
              <code>{x.name}</code>
            </th>
            <td>
              {x.type === 'hyperdrive' ? `Hyperdrive ${x.hyperdrive_name ?? ''}` : 'Worker secret'}
              {x.pooled && ' (pooled)'}
            </td>
            <td>{x.cloudflare.script_name ?? <span class="muted">—</span>}</td>
            <td>
              {x.state}
              {x.update_pending && <span class="muted"> (new password not written yet)</span>}
            </td>
            <td>
              <When at={x.created_at} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Timeline({ events }: { events: DatabaseDetail['events'] }) {
  return (
    <section class="card" aria-labelledby="timeline">
      <h2 id="timeline">Events</h2>
      <ol class="timeline">
        {events.map((e) => (
          <li>
            <When at={e.at} /> <code>{e.type}</code>
          </li>
        ))}
      </ol>
    </section>
  );
}

async function render(c: Ctx, id: string, extra?: unknown, status: 200 | 202 = 200) {
  const [detail, account, bindings] = await Promise.all([
    databaseDetail(c.env, c.var.principal, id),
    getAccount(c.env, c.var.principal),
    listBindings(c.env, c.var.principal, id),
  ]);
  const d = detail.database;
  return c.html(
    <Layout title={`Database ${d.id}`} visit={c.var.visit} current="/databases">
      {extra as string}
      <Facts d={d} spent={d.spent_usd} />
      <Actions d={d} visit={c.var.visit} maxTtl={account.policy.max_ttl_seconds} children={detail.children.length} />
      {detail.children.length > 0 && <DatabaseTable rows={detail.children} caption="Branches" />}
      <Bindings bindings={bindings.data} />
      <Timeline events={detail.events} />
    </Layout>,
    status,
  );
}

const idOf = (c: Ctx) => {
  const id = c.req.param('id') ?? '';
  if (!databaseIdSchema.safeParse(id).success) throw invalidFields([{ path: 'id', message: 'not a database id' }]);
  return id;
};

export const databasePage = new Hono<DashboardEnv>()
  .get('/databases/:id', signedIn(), (c) => render(c, idOf(c)))
  .post('/databases/:id/extend', signedIn(), async (c) => {
    const id = idOf(c);
    const raw = (await formBody(c)).ttl_seconds;
    const ttl = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!TTL_CHOICES.some(([s]) => s === ttl))
      throw invalidFields([{ path: 'ttl_seconds', message: 'choose one of the lease lengths offered' }]);
    await updateDatabase(c.env, c.var.principal, id, { ttl_seconds: ttl });
    return c.redirect(`/databases/${id}`, 303);
  })
  .post('/databases/:id/keep', signedIn(), async (c) => {
    const id = idOf(c);
    await keepDatabase(c.env, c.var.principal, id);
    return c.redirect(`/databases/${id}`, 303);
  })
  .post('/databases/:id/rotate', signedIn(), async (c) => {
    const id = idOf(c);
    const rotated = await rotateCredentials(c.env, c.var.principal, id);
    const conn = rotated.connection;
    // Shown once, in this answer (no-store) and never in a URL: a redirect would have to carry it.
    return render(
      c,
      id,
      conn && (
        <section class="notice" aria-labelledby="rotated">
          <h2 id="rotated">New credentials</h2>
          <p>The old password stops working now. This is the only time the new one is shown.</p>
          <details>
            <summary>Reveal the new connection string</summary>
            <p>
              <CopyableSecret id="new-connection" value={conn.direct} />
            </p>
          </details>
        </section>
      ),
    );
  })
  .post('/databases/:id/reset', signedIn(), async (c) => {
    const id = idOf(c);
    const raw = (await formBody(c)).at;
    const at = typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : undefined;
    const input = parseWith(resetDatabaseSchema, at === undefined ? {} : { at });
    await resetDatabase(c.env, c.var.principal, id, input);
    const state = input.at === undefined ? "its parent's current state" : `its parent as of ${input.at}`;
    return render(c, id, <Notice>Reset to {state}. The connection string is the same; open sessions were ended.</Notice>);
  })
  .post('/databases/:id/claim', signedIn(), async (c) => {
    const id = idOf(c);
    const { claim } = await claimDatabase(c.env, c.var.principal, id);
    return render(
      c,
      id,
      <Notice>
        Open <a href={claim.url}>the claim link</a> before <When at={claim.expires_at} /> to move this database into your own Neon account.
      </Notice>,
      202,
    );
  })
  .post('/databases/:id/delete', signedIn(), async (c) => {
    const id = idOf(c);
    const cascade = (await formBody(c)).cascade === 'on';
    const deleted = await deleteDatabase(c.env, c.executionCtx, c.var.principal, id, { cascade });
    if (deleted.status === 202) {
      return render(c, id, <Notice>The provider did not answer; the deletion is under way and will be retried.</Notice>, 202);
    }
    return c.redirect('/databases', 303);
  });
