/**
 * dblease as a service binding: Workers in the same Cloudflare account bind to this entrypoint
 * and call typed RPC methods instead of HTTP. Every method takes a dblease token first and goes
 * through the same authentication and service layer as the HTTP API, so the account, scopes,
 * quota, spend cap and SQL caps are exactly those of `/v1`.
 *
 * Results are `{ ok: true, value }` or `{ ok: false, error }`, with `error` in the API's error
 * shape: RPC would keep only an Error's message, and callers need the code and retry-after.
 *
 *   [[services]]
 *   binding = "DBLEASE"
 *   service = "dblease"
 *   entrypoint = "DbleaseBinding"
 */
import { WorkerEntrypoint } from 'cloudflare:workers';
import { authenticateToken } from './http/auth';
import type { AccountPrincipal } from '../core/auth/principal';
import * as service from './databases/service';
import * as schema from './schema/service';
import { invalidFields } from '../core/errors';
import { fieldIssues, logFailure } from './http/errors';
import { toFailure, wireJson, type WireError } from './http/error-mapping';
import type { Result } from '../core/result';
import {
  createBranchSchema,
  createDatabaseSchema,
  databaseIdSchema,
  listDatabasesQuerySchema,
  resetDatabaseSchema,
  type Database,
} from './schemas/databases';
import { sqlRequestSchema } from './schemas/sql';
import { runSql } from './sql/endpoint';
import * as bindings from './bindings/service';
import { bindingIdSchema, createBindingSchema, type Binding } from './schemas/bindings';
import type { SqlResponse } from './sql/execute';

export interface BindingCreateOptions {
  /** Same key and body within 24 h: the original database, not a second one. */
  idempotency_key?: string;
}

/** Validates RPC input with the wire schema, as the HTTP routes do: bad input is a 400 naming the field. */
function parse<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: unknown } },
  value: unknown,
  path = 'body',
): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidFields(fieldIssues(parsed.error as never, path));
  return parsed.data;
}

/**
 * Schema snapshots use prototype-less objects as maps of names (src/app/migrations/snapshot.ts), which RPC's structured
 * clone refuses ("Could not serialize object"); a JSON round trip gives plain objects with the same keys (JSON.parse
 * defines a `__proto__` key as an own property, so no name is lost).
 */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export class DbleaseBinding extends WorkerEntrypoint<Env> {
  /** Runs `work` as the token's principal; every failure comes back as data. */
  private async as<T>(token: string, work: (principal: AccountPrincipal) => Promise<T>): Promise<Result<T, WireError>> {
    try {
      if (typeof token !== 'string') throw invalidFields([{ path: 'token', message: 'a dblease token is the first argument' }]);
      return { ok: true, value: await work(await authenticateToken(this.env, token)) };
    } catch (err) {
      const failure = toFailure(err);
      logFailure(failure, err, { at: 'binding' });
      return { ok: false, error: wireJson(failure) };
    }
  }

  /**
   * A fresh database, with its connection strings for tokens with `databases:credentials`; `seed` ({sql} or {from, schema_only})
   * is applied before it is returned. Scope `databases:write`.
   */
  async create(token: string, input: unknown = {}, opts: BindingCreateOptions = {}): Promise<Result<Database>> {
    return this.as(token, async (p) => {
      const created = await service.createDatabase(this.env, this.ctx, p, parse(createDatabaseSchema, input), {
        idempotencyKey: opts.idempotency_key,
      });
      return created.database;
    });
  }

  /** A copy-on-write branch of `parentId`, masked by `anonymize` ({rules}) before it is returned. Scope `databases:write`. */
  async branch(token: string, parentId: string, input: unknown = {}, opts: BindingCreateOptions = {}): Promise<Result<Database>> {
    return this.as(token, async (p) => {
      const body = parse(createBranchSchema, input);
      const created = await service.branchDatabase(this.env, this.ctx, p, parse(databaseIdSchema, parentId, 'parent_id'), body, {
        idempotencyKey: opts.idempotency_key,
      });
      return created.database;
    });
  }

  /**
   * A branch back to its parent's current state, or to the parent as of `input.at`, the same
   * connection strings kept, as POST /v1/databases/:id/reset.
   */
  async reset(token: string, id: string, input: unknown = {}): Promise<Result<Database>> {
    return this.as(token, (p) => service.resetDatabase(this.env, p, parse(databaseIdSchema, id, 'id'), parse(resetDatabaseSchema, input)));
  }

  /** A database's schema (tables, enums, fingerprint, DDL), as GET /v1/databases/:id/schema. Scope `databases:read`. */
  async schema(token: string, id: string): Promise<Result<schema.SchemaDescription>> {
    return this.as(token, async (p) => plain(await schema.describeSchema(this.env, p, parse(databaseIdSchema, id, 'id'))));
  }

  /** The schema diff of `id` against `against` (the "before"), as GET /v1/databases/:id/schema/diff. Scope `databases:read`. */
  async diffSchema(token: string, id: string, against: string): Promise<Result<Awaited<ReturnType<typeof schema.diffSchema>>>> {
    return this.as(token, async (p) =>
      plain(await schema.diffSchema(this.env, p, parse(databaseIdSchema, id, 'id'), parse(databaseIdSchema, against, 'against'))),
    );
  }

  /** One database; `credentials: true` adds its connection (scope `databases:credentials`). */
  async get(token: string, id: string, opts: { credentials?: boolean } = {}): Promise<Result<Database>> {
    return this.as(token, (p) =>
      service.getDatabase(this.env, p, parse(databaseIdSchema, id, 'id'), { credentials: opts.credentials === true }),
    );
  }

  /** The account's databases, newest first; page with `next_cursor`. Scope `databases:read`. */
  async list(token: string, query: unknown = {}): Promise<Result<service.DatabaseList>> {
    return this.as(token, (p) => service.listDatabases(this.env, p, parse(listDatabasesQuerySchema, query, 'query')));
  }

  /** Deletes a database (`cascade` for one with branches). `pending` when the provider will finish it later. */
  async delete(token: string, id: string, opts: { cascade?: boolean } = {}): Promise<Result<Database & { pending: boolean }>> {
    return this.as(token, async (p) => {
      const deleted = await service.deleteDatabase(this.env, this.ctx, p, parse(databaseIdSchema, id, 'id'), {
        cascade: opts.cascade === true,
      });
      return { ...deleted.database, pending: deleted.status === 202 };
    });
  }

  /** A query (`{ query, params }`) or a one-transaction batch (`{ queries }`), under the SQL caps. Scope `sql`. */
  async sql(token: string, id: string, request: unknown): Promise<Result<SqlResponse>> {
    return this.as(
      token,
      async (p) => (await runSql(this.env, p, parse(databaseIdSchema, id, 'id'), parse(sqlRequestSchema, request))).response,
    );
  }

  /** Writes the database into a Cloudflare Worker (a secret, or a Hyperdrive config), as POST /v1/databases/:id/bindings. */
  async bind(token: string, id: string, input: unknown): Promise<Result<Binding>> {
    return this.as(token, (p) => bindings.createBinding(this.env, p, parse(databaseIdSchema, id, 'id'), parse(createBindingSchema, input)));
  }

  /** Takes a binding out of Cloudflare (finished by dblease's sweeper), as DELETE /v1/databases/:id/bindings/:bid. */
  async unbind(token: string, id: string, bindingId: string): Promise<Result<Binding>> {
    return this.as(token, (p) =>
      bindings.removeBinding(this.env, p, parse(databaseIdSchema, id, 'id'), parse(bindingIdSchema, bindingId, 'binding_id')),
    );
  }
}
