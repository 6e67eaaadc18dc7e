/**
 * The regions this deployment serves, from operator config: `DBLEASE_REGIONS` (comma-separated
 * provider region ids; `default` is the provider's default region) and `DBLEASE_DEFAULT_REGION`
 * (what a create without `region` gets; it must be one of them). A request naming any other
 * region is refused with 400 before admission, so no request can name a warm pool, a provider
 * region or anything else the operator did not choose.
 */
import { invalidFields } from '../errors';
import { misconfigured } from '../crypto/key-material';

export const DEFAULT_REGION = 'default';
/** Provider region ids: lower-case letters, digits and dashes. */
export const REGION_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;

export interface RegionConfig {
  regions: string[];
  defaultRegion: string;
}

type RegionEnv = { DBLEASE_REGIONS?: string; DBLEASE_DEFAULT_REGION?: string };

export function regionConfig(env: RegionEnv): RegionConfig {
  const regions = (env.DBLEASE_REGIONS || DEFAULT_REGION)
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  for (const r of regions) if (!REGION_PATTERN.test(r)) throw misconfigured(`DBLEASE_REGIONS: ${JSON.stringify(r)} is not a region id`);
  const defaultRegion = env.DBLEASE_DEFAULT_REGION || regions[0]!;
  if (!regions.includes(defaultRegion)) throw misconfigured(`DBLEASE_DEFAULT_REGION ${defaultRegion} is not in DBLEASE_REGIONS`);
  return { regions, defaultRegion };
}

/** The region a request asks for if the deployment serves it, else the default; 400 naming `region` otherwise. */
export function chooseRegion(config: RegionConfig, requested: string | undefined): string {
  if (requested === undefined) return config.defaultRegion;
  if (!config.regions.includes(requested)) {
    throw invalidFields([{ path: 'region', message: `not a region this deployment serves (${config.regions.join(', ')})` }]);
  }
  return requested;
}
