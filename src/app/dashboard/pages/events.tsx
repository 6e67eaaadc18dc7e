/** The audit log (`/events`): the API's events, oldest first, a page at a time with its cursors. */
import { Hono } from 'hono';
import { listEvents } from '../../accounts/service';
import { Layout } from '../layout';
import { signedIn, type DashboardEnv } from '../session';
import { When, ColumnHeads } from './ui';

const PAGE = 50;

export const eventsPage = new Hono<DashboardEnv>().get('/events', signedIn(), async (c) => {
  const cursor = c.req.query('cursor') || undefined;
  const page = await listEvents(c.env, c.var.principal, { cursor, limit: PAGE });
  return c.html(
    <Layout title="Events" visit={c.var.visit} current="/events">
      <table class="events">
        <caption>Events, oldest first</caption>
        <ColumnHeads columns={['When', 'Event', 'Database', 'Token', 'Details']} />
        <tbody>
          {page.data.map((e) => (
            <tr data-id={e.id}>
              <td>
                <When at={e.at} />
              </td>
              <th scope="row">
                <code>{e.type}</code>
              </th>
              <td>{e.database_id ? <a href={`/databases/${e.database_id}`}>{e.database_id}</a> : ''}</td>
              <td>{e.token_id ? <code>{e.token_id}</code> : ''}</td>
              <td>{e.data ? <code class="event-data">{JSON.stringify(e.data)}</code> : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <nav class="pager" aria-label="Pages">
        {cursor && <a href="/events">First page</a>}
        {page.next_cursor && (
          <a href={`/events?cursor=${encodeURIComponent(page.next_cursor)}`} rel="next">
            Next page
          </a>
        )}
      </nav>
    </Layout>,
  );
});
