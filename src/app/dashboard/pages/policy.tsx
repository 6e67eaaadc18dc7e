/**
 * The account's limits (`/policy`): each knob with the operator's maximum beside it. The owner
 * lowers (or raises back) any of them; the service refuses a value above the maximum, naming it.
 */
import { Hono } from 'hono';
import { POLICY_FIELDS, type PolicyPatch } from '../../../core/policy/policy';
import { getAccount, updatePolicy } from '../../accounts/service';
import { policyPatchSchema } from '../../schemas/account';
import { FormToken, Layout } from '../layout';
import { signedIn, type DashboardEnv } from '../session';
import { formBody, formNumber, Notice, parseWith, type Ctx, ColumnHeads } from './ui';

const words = (field: string) =>
  field
    .replace(/_/g, ' ')
    .replace(/\busd\b/, '(USD)')
    .replace(/\bms\b/, '(ms)');

async function render(c: Ctx, extra?: unknown) {
  const account = await getAccount(c.env, c.var.principal);
  return c.html(
    <Layout title="Policy" visit={c.var.visit} account={account.name} current="/policy">
      {extra as string}
      <form method="post" action="/policy" class="card policy">
        <FormToken value={c.var.visit.csrf} />
        <p class="muted">
          Lower any limit for this account. Each may go up again to the operator's maximum, never past it; empty means the maximum.
        </p>
        <table>
          <caption>Limits</caption>
          <ColumnHeads columns={['Limit', 'Value', "Operator's maximum"]} />
          <tbody>
            {POLICY_FIELDS.map((f) => (
              <tr>
                <th scope="row">
                  <label for={`p-${f}`}>{words(f)}</label>
                </th>
                <td>
                  <input
                    id={`p-${f}`}
                    name={f}
                    type="number"
                    min="0"
                    step={f === 'monthly_spend_cap_usd' ? '0.01' : '1'}
                    max={String(account.policy_maximum[f])}
                    value={String(account.policy[f])}
                  />
                </td>
                <td>{account.policy_maximum[f]}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p>
          <button type="submit">Save limits</button>
        </p>
      </form>
    </Layout>,
  );
}

export const policyPage = new Hono<DashboardEnv>()
  .get('/policy', signedIn(), (c) => render(c))
  .post('/policy', signedIn(), async (c) => {
    const form = await formBody(c);
    const patch: Record<string, number | null> = {};
    for (const f of POLICY_FIELDS) if (f in form) patch[f] = formNumber(form[f], f) ?? null;
    await updatePolicy(c.env, c.var.principal, parseWith(policyPatchSchema, patch) as PolicyPatch);
    return render(c, <Notice>Limits saved.</Notice>);
  });
