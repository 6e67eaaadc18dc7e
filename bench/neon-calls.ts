import { createApiClient, EndpointType, type Operation } from '@neondatabase/api-client';

/** The Neon API calls the local-stack benchmark times, each finished as a Neon client finishes it. */
export type Api = ReturnType<typeof createApiClient>;

export function neonApi(stack: { config: { apiKey: string }; urls: { api: string } }): Api {
  return createApiClient({ apiKey: stack.config.apiKey, baseURL: stack.urls.api });
}

/** Waits until every operation a mutation returned has finished, as Neon clients do. */
export async function settle(api: Api, projectId: string, operations: Operation[]): Promise<void> {
  for (const op of operations) {
    for (let status = op.status; status !== 'finished';) {
      if (status === 'failed' || status === 'error') throw new Error(`operation ${op.id} (${op.action}) ${status}`);
      await new Promise((r) => setTimeout(r, 2));
      status = (await api.getProjectOperation(projectId, op.id)).data.operation.status;
    }
  }
}

export interface NewProject {
  id: string;
  branchId: string;
  endpointId: string;
  /** The owner's URI through the endpoint proxy (it holds a password: never printed). */
  uri: string;
}

/** A project with its default branch and read-write endpoint, its compute up. */
export async function createProject(api: Api, name: string): Promise<NewProject> {
  const { data } = await api.createProject({ project: { name } });
  await settle(api, data.project.id, data.operations);
  return {
    id: data.project.id,
    branchId: data.branch.id,
    endpointId: data.endpoints[0].id,
    uri: data.connection_uris![0].connection_uri,
  };
}

/** A child of the default branch with a read-write endpoint, until its compute is up; its id. */
export async function createBranchWithEndpoint(api: Api, projectId: string): Promise<string> {
  const { data } = await api.createProjectBranch(projectId, { endpoints: [{ type: EndpointType.ReadWrite }] });
  await settle(api, projectId, data.operations);
  return data.branch.id;
}

export async function deleteBranch(api: Api, projectId: string, branchId: string): Promise<void> {
  const { data } = await api.deleteProjectBranch({ projectId, branchId });
  await settle(api, projectId, data.operations);
}

export async function suspendEndpoint(api: Api, projectId: string, endpointId: string): Promise<void> {
  const { data } = await api.suspendProjectEndpoint(projectId, endpointId);
  await settle(api, projectId, data.operations);
}
