/**
 * The control plane's records. They live in memory (the proxies' `resolve` is synchronous)
 * and are written through to the metadata database on every change.
 */
export interface ProjectRec {
  id: string;
  name: string;
  /** The owning organization; records from before organizations existed belong to the default one. */
  org_id?: string;
  region_id: string;
  created_at: string;
  updated_at: string;
  seq: number;
  history_retention_seconds: number;
  default_endpoint_settings: {
    suspend_timeout_seconds: number;
    autoscaling_limit_min_cu: number;
    autoscaling_limit_max_cu: number;
  };
}

export interface BranchRec {
  id: string;
  project_id: string;
  name: string;
  parent_id?: string;
  default: boolean;
  protected: boolean;
  expires_at?: string;
  current_state: 'init' | 'ready';
  created_at: string;
  updated_at: string;
  last_reset_at?: string;
  /** Set on create (`annotation_value`), shown by GET (annotations.ts). */
  annotation?: { value: Record<string, string>; created_at: string; updated_at: string };
  /** Where its own history begins (after its first start): a `parent_lsn` before it is refused. */
  start_lsn?: string;
  seq: number;
}

export type EndpointState = 'init' | 'active' | 'idle';

export interface EndpointRec {
  id: string;
  project_id: string;
  branch_id: string;
  /** Loopback address the endpoint proxy listens on for this endpoint. */
  ip: string;
  type: 'read_write' | 'read_only';
  state: EndpointState;
  pending_state?: EndpointState;
  disabled: boolean;
  suspend_timeout_seconds: number;
  autoscaling_limit_min_cu: number;
  autoscaling_limit_max_cu: number;
  name?: string;
  created_at: string;
  updated_at: string;
  started_at?: string;
  suspended_at?: string;
  last_active?: string;
  /** How long its compute took to start the last time it started: the cold start, in ms. */
  last_start_ms?: number;
  seq: number;
}

export interface RoleRec {
  project_id: string;
  branch_id: string;
  name: string;
  password: string;
  protected: boolean;
  created_at: string;
  updated_at: string;
}

export interface DatabaseRec {
  id: number;
  project_id: string;
  branch_id: string;
  name: string;
  owner_name: string;
  created_at: string;
  updated_at: string;
}

export type OperationStatus = 'scheduling' | 'running' | 'finished' | 'failed';

export interface OperationRec {
  id: string;
  project_id: string;
  branch_id?: string;
  endpoint_id?: string;
  action: string;
  status: OperationStatus;
  error?: string;
  failures_count: number;
  created_at: string;
  updated_at: string;
  total_duration_ms: number;
  seq: number;
}

/** An organization made with `POST /_admin/organizations`; the default one is not stored. */
export interface OrganizationRec {
  id: string;
  name: string;
  handle: string;
  /** SHA-256 (hex) of its API key: the key itself is shown once and never kept. */
  key_sha256: string;
  created_at: string;
  updated_at: string;
}

/** `POST /projects/{id}/transfer_requests`: valid until `expires_at`, for one acceptance. */
export interface TransferRequestRec {
  id: string;
  project_id: string;
  /** The owner when the request was made; the request is void once the project has another. */
  from_org_id: string;
  created_at: string;
  expires_at: string;
  accepted_at?: string;
  accepted_by?: string;
}

/** One branch's consumption during one UTC hour. */
export interface UsageBucket {
  project_id: string;
  branch_id: string;
  /** Start of the hour, ISO. */
  hour: string;
  active_seconds: number;
  compute_unit_seconds: number;
  /** Last sampled `pg_database_size` sum of the branch's databases during the hour. */
  storage_bytes: number;
}

export const now = () => new Date().toISOString();

/** The default organization: the one the stack's own key (`DBLEASE_LOCAL_API_KEY`) belongs to. */
export const LOCAL_ORG_ID = 'org-local';

/** A project's organization; projects from before organizations existed are the default one's. */
export const ownerOf = (p: ProjectRec) => p.org_id ?? LOCAL_ORG_ID;
