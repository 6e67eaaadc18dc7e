/**
 * How dblease names what it writes into a Cloudflare account, so reconciliation can tell its own
 * from the owner's: a Hyperdrive config is `dblease-<account id>-<binding id>`. Worker secrets
 * keep the name the owner chose; dblease knows them by the (script, name) pairs its binding
 * records hold. These must not change lightly.
 */
export const HYPERDRIVE_PREFIX = 'dblease-';

export const hyperdriveConfigName = (accountId: string, bindingId: string) => `${HYPERDRIVE_PREFIX}${accountId}-${bindingId}`;

const CONFIG_NAME = /^dblease-(acc_[0-9a-z]{20})-(bnd_[0-9a-z]{20})$/;

/** The account and binding a Hyperdrive config is named after, or null (not dblease's). */
export function parseHyperdriveConfigName(name: string): { accountId: string; bindingId: string } | null {
  const m = CONFIG_NAME.exec(name);
  return m ? { accountId: m[1]!, bindingId: m[2]! } : null;
}
