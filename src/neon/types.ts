import type {
  BranchResponse,
  ConnectionURIsResponse,
  DatabasesResponse,
  EndpointsResponse,
  OperationsResponse,
  ProjectResponse,
  RolesResponse,
} from '@neondatabase/api-client';

/** Shapes of the provider client's inputs and of Neon's composite create responses. */
export type CreatedProject = ProjectResponse &
  ConnectionURIsResponse &
  RolesResponse &
  DatabasesResponse &
  OperationsResponse &
  BranchResponse &
  EndpointsResponse;

export type CreatedBranch = BranchResponse & EndpointsResponse & OperationsResponse & Partial<RolesResponse & DatabasesResponse>;

export interface CreateProjectInput {
  /** Project name; dblease's start with `dblease-` so reconciliation can recognise them. */
  name: string;
  regionId?: string;
  branchName?: string;
  /** The project owner role. dblease never hands it out. */
  ownerRoleName?: string;
  databaseName?: string;
  /** Neon: 0 = default, -1 = never, else 60..604800. */
  suspendTimeoutSeconds?: number;
  pgVersion?: number;
  /** How far back point-in-time branches and restores may go (Neon: 0..2592000). */
  historyRetentionSeconds?: number;
}

export interface CreateBranchInput {
  /** Parent branch; the project's default branch when absent. */
  parentId?: string;
  /** Point in time on the parent (ISO 8601). */
  parentTimestamp?: string;
  /** Or a WAL position on the parent (`X/Y`). */
  parentLsn?: string;
  name?: string;
  suspendTimeoutSeconds?: number;
}

export interface ConnectionUriInput {
  branchId?: string;
  endpointId?: string;
  databaseName: string;
  roleName: string;
  pooled?: boolean;
}
