import crypto from 'node:crypto';
import type { ProjectTransferRequestResponse } from '@neondatabase/api-client';
import { conflict, Failure, notFound } from './errors';
import { ownerOf, type ProjectRec, type TransferRequestRec } from './model';
import type { Store } from './store';

/** Neon's default lifetime of a transfer request: 24 hours. */
export const DEFAULT_TRANSFER_TTL_SECONDS = 86_400;

export type AcceptRefusal = 'expired' | 'accepted' | 'superseded';

/** Why a request cannot be accepted at `nowMs`, if it cannot. Pure: the clock is passed in. */
export function acceptRefusal(request: TransferRequestRec, project: ProjectRec, nowMs: number): AcceptRefusal | undefined {
  if (request.accepted_at) return 'accepted';
  if (nowMs >= Date.parse(request.expires_at)) return 'expired';
  // Made by an earlier owner: it must not take the project from the one who holds it now.
  if (ownerOf(project) !== request.from_org_id) return 'superseded';
  return undefined;
}

export function refusalFailure(reason: AcceptRefusal, request: TransferRequestRec): Failure {
  switch (reason) {
    case 'expired':
      return new Failure(410, `transfer request ${request.id} expired at ${request.expires_at}`, 'TRANSFER_REQUEST_EXPIRED');
    case 'accepted':
      return conflict(`transfer request ${request.id} was already accepted`);
    case 'superseded':
      return conflict(`transfer request ${request.id} is void: the project changed owner after it was made`);
  }
}

/** The response of `POST /projects/{id}/transfer_requests`, with our `claim_url` added. */
export type TransferRequestView = ProjectTransferRequestResponse & { claim_url: string };

/**
 * Project transfer requests. The request id is the capability: whoever holds it (and a key of
 * the stack) may accept, so lookups here do not check the caller's organization.
 */
export class Transfers {
  constructor(
    private readonly store: Store,
    /** The API server's origin (`http://127.0.0.1:4100`), known once it listens. */
    private readonly apiOrigin: () => string,
  ) {}

  async create(project: ProjectRec, ttlSeconds: number, nowMs: number): Promise<TransferRequestRec> {
    const request: TransferRequestRec = {
      id: crypto.randomUUID(),
      project_id: project.id,
      from_org_id: ownerOf(project),
      created_at: new Date(nowMs).toISOString(),
      expires_at: new Date(nowMs + ttlSeconds * 1000).toISOString(),
    };
    await this.store.put('transfer', request);
    return request;
  }

  find(projectId: string, requestId: string): { request: TransferRequestRec; project: ProjectRec } {
    const request = this.store.transfers.get(requestId);
    const project = this.store.projects.get(projectId);
    if (!request || !project || request.project_id !== projectId) throw notFound(`transfer request ${requestId} not found`);
    return { request, project };
  }

  /** Moves the project to `toOrgId`; nothing else of it changes (endpoints, roles, data). */
  async accept(projectId: string, requestId: string, toOrgId: string, nowMs: number): Promise<ProjectRec> {
    const { request, project } = this.find(projectId, requestId);
    const refusal = acceptRefusal(request, project, nowMs);
    if (refusal) throw refusalFailure(refusal, request);
    const at = new Date(nowMs).toISOString();
    project.org_id = toOrgId;
    project.updated_at = at;
    await this.store.put('project', project);
    await this.store.put('transfer', { ...request, accepted_at: at, accepted_by: toOrgId });
    // The other open requests were the old owner's offers; they go with the ownership.
    for (const other of [...this.store.transfers.values()]) {
      if (other.project_id === project.id && other.id !== request.id) await this.store.remove('transfer', other);
    }
    return project;
  }

  /** Removes a deleted project's requests. */
  async forget(projectId: string): Promise<void> {
    for (const t of [...this.store.transfers.values()]) if (t.project_id === projectId) await this.store.remove('transfer', t);
  }

  claimUrl(request: TransferRequestRec): string {
    return `${this.apiOrigin()}/claim/${request.project_id}/${request.id}`;
  }

  view(request: TransferRequestRec): TransferRequestView {
    return {
      id: request.id,
      project_id: request.project_id,
      created_at: request.created_at,
      expires_at: request.expires_at,
      claim_url: this.claimUrl(request),
    };
  }
}
