/** Agent sessions (`/sessions`): the account's sessions, newest first, and an end button on each active one. */
import { Hono } from 'hono';
import { invalidFields } from '../../../core/errors';
import { sessionIdSchema } from '../../schemas/databases';
import { endSession, listSessions } from '../../sessions/service';
import { FormToken, Layout } from '../layout';
import { signedIn, type DashboardEnv } from '../session';
import { Labels, Notice, usd, When, type Ctx, ColumnHeads } from './ui';

async function render(c: Ctx, extra?: unknown) {
  const { data } = await listSessions(c.env, c.var.principal);
  return c.html(
    <Layout title="Sessions" visit={c.var.visit} current="/sessions">
      {extra as string}
      <p class="muted">
        An agent's session lives while it sends heartbeats; when it ends or lapses, its databases that are not kept are deleted.
      </p>
      <table class="sessions">
        <caption>Sessions</caption>
        <ColumnHeads columns={['Id', 'State', 'Labels', 'Budget', 'Created', 'Expires', { hidden: 'Action' }]} />
        <tbody>
          {data.length === 0 && (
            <tr>
              <td colspan={7} class="muted">
                No sessions.
              </td>
            </tr>
          )}
          {data.map((s) => (
            <tr data-id={s.id}>
              <th scope="row">
                <a href={`/databases?session_id=${s.id}`}>{s.id}</a>
              </th>
              <td>{s.state}</td>
              <td>
                <Labels labels={s.labels} />
              </td>
              <td>{s.spend_limit_usd === null ? <span class="muted">—</span> : usd(s.spend_limit_usd)}</td>
              <td>
                <When at={s.created_at} />
              </td>
              <td>
                <When at={s.state === 'active' ? s.expires_at : s.ended_at} />
              </td>
              <td>
                {s.state === 'active' && (
                  <form method="post" action={`/sessions/${s.id}/end`}>
                    <FormToken value={c.var.visit.csrf} />
                    <button type="submit" class="danger" aria-label={`End ${s.id}`}>
                      End
                    </button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>,
  );
}

export const sessionsPage = new Hono<DashboardEnv>()
  .get('/sessions', signedIn(), (c) => render(c))
  .post('/sessions/:id/end', signedIn(), async (c) => {
    const id = c.req.param('id');
    if (!sessionIdSchema.safeParse(id).success) throw invalidFields([{ path: 'id', message: 'not a session id' }]);
    await endSession(c.env, c.var.principal, id);
    return render(c, <Notice>Session {id} ended; its databases that are not kept go with the next sweep.</Notice>);
  });
