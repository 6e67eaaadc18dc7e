/**
 * The two halves of the local stack, the Neon-compatible control plane and the SQL proxies,
 * run in one process and need a few things from each other. These are those seams.
 *
 * As at Neon, every branch has its own storage and every endpoint its own compute (a
 * PostgreSQL postmaster): role and database names are the real ones on that compute. The
 * proxy authenticates the client itself (SCRAM against the role's secret read from the
 * compute) and then opens a trusted session on the compute's private Unix socket, which only
 * the stack can reach (ARCHITECTURE.md, "Local stack").
 */

/** What the proxies need to route one client connection to the right compute. */
export interface EndpointTarget {
  endpointId: string;
  branchId: string;
  projectId: string;
  /** A read replica: its sessions start with `default_transaction_read_only`. */
  readOnly: boolean;
}

/** Where a running compute accepts trusted connections: `host` is its Unix-socket folder. */
export interface ComputeAddress {
  socketDir: string;
  port: number;
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
   * Wakes an idle endpoint, as Neon's proxy wakes a suspended compute on connect: starts its
   * compute if needed (the client waits; that is the cold start). Resolves with the compute's
   * address; rejects with ConnectRefused when it cannot.
   */
  ensureAwake(endpointId: string): Promise<ComputeAddress>;
  /**
   * The SCRAM secret (`pg_authid.rolpassword`) of a role that may log in through the endpoint,
   * read from its running compute; undefined for a role that does not exist there, cannot log
   * in, has expired or is a superuser. API-made and SQL-made roles alike.
   */
  roleSecret(endpointId: string, role: string): Promise<string | undefined>;
  /** A client connection through this endpoint opened / closed (compute time, idle suspend). */
  connectionOpened(endpointId: string): void;
  connectionClosed(endpointId: string): void;
}

/** Implemented by the proxies; called by the control plane. */
export interface ProxyConnections {
  /** Starts accepting PostgreSQL connections on an endpoint's loopback address. */
  listenEndpoint(host: string): Promise<void>;
  /** Stops listening there and ends the client sessions that came in through it. */
  stopEndpoint(host: string): Promise<void>;
  /**
   * Closes the proxies' own idle upstream connections to one compute (it is stopping), or only
   * those of one role there (its password changed or it is being dropped). Connections a client
   * holds open are not touched.
   */
  releaseIdle(compute: ComputeAddress, role?: string): Promise<void>;
}
