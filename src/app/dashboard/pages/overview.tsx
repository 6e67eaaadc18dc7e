/**
 * The overview (`/`): what the account's agents have alive against the quota, what it costs
 * against the cap, two charts (the last 24 hours, this month), the abuse state when it is not
 * `ok`, and what expires next.
 */
import { Hono } from 'hono';
import { raw } from 'hono/html';
import { getAccount } from '../../accounts/service';
import { dashboardStats } from '../../accounts/stats';
import { timeChart } from '../charts/time-chart';
import { Layout } from '../layout';
import { signedIn, type DashboardEnv } from '../session';
import { Labels, usd, When } from './ui';

type Account = Awaited<ReturnType<typeof getAccount>>;
type Stats = Awaited<ReturnType<typeof dashboardStats>>;

function Usage({ account }: { account: Account }) {
  const u = account.usage;
  const quota = account.policy.max_active_databases;
  return (
    <section class="card" aria-labelledby="usage">
      <h2 id="usage">Usage</h2>
      <p>
        <label for="quota-meter">
          Active databases: {u.active_databases} of {quota}
        </label>
        <meter id="quota-meter" min={0} max={quota} high={Math.floor(quota * 0.8)} value={u.active_databases}>
          {u.active_databases} of {quota}
        </meter>
      </p>
      <p>
        <span id="spend-caption" class="field-caption">
          This month ({u.month}): {usd(u.spent_usd)} spent and {usd(u.reserved_usd)} reserved, of a {usd(u.cap_usd)} cap
        </span>
        <SpendBar spent={u.spent_micro_usd} reserved={u.reserved_micro_usd} cap={u.cap_micro_usd} />
      </p>
    </section>
  );
}

/** Spent and reserved as one stacked bar against the cap: an SVG, since the CSP allows no inline widths. */
function SpendBar({ spent, reserved, cap }: { spent: number; reserved: number; cap: number }) {
  const whole = Math.max(cap, spent + reserved, 1);
  // Anything above nothing stays visible.
  const w = (v: number) => (v > 0 ? Math.max(0.5, Math.round((v / whole) * 1000) / 10) : 0);
  return (
    <svg id="spend-meter" class="spend-bar" viewBox="0 0 100 6" preserveAspectRatio="none" role="img" aria-labelledby="spend-caption">
      <rect class="bar-track" x="0" y="0" width="100" height="6" />
      <rect class="bar-spent" data-value={spent} x="0" y="0" width={w(spent)} height="6" />
      <rect class="bar-reserved" data-value={reserved} x={w(spent)} y="0" width={w(reserved)} height="6" />
    </svg>
  );
}

/** Axis and tooltip money: two significant digits below a dollar ($0.058), cents above. */
const money = (v: number) => `$${v === 0 || v >= 1 ? v.toFixed(2) : Number(v.toPrecision(2))}`;

function Charts({ stats }: { stats: Stats }) {
  const hours = stats.activity.map((b) => new Date(b.start).toISOString().slice(11, 16));
  const activity = timeChart({
    id: 'chart-activity',
    title: 'Databases alive and created per hour, last 24 hours',
    buckets: hours,
    series: [
      { name: 'alive', values: stats.activity.map((b) => b.alive), as: 'line' },
      { name: 'created', values: stats.activity.map((b) => b.creates), as: 'bar' },
    ],
    xLabel: 'Hour (UTC)',
    yLabel: 'Databases',
  });
  const spend = timeChart({
    id: 'chart-spend',
    title: 'Spend per day this month: spent, and reserved by the databases created that day',
    buckets: stats.spend_by_day.map((d) => d.day.slice(5)),
    series: [
      { name: 'spent', values: stats.spend_by_day.map((d) => d.spent_micro_usd / 1_000_000), as: 'bar' },
      { name: 'reserved', values: stats.spend_by_day.map((d) => d.reserved_micro_usd / 1_000_000), as: 'bar' },
    ],
    xLabel: 'Day (UTC)',
    yLabel: 'USD',
    format: money,
  });
  return (
    <div class="charts">
      <section class="card" aria-labelledby="activity-heading">
        <h2 id="activity-heading">Last 24 hours</h2>
        {raw(activity)}
      </section>
      <section class="card" aria-labelledby="spend-heading">
        <h2 id="spend-heading">This month</h2>
        {raw(spend)}
      </section>
    </div>
  );
}

/** Only when there is something to say: an `ok` account shows nothing alarming. */
function Abuse({ abuse }: { abuse: Account['abuse'] }) {
  if (!abuse || abuse.state === 'ok') return null;
  const signals = abuse.signals?.account as Record<string, unknown> | undefined;
  return (
    <section class="card warn" aria-labelledby="abuse">
      <h2 id="abuse">Account {abuse.state}</h2>
      <p>
        {abuse.state === 'throttled' ? 'Creates are slowed down' : 'New databases are refused'}
        {abuse.reason ? `: ${abuse.reason}` : ''}. Since <When at={abuse.since} />
        {abuse.pinned ? ' (held by the operator).' : '.'}
      </p>
      {abuse.reasons.length > 0 && (
        <ul>
          {abuse.reasons.map((r) => (
            <li>{r}</li>
          ))}
        </ul>
      )}
      {signals && (
        <dl class="signals">
          {Object.entries(signals).map(([k, v]) => (
            <>
              <dt>{k.replace(/_/g, ' ')}</dt>
              <dd>{typeof v === 'number' ? String(Math.round(v * 100) / 100) : JSON.stringify(v)}</dd>
            </>
          ))}
        </dl>
      )}
    </section>
  );
}

function NextExpiries({ next }: { next: Stats['next_expiries'] }) {
  return (
    <section class="card" aria-labelledby="expiries">
      <h2 id="expiries">Next expiries</h2>
      {next.length === 0 ? (
        <p class="muted">Nothing expires: no live database without keep.</p>
      ) : (
        <ul class="expiries">
          {next.map((d) => (
            <li>
              <a href={`/databases/${d.id}`}>{d.id}</a> <When at={d.expires_at} /> <Labels labels={d.labels} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export const overview = new Hono<DashboardEnv>().get('/', signedIn(), async (c) => {
  const [account, stats] = await Promise.all([getAccount(c.env, c.var.principal), dashboardStats(c.env, c.var.principal)]);
  return c.html(
    <Layout title="Overview" visit={c.var.visit} account={account.name} current="/">
      <p class="lead">
        Account <strong>{account.name}</strong> <span class="muted">({account.id})</span>
      </p>
      <Abuse abuse={account.abuse} />
      <Usage account={account} />
      <Charts stats={stats} />
      <NextExpiries next={stats.next_expiries} />
    </Layout>,
  );
});
