import { createHash } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';
import { cancelRequest } from './wire.js';

export interface UpstreamKey {
  role: string;
  database: string;
  password: string;
}

export interface Lease {
  client: pg.Client;
  /** Hands the connection back; `reusable` false when its session state is unknown. */
  release(reusable: boolean): void;
  /**
   * Asks PostgreSQL to cancel whatever this connection's backend is running (a CancelRequest
   * with its key), so a client that went away does not leave a query working for nobody.
   * Resolves once the request is sent; the query then fails with 57014.
   */
  cancel(): Promise<void>;
}

export interface UpstreamPoolOptions {
  port: number;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  maxIdlePerKey: number;
}

interface Idle {
  client: pg.Client;
  timer: NodeJS.Timeout;
}

/** Every column arrives as PostgreSQL's text output; the HTTP layer decides what to do with it. */
const rawText = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

/**
 * Idle upstream connections for SQL over HTTP, keyed by physical role, physical database and a
 * hash of the password, so a reset password never reuses a session opened with the old one.
 */
export class UpstreamPool {
  private readonly idle = new Map<string, Idle[]>();
  /** Bumped by releaseIdle/releaseRole so connections checked out before then are not pooled. */
  private readonly dbGeneration = new Map<string, number>();
  private readonly roleGeneration = new Map<string, number>();
  private readonly all = new Set<pg.Client>();
  /** Connections running DISCARD ALL on their way back to `idle`. */
  private readonly returning = new Map<pg.Client, Promise<unknown>>();
  private closed = false;

  constructor(private readonly opts: UpstreamPoolOptions) {}

  private keyOf(key: UpstreamKey): string {
    const hash = createHash('sha256').update(key.password).digest('hex');
    return `${key.role}\0${key.database}\0${hash}`;
  }

  async acquire(key: UpstreamKey): Promise<Lease> {
    if (this.closed) throw new Error('the SQL proxy is shutting down');
    const id = this.keyOf(key);
    const list = this.idle.get(id);
    while (list?.length) {
      const entry = list.pop()!;
      clearTimeout(entry.timer);
      // A backend terminated while idle (suspend, branch reset) is dropped, not handed out.
      if ((entry.client as unknown as { _queryable?: boolean })._queryable === false) {
        this.destroy(entry.client);
        continue;
      }
      return this.lease(key, id, entry.client);
    }
    const client = new pg.Client({
      host: '127.0.0.1',
      port: this.opts.port,
      user: key.role,
      database: key.database,
      password: key.password,
      types: rawText,
      connectionTimeoutMillis: this.opts.connectTimeoutMs,
      application_name: 'dblease-local-sql-over-http',
    });
    client.on('error', () => this.destroy(client));
    this.all.add(client);
    try {
      await client.connect();
    } catch (err) {
      this.destroy(client);
      throw err;
    }
    return this.lease(key, id, client);
  }

  private lease(key: UpstreamKey, id: string, client: pg.Client): Lease {
    const dbGen = this.dbGeneration.get(key.database) ?? 0;
    const roleGen = this.roleGeneration.get(key.role) ?? 0;
    let released = false;
    return {
      client,
      cancel: () => this.cancel(client),
      release: (reusable) => {
        if (released) return;
        released = true;
        const stale = () =>
          this.closed || (this.dbGeneration.get(key.database) ?? 0) !== dbGen || (this.roleGeneration.get(key.role) ?? 0) !== roleGen;
        if (!reusable || stale()) {
          this.destroy(client);
          return;
        }
        // SET, temporary tables and prepared statements of one request must not leak into the next.
        const back = client.query('DISCARD ALL').then(
          () => (stale() ? this.destroy(client) : this.park(id, client)),
          () => this.destroy(client),
        );
        this.returning.set(client, back);
        void back.finally(() => this.returning.delete(client));
      },
    };
  }

  private cancel(client: pg.Client): Promise<void> {
    const { processID, secretKey } = client as unknown as { processID?: number; secretKey?: number };
    if (processID === undefined || secretKey === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: this.opts.port });
      const done = () => {
        clearTimeout(timer);
        socket.destroy();
        resolve();
      };
      const timer = setTimeout(done, this.opts.connectTimeoutMs);
      socket.once('connect', () => socket.end(cancelRequest(processID, secretKey)));
      // PostgreSQL closes the connection once it has read the request; it sends no answer.
      socket.once('close', done);
      socket.once('error', done);
    });
  }

  private park(id: string, client: pg.Client): void {
    const list = this.idle.get(id) ?? [];
    if (list.length >= this.opts.maxIdlePerKey) {
      this.destroy(client);
      return;
    }
    const timer = setTimeout(() => {
      const current = this.idle.get(id);
      const at = current?.findIndex((e) => e.client === client) ?? -1;
      if (at >= 0) current!.splice(at, 1);
      this.destroy(client);
    }, this.opts.idleTimeoutMs);
    timer.unref();
    list.push({ client, timer });
    this.idle.set(id, list);
  }

  private destroy(client: pg.Client): Promise<void> {
    this.all.delete(client);
    for (const [id, list] of this.idle) {
      const at = list.findIndex((e) => e.client === client);
      if (at >= 0) {
        clearTimeout(list[at].timer);
        list.splice(at, 1);
        if (!list.length) this.idle.delete(id);
      }
    }
    return client.end().catch(() => {});
  }

  private async dropIdle(match: (role: string, database: string) => boolean): Promise<void> {
    const doomed: pg.Client[] = [];
    for (const list of this.idle.values()) {
      for (const entry of list) {
        const c = entry.client as unknown as { user: string; database: string };
        if (match(c.user, c.database)) doomed.push(entry.client);
      }
    }
    const inFlight: Promise<unknown>[] = [];
    for (const [client, back] of this.returning) {
      const c = client as unknown as { user: string; database: string };
      if (match(c.user, c.database)) inFlight.push(back);
    }
    // The generation bump makes returning connections end themselves; wait until they have.
    await Promise.all([...doomed.map((client) => this.destroy(client)), ...inFlight]);
  }

  releaseIdle(database: string): Promise<void> {
    this.dbGeneration.set(database, (this.dbGeneration.get(database) ?? 0) + 1);
    return this.dropIdle((_, db) => db === database);
  }

  releaseRole(role: string): Promise<void> {
    this.roleGeneration.set(role, (this.roleGeneration.get(role) ?? 0) + 1);
    return this.dropIdle((r) => r === role);
  }

  /** Ends every connection, idle or in use. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.all].map((client) => this.destroy(client)));
  }

  get idleCount(): number {
    let n = 0;
    for (const list of this.idle.values()) n += list.length;
    return n;
  }
}
