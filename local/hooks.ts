/**
 * The two halves of the local stack, the Neon-compatible control plane and the SQL proxies,
 * run in one process and need a few things from each other. These are those seams.
 *
 * Naming: a *logical* name is what Neon clients see (role `neondb_owner`, database `neondb`);
 * a *physical* name is the real PostgreSQL role or database that holds one branch's copy.
 * Roles are branch-scoped in Neon but cluster-wide in PostgreSQL, hence the two.
 */

/** What the proxies need to route one client connection to the right branch. */
export interface EndpointTarget {
  endpointId: string;
  branchId: string;
  projectId: string;
  /** Physical database for a logical database name on this endpoint's branch. */
  database(logical: string): string | undefined;
  /** Physical role for a logical role name on this endpoint's branch. */
  role(logical: string): string | undefined;
}

/** A refusal the client should see verbatim (as a PostgreSQL FATAL or an HTTP 4xx). */
export class ConnectRefused extends Error {
  constructor(
    message: string,
    /** SQLSTATE to report, e.g. 3D000 unknown database, 28000 bad role, 57P03 cannot connect now. */
    readonly sqlState: string,
  ) {
    super(message);
  }
}

/** Implemented by the control plane; called by the proxies. */
export interface ComputeGate {
  /**
   * The endpoint behind a host as written in a connection string: an endpoint's own loopback
   * address (`127.1.0.7`, with or without `:port`) or an endpoint id (`ep-…`, from the
   * `options=endpoint=ep-…` startup parameter). Undefined when it names no endpoint.
   */
  resolve(hostOrEndpointId: string): EndpointTarget | undefined;
  /**
   * Wakes an idle endpoint, as Neon's proxy wakes a suspended compute on connect. Resolves
   * once its databases accept connections; rejects with ConnectRefused when it cannot.
   */
  ensureAwake(endpointId: string): Promise<void>;
  /** A client connection through this endpoint opened / closed (compute time, idle suspend). */
  connectionOpened(endpointId: string): void;
  connectionClosed(endpointId: string): void;
}

/** Implemented by the proxies; called by the control plane. */
export interface ProxyConnections {
  /** Starts accepting PostgreSQL connections on an endpoint's loopback address. */
  listenEndpoint(host: string): Promise<void>;
  stopEndpoint(host: string): Promise<void>;
  /**
   * Closes the proxies' own idle upstream connections to a physical database (so it can serve
   * as a branch template) or of a physical role (so a reset password is not still honoured).
   * Connections a client holds open are not touched.
   */
  releaseIdle(physicalDatabase: string): Promise<void>;
  releaseRole(physicalRole: string): Promise<void>;
}
