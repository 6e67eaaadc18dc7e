import { callerOrg } from './caller';
import type { Deps } from './context';
import { badRequest, notFound } from './errors';
import { ownerOf, type ProjectRec } from './model';

/**
 * 404s, in one place so every route words them the same. Every project-scoped route starts
 * here, so this is also THE ownership check: another organization's project is as absent as
 * one that never existed.
 */
export function findProject(deps: Deps, projectId: string) {
  const p = deps.store.projects.get(projectId);
  if (!p || ownerOf(p) !== callerOrg()) throw notFound(`project ${projectId} not found`);
  return p;
}

/** The caller's projects, for listings. */
export function visibleProjects(deps: Deps): ProjectRec[] {
  const org = callerOrg();
  return [...deps.store.projects.values()].filter((p) => ownerOf(p) === org);
}

export function findBranch(deps: Deps, projectId: string, branchId: string) {
  const project = findProject(deps, projectId);
  const b = deps.store.branches.get(branchId);
  if (!b || b.project_id !== projectId) throw notFound(`branch ${branchId} not found`);
  return { project, branch: b };
}

export function findEndpoint(deps: Deps, projectId: string, endpointId: string) {
  const project = findProject(deps, projectId);
  const e = deps.store.endpoints.get(endpointId);
  if (!e || e.project_id !== projectId) throw notFound(`endpoint ${endpointId} not found`);
  return { project, endpoint: e };
}

export function findRole(deps: Deps, projectId: string, branchId: string, name: string) {
  const found = findBranch(deps, projectId, branchId);
  const role = deps.store.role(branchId, name);
  if (!role) throw notFound(`role ${name} not found`);
  return { ...found, role };
}

export function findDatabase(deps: Deps, projectId: string, branchId: string, name: string) {
  const found = findBranch(deps, projectId, branchId);
  const database = deps.store.database(branchId, name);
  if (!database) throw notFound(`database ${name} not found`);
  return { ...found, database };
}

/** Opaque cursors: base64url JSON, rejected with 400 when they do not decode. */
export function encodeCursor(value: unknown) {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T>(cursor: string, valid: (v: unknown) => v is T): T {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (valid(v)) return v;
  } catch {
    // fall through
  }
  throw badRequest('cursor: not a cursor this API returned');
}
