import type { Branch, ConnectionDetails, Database, Endpoint, Operation, Project, ProjectListItem, Role } from '@neondatabase/api-client';
import type { Deps } from './context';
import { LOCAL_USER_ID } from './context';
import { ownerOf, type BranchRec, type DatabaseRec, type EndpointRec, type OperationRec, type ProjectRec, type RoleRec } from './model';

const PG_VERSION = 18;

/**
 * The Neon CLI builds `postgresql://role:pw@${endpoint.host}/db`, so the host carries the
 * proxy port: `127.1.0.7:55432` gives a working URI with no other knowledge.
 */
export const endpointHost = (deps: Deps, ep: EndpointRec) => `${ep.ip}:${deps.config.pgPort}`;

function periodBounds() {
  const d = new Date();
  const start = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
  const end = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
  return { start: start.toISOString(), end: end.toISOString() };
}

function projectCommon(p: ProjectRec) {
  return {
    id: p.id,
    platform_id: 'local',
    region_id: p.region_id,
    name: p.name,
    provisioner: 'k8s-neonvm',
    default_endpoint_settings: { ...p.default_endpoint_settings },
    settings: {},
    pg_version: PG_VERSION,
    proxy_host: '127.0.0.1',
    branch_logical_size_limit: 0,
    branch_logical_size_limit_bytes: 0,
    store_passwords: true,
    creation_source: 'console',
    history_retention_seconds: p.history_retention_seconds,
    created_at: p.created_at,
    updated_at: p.updated_at,
    owner_id: LOCAL_USER_ID,
    org_id: ownerOf(p),
  };
}

export function projectView(deps: Deps, p: ProjectRec): Project {
  const t = deps.usage.totals({ projectId: p.id });
  const { start, end } = periodBounds();
  return {
    ...projectCommon(p),
    active_time_seconds: Math.round(t.active_seconds),
    compute_time_seconds: Math.round(t.compute_unit_seconds),
    cpu_used_sec: Math.round(t.compute_unit_seconds),
    written_data_bytes: 0,
    data_transfer_bytes: 0,
    data_storage_bytes_hour: Math.round(t.storage_byte_hours),
    synthetic_storage_size: t.storage_bytes,
    consumption_period_start: start,
    consumption_period_end: end,
    compute_last_active_at: deps.compute.lastActive(p.id),
  };
}

export function projectListItem(deps: Deps, p: ProjectRec): ProjectListItem {
  const t = deps.usage.totals({ projectId: p.id });
  return {
    ...projectCommon(p),
    active_time: Math.round(t.active_seconds),
    cpu_used_sec: Math.round(t.compute_unit_seconds),
    compute_last_active_at: deps.compute.lastActive(p.id),
  };
}

export function branchView(deps: Deps, b: BranchRec): Branch {
  const t = deps.usage.totals({ branchId: b.id });
  return {
    id: b.id,
    project_id: b.project_id,
    parent_id: b.parent_id,
    name: b.name,
    current_state: b.current_state,
    state_changed_at: b.updated_at,
    logical_size: t.storage_bytes,
    creation_source: 'console',
    primary: b.default,
    default: b.default,
    protected: b.protected,
    cpu_used_sec: Math.round(t.compute_unit_seconds),
    compute_time_seconds: Math.round(t.compute_unit_seconds),
    active_time_seconds: Math.round(t.active_seconds),
    // No per-database write or transfer counter exists in PostgreSQL to derive these from.
    written_data_bytes: 0,
    data_transfer_bytes: 0,
    created_at: b.created_at,
    updated_at: b.updated_at,
    expires_at: b.expires_at,
    last_reset_at: b.last_reset_at,
    init_source: 'parent-data',
  };
}

export function endpointView(deps: Deps, e: EndpointRec): Endpoint {
  return {
    host: endpointHost(deps, e),
    id: e.id,
    name: e.name,
    project_id: e.project_id,
    branch_id: e.branch_id,
    autoscaling_limit_min_cu: e.autoscaling_limit_min_cu,
    autoscaling_limit_max_cu: e.autoscaling_limit_max_cu,
    region_id: deps.store.projects.get(e.project_id)?.region_id ?? deps.config.regionId,
    type: e.type as Endpoint['type'],
    current_state: e.state as Endpoint['current_state'],
    pending_state: e.pending_state as Endpoint['pending_state'],
    settings: {},
    // There is no PgBouncer locally: the pooled URI is the direct one.
    pooler_enabled: false,
    pooler_mode: 'transaction' as Endpoint['pooler_mode'],
    disabled: e.disabled,
    passwordless_access: false,
    last_active: e.last_active,
    creation_source: 'console',
    created_at: e.created_at,
    updated_at: e.updated_at,
    started_at: e.started_at,
    suspended_at: e.suspended_at,
    proxy_host: '127.0.0.1',
    suspend_timeout_seconds: e.suspend_timeout_seconds,
    provisioner: 'k8s-neonvm',
    // The local stack's own field: how long the compute took to start the last time (README).
    ...(e.last_start_ms !== undefined ? { cold_start_ms: e.last_start_ms } : {}),
  } as Endpoint;
}

export function roleView(r: RoleRec, withPassword = false): Role {
  return {
    branch_id: r.branch_id,
    name: r.name,
    protected: r.protected,
    authentication_method: 'password',
    created_at: r.created_at,
    updated_at: r.updated_at,
    ...(withPassword ? { password: r.password } : {}),
  };
}

export const databaseView = (d: DatabaseRec): Database => ({
  id: d.id,
  branch_id: d.branch_id,
  name: d.name,
  owner_name: d.owner_name,
  created_at: d.created_at,
  updated_at: d.updated_at,
});

export function operationView(o: OperationRec): Operation {
  const { seq: _seq, ...rest } = o;
  return rest as unknown as Operation;
}

export function connectionUri(deps: Deps, ep: EndpointRec, role: RoleRec, database: string): string {
  const host = endpointHost(deps, ep);
  return `postgresql://${encodeURIComponent(role.name)}:${encodeURIComponent(role.password)}@${host}/${encodeURIComponent(database)}`;
}

/** Neon lists one URI per database, for its owner, on the branch's read-write endpoint. */
export function connectionUris(deps: Deps, branchId: string): ConnectionDetails[] {
  const ep = deps.store.endpointsOfBranch(branchId).find((e) => e.type === 'read_write') ?? deps.store.endpointsOfBranch(branchId)[0];
  if (!ep) return [];
  const out: ConnectionDetails[] = [];
  for (const db of deps.store.databasesOf(branchId)) {
    const role = deps.store.role(branchId, db.owner_name);
    if (!role) continue;
    const host = endpointHost(deps, ep);
    out.push({
      connection_uri: connectionUri(deps, ep, role, db.name),
      connection_parameters: { database: db.name, password: role.password, role: role.name, host, pooler_host: host },
    });
  }
  return out;
}
