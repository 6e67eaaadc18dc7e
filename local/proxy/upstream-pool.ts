import pg from 'pg';
import type { ComputeAddress } from '../hooks.js';
import { computeKey, sendCancel } from './compute-socket.js';
import { cancelRequest } from './wire.js';

export interface UpstreamKey {
  compute: ComputeAddress;
  role: string;
  database: string;
  /** A read replica's session starts with default_transaction_read_only. */
  readOnly: boolean;
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
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  maxIdlePerKey: number;
}

interface Idle {
  client: pg.Client;
  timer: NodeJS.Timeout;
}

/** What a pooled connection belongs to, for releaseIdle. */
interface Owner {
  compute: string;
  role: string;
}

/** A pooled connection turned out to be a superuser's: refused like a wrong password. */
export class SuperuserSession extends Error {
  constructor(readonly role: string) {
    super(`the compute started a superuser session for ${role}`);
  }
}

/** Every column arrives as PostgreSQL's text output; the HTTP layer decides what to do with it. */
const rawText = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

/**
 * Idle upstream connections for SQL over HTTP: trusted sessions on a compute's private socket,
 * keyed by compute, role, database and read-only-ness. The password is checked by the proxy
 * on every request (PasswordCheck) before a session is handed out, so it is not in the key.
 */
export class UpstreamPool {
  private readonly idle = new Map<string, Idle[]>();
  /** Bumped by releaseIdle so connections checked out before then are not pooled. */
  private readonly computeGeneration = new Map<string, number>();
  private readonly roleGeneration = new Map<string, number>();
  private readonly owners = new WeakMap<pg.Client, Owner>();
  private readonly all = new Set<pg.Client>();
  /** Connections running DISCARD ALL on their way back to `idle`. */
  private readonly returning = new Map<pg.Client, Promise<unknown>>();
  private closed = false;

  constructor(private readonly opts: UpstreamPoolOptions) {}

  private keyOf(key: UpstreamKey): string {
    return [computeKey(key.compute), key.role, key.database, key.readOnly].join('\0');
  }

  private generation(owner: Owner): string {
    return `${this.computeGeneration.get(owner.compute) ?? 0}/${this.roleGeneration.get(`${owner.compute}\0${owner.role}`) ?? 0}`;
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
      // A folder as host: pg connects to <socketDir>/.s.PGSQL.<port>, where the compute trusts the stack.
      host: key.compute.socketDir,
      port: key.compute.port,
      user: key.role,
      database: key.database,
      types: rawText,
      connectionTimeoutMillis: this.opts.connectTimeoutMs,
      application_name: 'dblease-local-sql-over-http',
      ...(key.readOnly ? { options: '-c default_transaction_read_only=on' } : {}),
    });
    client.on('error', () => this.destroy(client));
    // The gate never hands out a superuser's secret; should it ever, the session is still not had.
    let superuser = false;
    (client as unknown as { connection: NodeJS.EventEmitter }).connection.on(
      'parameterStatus',
      (msg: { parameterName: string; parameterValue: string }) => {
        if (msg.parameterName === 'is_superuser' && msg.parameterValue === 'on') superuser = true;
      },
    );
    this.owners.set(client, { compute: computeKey(key.compute), role: key.role });
    this.all.add(client);
    try {
      await client.connect();
    } catch (err) {
      this.destroy(client);
      throw err;
    }
    if (superuser) {
      await this.destroy(client);
      throw new SuperuserSession(key.role);
    }
    return this.lease(key, id, client);
  }

  private lease(key: UpstreamKey, id: string, client: pg.Client): Lease {
    const owner = this.owners.get(client)!;
    const generation = this.generation(owner);
    let released = false;
    return {
      client,
      cancel: () => this.cancel(key.compute, client),
      release: (reusable) => {
        if (released) return;
        released = true;
        const stale = () => this.closed || this.generation(owner) !== generation;
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

  private cancel(compute: ComputeAddress, client: pg.Client): Promise<void> {
    const { processID, secretKey } = client as unknown as { processID?: number; secretKey?: number };
    if (processID === undefined || secretKey === undefined) return Promise.resolve();
    return sendCancel(compute, cancelRequest(processID, secretKey), this.opts.connectTimeoutMs);
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

  private async dropIdle(match: (owner: Owner) => boolean): Promise<void> {
    const matches = (client: pg.Client) => {
      const owner = this.owners.get(client);
      return owner !== undefined && match(owner);
    };
    const doomed = [...this.idle.values()].flat().filter((entry) => matches(entry.client));
    const inFlight = [...this.returning].filter(([client]) => matches(client)).map(([, back]) => back);
    // The generation bump makes returning connections end themselves; wait until they have.
    await Promise.all([...doomed.map((entry) => this.destroy(entry.client)), ...inFlight]);
  }

  /** Ends idle connections to a compute (it is stopping), or only those of one role there (its password changed, it is dropped). */
  releaseIdle(compute: ComputeAddress, role?: string): Promise<void> {
    const id = computeKey(compute);
    const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
    if (role === undefined) bump(this.computeGeneration, id);
    else bump(this.roleGeneration, `${id}\0${role}`);
    return this.dropIdle((owner) => owner.compute === id && (role === undefined || owner.role === role));
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
