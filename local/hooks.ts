/**
 * The two halves of the local stack (the Neon-compatible control plane and the SQL proxies)
 * run in one process and need one thing from each other. These are those seams.
 */

/** Implemented by the control plane; called by the proxies before they open a connection. */
export interface ComputeGate {
  /**
   * Wakes the idle endpoint of the branch that owns this physical database, as Neon's proxy
   * wakes a suspended compute on connect. Resolves when connections are accepted. Rejects with
   * a message for the client when the database has no endpoint or the endpoint is disabled.
   * Unknown databases resolve untouched: PostgreSQL itself then answers.
   */
  ensureAwake(physicalDatabase: string): Promise<void>;
  /** Records that a client used this physical database (feeds idle suspension). */
  touch(physicalDatabase: string): void;
}

/** Implemented by the proxies; called by the control plane. */
export interface ProxyConnections {
  /**
   * Closes the proxy's own idle server connections to a database, so that it can be used as
   * a template for a branch, and so that a reset password is not still honoured by a pooled
   * session. Client-held connections (the WebSocket relay) are not touched.
   */
  releaseIdle(physicalDatabase: string): Promise<void>;
  /** Same as releaseIdle, for every connection opened with this physical role. */
  releaseRole(physicalRole: string): Promise<void>;
}
