import type { LocalStackConfig } from '../config';
import type { ProxyConnections } from '../hooks';
import type { Cluster } from '../postgres/cluster';
import type { Branching } from './branching';
import type { BranchStorage } from '../postgres/storage';
import type { Compute } from './compute';
import type { Computes } from './computes';
import type { Operations } from './operations';
import type { Organizations } from './organizations';
import type { Physical } from './physical';
import type { Provision } from './provision';
import type { Store } from './store';
import type { Transfers } from './transfers';
import type { Usage } from './usage';

/** Everything the routes reach; built once in index.ts. */
export interface Deps {
  config: LocalStackConfig;
  /** The control plane's own PostgreSQL (the metadata store); tenants' data is never here. */
  cluster: Cluster;
  proxy: ProxyConnections;
  store: Store;
  ops: Operations;
  /** A data directory per branch. */
  storage: BranchStorage;
  /** A postmaster per running compute. */
  computes: Computes;
  physical: Physical;
  usage: Usage;
  compute: Compute;
  branching: Branching;
  provision: Provision;
  orgs: Organizations;
  transfers: Transfers;
}

/** The single local user the Neon CLI expects to find (the default organization: model.ts). */
export const LOCAL_USER_ID = 'local-user';
