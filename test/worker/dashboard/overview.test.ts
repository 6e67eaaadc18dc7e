/**
 * The dashboard's overview: usage against the quota and the cap, the two charts from the
 * account object's figures, the abuse state only when it is not ok, and the next expiries.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { accountObject } from '../support/api';
import { Browser } from '../support/browser';
import { createDb, newAgent, type Agent } from '../support/databases';

const points = (html: string, chart: string) => {
  const svg = new RegExp(`<svg class="chart" id="${chart}"[^>]*>(.*?)</svg>`, 's').exec(html)?.[1] ?? '';
  return [...svg.matchAll(/class="point (dot|bar)[^"]*" data-value="([0-9.]+)"/g)].map((m) => ({ as: m[1], value: Number(m[2]) }));
};

describe('the overview', () => {
  let agent: Agent;
  let b: Browser;
  let soon: any;
  beforeAll(async () => {
    agent = await newAgent({ max_active_databases: 7 });
    b = new Browser();
    await b.signIn(agent.ownerToken);
    soon = await createDb(agent.token, { ttl_seconds: 300, labels: { who: 'soon' } });
    await createDb(agent.token, { ttl_seconds: 900 });
  });

  it('shows active databases against the quota, and spent and reserved against the cap', async () => {
    const html = await b.page('/');
    expect(html).toContain('<h1>Overview</h1>');
    expect(html).toContain('Active databases: 2 of 7');
    expect(html).toMatch(/<meter id="quota-meter" min="0" max="7" high="5" value="2">/);
    expect(html).toMatch(/\$0\.00 spent and \$0\.\d+ reserved, of a \$20\.00 cap/);
    expect(html).toMatch(/<rect class="bar-reserved" data-value="[1-9]\d*"/);
    expect(html).not.toMatch(/style=/);
  });

  it('draws the last 24 hours and this month from the account object, with axis labels', async () => {
    const html = await b.page('/');
    const activity = points(html, 'chart-activity');
    expect(activity.filter((p) => p.as === 'dot')).toHaveLength(24);
    expect(activity.filter((p) => p.as === 'bar')).toHaveLength(24);
    // This hour: two alive, two created.
    expect(activity.filter((p) => p.as === 'dot').at(-1)!.value).toBe(2);
    expect(activity.filter((p) => p.as === 'bar').at(-1)!.value).toBe(2);
    expect(html).toContain('>Hour (UTC)</text>');
    expect(html).toContain('>Databases</text>');
    const spend = points(html, 'chart-spend');
    // Spent and reserved for each day of the month so far; today's creates hold money.
    expect(spend).toHaveLength(2 * new Date().getUTCDate());
    expect(spend.at(-1)!.value).toBeGreaterThan(0);
    expect(html).toContain('>Day (UTC)</text>');
    expect(html).toContain('>USD</text>');
  });

  it('lists the next expiries, soonest first', async () => {
    const html = await b.page('/');
    const list = /<ul class="expiries">(.*?)<\/ul><\/section>/s.exec(html)![1]!;
    const ids = [...list.matchAll(/<a href="\/databases\/(db_[0-9a-z]+)">/g)].map((m) => m[1]);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(soon.id);
  });

  it('says nothing alarming while the account is ok, and shows the state and its reasons when not', async () => {
    expect(await b.page('/')).not.toContain('id="abuse"');
    const acct = await newAgent();
    const other = new Browser();
    await other.signIn(acct.ownerToken);
    // The operator's hand, pinned so the detector (off in this suite) leaves it be.
    const set = await accountObject(acct.id).setAbuseByOperator({ state: 'throttled', pin: true, reason: 'churn over the threshold' });
    expect(set.ok).toBe(true);
    const html = await other.page('/');
    expect(html).toContain('<h2 id="abuse">Account throttled</h2>');
    expect(html).toContain('churn over the threshold');
    expect(html).toContain('(held by the operator)');
  });
});
