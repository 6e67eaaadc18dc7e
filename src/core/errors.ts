/**
 * dblease's domain errors: ONE catalogue of codes, and errors as plain data (ARCHITECTURE.md,
 * "Errors"). A `DomainError` is tagged by its `code`; it crosses Durable Object RPC as it is,
 * inside a `Result` (src/core/result.ts). Inside a layer it travels thrown, as a `Failure`.
 * The app maps it to HTTP once (src/app/http/errors.ts), from the status the catalogue gives;
 * the OpenAPI document and the README list the same catalogue.
 */

interface CatalogueEntry {
  /** The HTTP status the app answers with. */
  status: 400 | 401 | 402 | 403 | 404 | 409 | 410 | 413 | 422 | 429 | 500 | 503;
  /** What happened. */
  meaning: string;
  /** What an agent should do about it. */
  action: string;
}

const FIX_INPUT = 'Fix the fields named in details.fields and send it again.';
const REAUTH = 'Get a valid token (ask the account owner); do not retry with this one.';
const WAIT = 'Wait Retry-After seconds, then send the same request again (with the same Idempotency-Key).';
const BUG = 'Nothing to fix on your side: report the request_id to the operator.';

export const ERRORS = {
  invalid_field: { status: 400, meaning: 'A field of the request is missing, malformed or out of range.', action: FIX_INPUT },
  method_not_allowed: {
    status: 400,
    meaning: 'The route does not take this HTTP method.',
    action: 'Use the method the API document gives.',
  },
  invalid_token: { status: 401, meaning: 'The bearer token is missing, malformed or unknown.', action: REAUTH },
  token_expired: { status: 401, meaning: 'The token is past its expiry.', action: REAUTH },
  token_revoked: { status: 401, meaning: 'The token was revoked.', action: REAUTH },
  invalid_operator_token: { status: 401, meaning: 'The route needs the operator token.', action: 'Operators only.' },
  invalid_assertion: {
    status: 401,
    meaning:
      'The provisioning assertion is not valid: bad signature, unknown or retired orchestrator, expired, or the wrong audience (details.reason).',
    action: "Sign a fresh assertion with a registered key, for the catalog's audience.",
  },
  invalid_sign_in_link: {
    status: 401,
    meaning: 'The dashboard sign-in link is unknown, used already, or past its 15 minutes.',
    action: 'Ask the orchestrator for a new link, or sign in with an owner token.',
  },
  invalid_dashboard_session: {
    status: 401,
    meaning: 'The dashboard cookie is missing, forged, expired or signed out.',
    action: 'Sign in to the dashboard again.',
  },
  spend_cap_exceeded: {
    status: 402,
    meaning: "The lease's maximum cost would take the month past the account's spend cap.",
    action: 'Ask for a shorter TTL, delete unused databases, or ask the owner to raise the cap.',
  },
  token_spend_limit: {
    status: 402,
    meaning: "The lease's maximum cost would take this token's month past its own spend limit (details has the numbers).",
    action: 'Ask for a shorter TTL, delete unused databases, or use a token with a higher limit.',
  },
  session_spend_limit: {
    status: 402,
    meaning: "The lease's maximum cost would take the session past its budget (details has the numbers).",
    action: 'Delete databases of the session, or start a session with a larger budget.',
  },
  insufficient_scope: {
    status: 403,
    meaning: 'The token lacks the scope this needs (details.required_scope).',
    action: 'Use a token with that scope.',
  },
  cross_site_request: {
    status: 403,
    meaning: "A dashboard form was sent from another site, or without the page's form token.",
    action: 'Use the form as the dashboard served it.',
  },
  account_suspended: {
    status: 403,
    meaning: 'The account may not create databases now (details.reason).',
    action: 'Ask the account owner.',
  },
  token_ttl_limit: {
    status: 403,
    meaning: "The token's maximum database TTL forbids this (for example keeping a database).",
    action: 'Use a token without a TTL cap, or work within it.',
  },
  account_not_found: { status: 404, meaning: 'No such account.', action: 'Check the id.' },
  database_not_found: { status: 404, meaning: 'No such database in this account.', action: 'Check the id; list databases to find it.' },
  migration_not_found: { status: 404, meaning: 'No such migration in this account.', action: 'Check the id.' },
  session_not_found: { status: 404, meaning: 'No such session in this account.', action: 'Start a new session.' },
  token_not_found: { status: 404, meaning: 'No such token in this account.', action: 'Check the id.' },
  orchestrator_not_found: { status: 404, meaning: 'No such orchestrator.', action: 'Check the id; list the orchestrators.' },
  binding_not_found: { status: 404, meaning: 'No such binding of this database.', action: 'Check the id; list the bindings.' },
  tool_not_found: { status: 404, meaning: 'No such MCP tool.', action: 'List the tools.' },
  route_not_found: { status: 404, meaning: 'No such route.', action: 'See /openapi.json.' },
  account_exists: { status: 409, meaning: 'The account exists already.', action: 'Use it.' },
  binding_limit: {
    status: 409,
    meaning: 'A Cloudflare limit is reached: Hyperdrive configs in the Cloudflare account, or bindings of this database (details.limit).',
    action: 'Remove a binding (or a Hyperdrive config of that Cloudflare account), then retry.',
  },
  binding_exists: {
    status: 409,
    meaning: 'The Worker already has a binding of dblease under this name (details.binding_id, details.state).',
    action: 'Use it, or remove it (DELETE the binding) and wait until it is removed.',
  },
  cloudflare_token_missing: {
    status: 409,
    meaning: 'The account has no Cloudflare API token, so dblease cannot write into a Worker.',
    action: 'The owner sets one with PUT /v1/account/cloudflare, then retry.',
  },
  cloudflare_refused: {
    status: 422,
    meaning:
      "Cloudflare refused the request (details.status, details.cloudflare_message): the token's permissions, an unknown Worker or account.",
    action: 'Fix the token or the names, then retry.',
  },
  branch_depth_exceeded: {
    status: 409,
    meaning: "The branch would be deeper than the account's maximum depth.",
    action: 'Branch a shallower database.',
  },
  database_not_ready: {
    status: 409,
    meaning: 'The database is not ready (details.state).',
    action: 'Wait until it is ready, or use another.',
  },
  parent_not_ready: { status: 409, meaning: 'The parent is not ready, so it cannot be branched.', action: 'Wait until it is ready.' },
  invalid_state: {
    status: 409,
    meaning: 'The database is in a state that does not allow this (details.state).',
    action: 'Read its state first.',
  },
  not_claimable: {
    status: 409,
    meaning: 'Only a ready fresh database can be claimed: a branch moves only with its whole project.',
    action: 'Claim the fresh database it was branched from.',
  },
  has_children: {
    status: 409,
    meaning: 'The database has branches (details.children).',
    action: 'Delete with cascade=true, or delete the branches first.',
  },
  has_kept_children: {
    status: 409,
    meaning: 'Some branches are kept (details.children); cascade never deletes those.',
    action: 'Delete the kept branches by name first.',
  },
  idempotency_key_reused: {
    status: 409,
    meaning: 'This Idempotency-Key was used with a different request.',
    action: 'Use a new key for a new request.',
  },
  assertion_replayed: {
    status: 409,
    meaning: 'This assertion (its jti) was used already.',
    action: 'Sign a new assertion with a new jti.',
  },
  idempotency_in_progress: { status: 409, meaning: 'The request with this Idempotency-Key is still running.', action: WAIT },
  invalid_migration_state: {
    status: 409,
    meaning: 'The migration is in a state that does not allow this (details.state).',
    action: 'Read the migration first.',
  },
  parent_schema_changed: {
    status: 409,
    meaning: "The parent's schema moved since the migration was prepared.",
    action: 'Prepare the migration again.',
  },
  migration_limit_exceeded: {
    status: 409,
    meaning: 'The account has as many undecided migrations as it may.',
    action: 'Apply or discard one first.',
  },
  session_limit: { status: 409, meaning: 'The account has as many active sessions as it may.', action: 'End a session first.' },
  session_not_active: { status: 409, meaning: 'The session is not active, so nothing may join it.', action: 'Start a new session.' },
  token_limit: { status: 409, meaning: 'The account has as many active tokens as it may.', action: 'Revoke a token first.' },
  last_owner_token: { status: 409, meaning: 'The last owner token cannot be revoked.', action: 'Mint another owner token first.' },
  migration_expired: { status: 410, meaning: "The migration's branch lease ended before it was applied.", action: 'Prepare it again.' },
  session_ended: { status: 410, meaning: 'The session was ended.', action: 'Start a new session.' },
  session_lapsed: {
    status: 410,
    meaning: 'The session missed its heartbeat deadline.',
    action: 'Start a new session; heartbeat more often.',
  },
  request_too_large: {
    status: 413,
    meaning: 'The request body is over the limit (details.max_bytes).',
    action: 'Send less, e.g. split a batch.',
  },
  sql_error: { status: 422, meaning: 'PostgreSQL refused the SQL (details carry its error fields).', action: 'Fix the SQL.' },
  statement_timeout: {
    status: 422,
    meaning: 'The SQL ran past the statement timeout and was cancelled in PostgreSQL (details.committed says what may have been).',
    action: 'Make the query cheaper, or split it.',
  },
  row_limit_exceeded: { status: 422, meaning: 'The answer has more rows than the SQL endpoint returns.', action: 'Add a LIMIT, or page.' },
  response_too_large: { status: 422, meaning: 'The answer is larger than the SQL endpoint returns.', action: 'Select less.' },
  transaction_control: {
    status: 422,
    meaning: 'A migration may not end its own transaction (COMMIT, ROLLBACK).',
    action: 'Remove the transaction control.',
  },
  create_rate_limited: { status: 429, meaning: "The account's create rate is spent for now.", action: WAIT },
  provider_action_rate_limited: { status: 429, meaning: "The account's rate of provider actions is spent for now.", action: WAIT },
  quota_exceeded: { status: 429, meaning: 'The account has as many active databases as it may.', action: 'Delete a database, then retry.' },
  internal: { status: 500, meaning: 'A bug in dblease (logged).', action: BUG },
  storage_error: { status: 500, meaning: 'The account storage failed (logged).', action: BUG },
  misconfigured: { status: 500, meaning: 'The deployment is misconfigured (logged, naming what).', action: BUG },
  provider_misconfigured: { status: 500, meaning: "The provider accounts' configuration is invalid.", action: BUG },
  provider_account_unknown: { status: 500, meaning: 'A record names a provider account that is not configured.', action: BUG },
  jwks_unavailable: {
    status: 503,
    meaning: "The orchestrator's JWKS URL did not answer with its keys, so the assertion could not be checked; nothing was provisioned.",
    action: 'Retry after Retry-After seconds; the orchestrator should check its JWKS URL.',
  },
  provider_unavailable: {
    status: 503,
    meaning: "The database provider is unavailable or dblease's budget at it is spent; nothing was left behind.",
    action: WAIT,
  },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERRORS;

export interface FieldIssue {
  /** Dotted path of the field at fault, e.g. `ttl_seconds` or `labels.team`. */
  path: string;
  message: string;
}

/** JSON data as RPC types see it (recursive JSON types defeat them): two levels, as details need. */
export type JsonLeaf = string | number | boolean | null;
export type ErrorDetails = Record<string, JsonLeaf | JsonLeaf[] | FieldIssue[] | Record<string, JsonLeaf | JsonLeaf[]>>;

/** A domain failure as data, tagged by its code. */
export interface DomainError {
  code: ErrorCode;
  message: string;
  details?: ErrorDetails;
  /** Seconds, with 429 and 503. */
  retry_after?: number;
}

/** A domain failure on its way up a layer (thrown), carrying its `DomainError`. */
export class Failure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetails | Record<string, unknown>,
    /** Seconds, for 429 and 503. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'Failure';
  }

  toJSON(): DomainError {
    return {
      code: this.code,
      message: this.message,
      ...(this.details ? { details: this.details as ErrorDetails } : {}),
      ...(this.retryAfter !== undefined ? { retry_after: this.retryAfter } : {}),
    };
  }

  static from(error: DomainError): Failure {
    return new Failure(error.code, error.message, error.details, error.retry_after);
  }

  /** Whether this is dblease's fault (a logged 5xx), not an answer to the caller. */
  get isBug(): boolean {
    return ERRORS[this.code].status === 500;
  }
}

export const invalidFields = (issues: FieldIssue[], message?: string) =>
  new Failure('invalid_field', message ?? issues.map((i) => `${i.path}: ${i.message}`).join('; '), { fields: issues });

type NotFoundKind = 'account' | 'database' | 'migration' | 'session' | 'token' | 'orchestrator' | 'binding';
export const notFound = (what: NotFoundKind, id: string) => new Failure(`${what}_not_found`, `no ${what} ${id}`);

export const unauthenticated = (message = 'missing or invalid bearer token') => new Failure('invalid_token', message);

export const forbidden = (scope: string) =>
  new Failure('insufficient_scope', `this token lacks the "${scope}" scope`, { required_scope: scope });

export const providerUnavailable = (message: string, retryAfterSeconds = 5) =>
  new Failure('provider_unavailable', message, undefined, retryAfterSeconds);

/** A claim refused: only a ready fresh database moves into the user's own Neon account. */
export const notClaimable = (id: string, kind: string, state: string) =>
  new Failure('not_claimable', `database ${id} is a ${kind} database, ${state}: only a ready fresh database can be claimed`, {
    kind,
    state,
  });
