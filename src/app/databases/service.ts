/**
 * THE databases service layer. Every interface of dblease (HTTP routes, MCP tools, the SQL
 * endpoint, migrations, the WorkerEntrypoint service binding) calls these functions and nothing
 * below them, so scopes, isolation (another account's id is 404), idempotency and the
 * provisioning saga are enforced in exactly one place (ARCHITECTURE.md, "Route style").
 *
 * Every function takes the caller's `AccountPrincipal` (from `accountAuth()` or the binding's
 * own authentication) and checks the scope it needs itself:
 * - `createDatabase` (POST /v1/databases), `branchDatabase` (POST /v1/databases/:id/branches):
 *   `databases:write`; the answer carries `connection` with `databases:credentials`.
 * - `getDatabase` (`databases:read`; with `credentials`, also `databases:credentials`),
 *   `listDatabases` (`databases:read`).
 * - `updateDatabase`, `keepDatabase`, `deleteDatabase`: `databases:write`.
 * - `rotateCredentials`: `databases:write` and `databases:credentials`.
 * - `connectionFor` (the SQL endpoint and migrations): `sql` unless told otherwise.
 */
export { branchDatabase, createDatabase } from './create';
export { claimDatabase } from './claim';
export { deleteDatabase } from './delete';
export { resetDatabase } from './reset';
export { databaseDetail } from './detail';
export { connectionFor, getDatabase, keepDatabase, listDatabases, rotateCredentials, updateDatabase } from './existing';
export type * from './types';
