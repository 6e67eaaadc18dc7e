import type {
  Branch,
  BranchResponse,
  BranchesResponse,
  ConnectionURIResponse,
  ConnectionURIsResponse,
  CursorPaginationResponse,
  Database,
  DatabaseOperations,
  DatabasesResponse,
  Endpoint,
  EndpointOperations,
  EndpointsResponse,
  Operation,
  OperationResponse,
  OperationsResponse,
  PaginationResponse,
  Project,
  ProjectCreateRequest,
  ProjectListItem,
  ProjectResponse,
  ProjectsResponse,
  Role,
  RoleOperations,
  RolePasswordResponse,
  RolesResponse,
} from '@neondatabase/api-client';
import { ProviderUnavailable } from './errors';
import type { ProviderAccount } from './accounts';
import { ProviderRequestError } from './errors';
import { DEFAULT_OPTIONS, path, providerCall, type CallSpec, type ProviderOptions } from './http';
import { waitForOperations } from './operations';
import { serializeProject } from './queue';
import type { ConnectionUriInput, CreateBranchInput, CreatedBranch, CreatedProject, CreateProjectInput } from './types';

type Mutation = { operations?: Operation[] };

const orFalseIfGone = (err: unknown): false => {
  if (err instanceof ProviderRequestError && err.notFound) return false;
  throw err;
};

/**
 * A typed Neon API v2 client for one provider account, on plain `fetch`. Every mutation of an
 * existing project goes through this isolate's per-project queue and returns only once its
 * operations have finished, so the next call never meets a 423 of our own making.
 */
export class NeonClient {
  constructor(
    readonly account: ProviderAccount,
    readonly options: ProviderOptions = DEFAULT_OPTIONS,
  ) {}

  private call<T>(spec: CallSpec): Promise<T> {
    return providerCall<T>(this.account, spec, this.options);
  }

  /** Queued behind this isolate's other mutations of the project; resolves after its operations finish. */
  private mutate<T extends Mutation>(projectId: string, spec: CallSpec): Promise<T> {
    return serializeProject(`${this.account.id}/${projectId}`, async () => {
      const res = await this.call<T>(spec);
      await waitForOperations(this.account, projectId, res.operations, this.options);
      return res;
    });
  }

  // ---- projects

  /** Not retried on an ambiguous failure (it would create a second project); an orphan is found by its name. */
  async createProject(input: CreateProjectInput): Promise<CreatedProject> {
    const body: ProjectCreateRequest = {
      project: {
        name: input.name,
        ...(input.regionId ? { region_id: input.regionId } : {}),
        ...(input.pgVersion ? { pg_version: input.pgVersion } : {}),
        ...(input.historyRetentionSeconds !== undefined ? { history_retention_seconds: input.historyRetentionSeconds } : {}),
        branch: {
          ...(input.branchName ? { name: input.branchName } : {}),
          ...(input.ownerRoleName ? { role_name: input.ownerRoleName } : {}),
          ...(input.databaseName ? { database_name: input.databaseName } : {}),
        },
        ...(input.suspendTimeoutSeconds !== undefined
          ? { default_endpoint_settings: { suspend_timeout_seconds: input.suspendTimeoutSeconds } }
          : {}),
      },
    };
    const res = await this.call<CreatedProject>({ method: 'POST', path: '/projects', route: 'POST /projects', body });
    const projectId = res.project.id;
    await serializeProject(`${this.account.id}/${projectId}`, () =>
      waitForOperations(this.account, projectId, res.operations, this.options),
    );
    return res;
  }

  async getProject(projectId: string): Promise<Project> {
    const res = await this.call<ProjectResponse>({ method: 'GET', path: path`/projects/${projectId}`, route: 'GET /projects/:project_id' });
    return res.project;
  }

  /** True when deleted now, false when it was already gone (so retries and sweeps are safe). */
  deleteProject(projectId: string): Promise<boolean> {
    return this.mutate<ProjectResponse & Mutation>(projectId, {
      method: 'DELETE',
      path: path`/projects/${projectId}`,
      route: 'DELETE /projects/:project_id',
    }).then(() => true, orFalseIfGone);
  }

  /**
   * A project transfer request (claim): the recipient accepts it with their own key, or through
   * the claim link. The local stack answers with its own `claim_url`; on Neon the console's claim
   * link is made from the project and request ids.
   */
  async createTransferRequest(projectId: string, ttlSeconds: number): Promise<{ id: string; expires_at: string; claim_url: string }> {
    const res = await this.call<{ id: string; expires_at: string; claim_url?: string }>({
      method: 'POST',
      path: path`/projects/${projectId}/transfer_requests`,
      route: 'POST /projects/:project_id/transfer_requests',
      body: { ttl_seconds: ttlSeconds },
    });
    const claimUrl =
      res.claim_url ?? `https://console.neon.tech/app/claim?p=${encodeURIComponent(projectId)}&tr=${encodeURIComponent(res.id)}`;
    return { id: res.id, expires_at: res.expires_at, claim_url: claimUrl };
  }

  /** One page of one project: that the provider answers this account's key (the health probe). */
  async probe(): Promise<void> {
    await this.call<ProjectsResponse>({ method: 'GET', path: '/projects', route: 'GET /projects', query: { limit: 1 } });
  }

  /** Every project (optionally matching `search`), following the cursor page by page. */
  async listProjects(opts: { search?: string; pageSize?: number } = {}): Promise<ProjectListItem[]> {
    const limit = opts.pageSize ?? 400;
    const all: ProjectListItem[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.call<ProjectsResponse & PaginationResponse>({
        method: 'GET',
        path: '/projects',
        route: 'GET /projects',
        query: { limit, cursor, search: opts.search },
      });
      all.push(...page.projects);
      const next = page.pagination?.cursor;
      if (page.projects.length < limit || !next || next === cursor) return all;
      cursor = next;
    }
  }

  // ---- branches

  /** A branch with one read-write endpoint (scale-to-zero with the given suspend timeout). */
  createBranch(projectId: string, input: CreateBranchInput = {}): Promise<CreatedBranch> {
    return this.mutate<CreatedBranch>(projectId, {
      method: 'POST',
      path: path`/projects/${projectId}/branches`,
      route: 'POST /projects/:project_id/branches',
      body: {
        branch: {
          ...(input.parentId ? { parent_id: input.parentId } : {}),
          ...(input.parentTimestamp ? { parent_timestamp: input.parentTimestamp } : {}),
          ...(input.parentLsn ? { parent_lsn: input.parentLsn } : {}),
          ...(input.name ? { name: input.name } : {}),
        },
        endpoints: [
          {
            type: 'read_write',
            ...(input.suspendTimeoutSeconds !== undefined ? { suspend_timeout_seconds: input.suspendTimeoutSeconds } : {}),
          },
        ],
      },
    });
  }

  /**
   * Restores a branch to the head of `sourceBranchId` (its parent, for a reset), or to that
   * branch as of `at.sourceTimestamp`: same id, same endpoints; the provider restarts its
   * compute, ending the sessions on it. Waits for the operations.
   */
  async restoreBranch(projectId: string, branchId: string, sourceBranchId: string, at: { sourceTimestamp?: string } = {}): Promise<void> {
    await this.mutate<BranchResponse & Mutation>(projectId, {
      method: 'POST',
      path: path`/projects/${projectId}/branches/${branchId}/restore`,
      route: 'POST /projects/:project_id/branches/:branch_id/restore',
      body: { source_branch_id: sourceBranchId, ...(at.sourceTimestamp ? { source_timestamp: at.sourceTimestamp } : {}) },
    });
  }

  /** True when deleted now, false when it was already gone. */
  deleteBranch(projectId: string, branchId: string): Promise<boolean> {
    return this.mutate<BranchResponse & Mutation>(projectId, {
      method: 'DELETE',
      path: path`/projects/${projectId}/branches/${branchId}`,
      route: 'DELETE /projects/:project_id/branches/:branch_id',
    }).then(() => true, orFalseIfGone);
  }

  async listBranches(projectId: string): Promise<Branch[]> {
    const all: Branch[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.call<BranchesResponse & CursorPaginationResponse>({
        method: 'GET',
        path: path`/projects/${projectId}/branches`,
        route: 'GET /projects/:project_id/branches',
        query: { cursor },
      });
      all.push(...page.branches);
      const next = page.pagination?.next;
      if (!next || next === cursor || page.branches.length === 0) return all;
      cursor = next;
    }
  }

  // ---- roles and databases

  /** A login role on one branch; the response carries its first password. */
  async createRole(projectId: string, branchId: string, name: string): Promise<Role> {
    const res = await this.mutate<RoleOperations>(projectId, {
      method: 'POST',
      path: path`/projects/${projectId}/branches/${branchId}/roles`,
      route: 'POST /projects/:project_id/branches/:branch_id/roles',
      body: { role: { name } },
    });
    return res.role;
  }

  /** A new password; the old one stops working once the operations finish (this waits for them). */
  async resetRolePassword(projectId: string, branchId: string, roleName: string): Promise<string> {
    const res = await this.mutate<RoleOperations>(projectId, {
      method: 'POST',
      path: path`/projects/${projectId}/branches/${branchId}/roles/${roleName}/reset_password`,
      route: 'POST /projects/:project_id/branches/:branch_id/roles/:role_name/reset_password',
      // Repeating it is harmless: only the password of the attempt that answers is used.
      idempotent: true,
    });
    if (!res.role.password) throw new ProviderUnavailable('the database provider reset a password without returning it', 5);
    return res.role.password;
  }

  async revealRolePassword(projectId: string, branchId: string, roleName: string): Promise<string> {
    const res = await this.call<RolePasswordResponse>({
      method: 'GET',
      path: path`/projects/${projectId}/branches/${branchId}/roles/${roleName}/reveal_password`,
      route: 'GET /projects/:project_id/branches/:branch_id/roles/:role_name/reveal_password',
    });
    return res.password;
  }

  async createDatabase(projectId: string, branchId: string, name: string, ownerName: string): Promise<Database> {
    const res = await this.mutate<DatabaseOperations>(projectId, {
      method: 'POST',
      path: path`/projects/${projectId}/branches/${branchId}/databases`,
      route: 'POST /projects/:project_id/branches/:branch_id/databases',
      body: { database: { name, owner_name: ownerName } },
    });
    return res.database;
  }

  /** Renames a database or gives it a new owner (e.g. from the project owner to the agent's role). */
  async updateDatabase(
    projectId: string,
    branchId: string,
    name: string,
    change: { name?: string; ownerName?: string },
  ): Promise<Database> {
    const res = await this.mutate<DatabaseOperations>(projectId, {
      method: 'PATCH',
      path: path`/projects/${projectId}/branches/${branchId}/databases/${name}`,
      route: 'PATCH /projects/:project_id/branches/:branch_id/databases/:database_name',
      body: { database: { ...(change.name ? { name: change.name } : {}), ...(change.ownerName ? { owner_name: change.ownerName } : {}) } },
      // Setting the same owner or name twice ends in the same state.
      idempotent: true,
    });
    return res.database;
  }

  // ---- endpoints and connections

  async startEndpoint(projectId: string, endpointId: string): Promise<Endpoint> {
    return (await this.endpointAction(projectId, endpointId, 'start')).endpoint;
  }

  async suspendEndpoint(projectId: string, endpointId: string): Promise<Endpoint> {
    return (await this.endpointAction(projectId, endpointId, 'suspend')).endpoint;
  }

  private endpointAction(projectId: string, endpointId: string, action: 'start' | 'suspend') {
    return this.mutate<EndpointOperations>(projectId, {
      method: 'POST',
      path: `${path`/projects/${projectId}/endpoints/${endpointId}`}/${action}`,
      route: `POST /projects/:project_id/endpoints/:endpoint_id/${action}`,
      // Starting a started endpoint or suspending a suspended one changes nothing.
      idempotent: true,
    });
  }

  async listEndpoints(projectId: string): Promise<Endpoint[]> {
    const res = await this.call<EndpointsResponse>({
      method: 'GET',
      path: path`/projects/${projectId}/endpoints`,
      route: 'GET /projects/:project_id/endpoints',
    });
    return res.endpoints;
  }

  /** The provider's connection URI, password included. Never log it. */
  async connectionUri(projectId: string, input: ConnectionUriInput): Promise<string> {
    const res = await this.call<ConnectionURIResponse>({
      method: 'GET',
      path: path`/projects/${projectId}/connection_uri`,
      route: 'GET /projects/:project_id/connection_uri',
      query: {
        branch_id: input.branchId,
        endpoint_id: input.endpointId,
        database_name: input.databaseName,
        role_name: input.roleName,
        pooled: input.pooled ? true : undefined,
      },
    });
    return res.uri;
  }

  // ---- operations

  async getOperation(projectId: string, operationId: string): Promise<Operation> {
    const res = await this.call<OperationResponse>({
      method: 'GET',
      path: path`/projects/${projectId}/operations/${operationId}`,
      route: 'GET /projects/:project_id/operations/:operation_id',
    });
    return res.operation;
  }

  async listOperations(projectId: string, opts: { limit?: number } = {}): Promise<Operation[]> {
    const res = await this.call<OperationsResponse>({
      method: 'GET',
      path: path`/projects/${projectId}/operations`,
      route: 'GET /projects/:project_id/operations',
      query: { limit: opts.limit },
    });
    return res.operations;
  }

  /** Waits for operations the caller got from elsewhere (e.g. a response it kept). */
  waitForOperations(projectId: string, operations: readonly Operation[]): Promise<void> {
    return waitForOperations(this.account, projectId, operations, this.options);
  }
}
