import path from 'node:path';
import { xfsImageFromEnv, type XfsImageOption } from './postgres/xfs-volume';

/**
 * Everything the local stack needs to know at start-up. Values come from the environment
 * (see README, "Local stack") so that tests and two parallel runs can pick their own ports.
 */
export interface LocalStackConfig {
  /** Folder holding the control cluster, the project template and a data directory per branch. */
  dataDir: string;
  /** `DBLEASE_LOCAL_XFS_IMAGE`: a reflink XFS image loop-mounted on `dataDir` while the stack runs (Linux, root). */
  xfsImage?: XfsImageOption;
  host: string;
  /**
   * Where clients reach PostgreSQL: the endpoint proxy, listening on 127.0.0.1 and on one
   * loopback address per endpoint (the endpoint's `host`), as Neon routes by SNI.
   */
  pgPort: number;
  /** The control plane's own PostgreSQL (its metadata), on 127.0.0.1 only; tenants never reach it. */
  pgInternalPort: number;
  apiPort: number;
  proxyPort: number;
  /** Bearer key the Neon-compatible API accepts (Neon's `NEON_API_KEY`). */
  apiKey: string;
  /**
   * Browser origins (`http://localhost:3000`) whose pages may open the WebSocket relay. A
   * request without `Origin` is not from a browser page and is always let through.
   */
  allowedOrigins: string[];
  rateLimit: RateLimitConfig;
  /** Template clones kept ready, so that many projects can be created at once without a copy. */
  templateSpares: number;
  /** At most this many computes (postmasters) run at once; the longest-idle one makes room. */
  maxComputes: number;
  /** Neon's default when an endpoint says `suspend_timeout_seconds: 0`. */
  defaultSuspendTimeoutSeconds: number;
  /** Region reported for every project; Neon clients only echo it. */
  regionId: string;
  /** Fault rules applied from start-up, as JSON in `DBLEASE_LOCAL_FAULTS`. */
  faults: unknown[];
  log: (line: string) => void;
}

export interface RateLimitConfig {
  /** Requests per minute across the whole API (Neon documents 700). */
  perMinute: number;
  /** Burst per route per second (Neon documents 40). */
  perSecondPerRoute: number;
}

/** The documented development key. Anyone on this machine may use it; it guards nothing real. */
export const DEV_API_KEY = 'dblease-local-dev-key';

function port(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number (0-65535), got "${value}"`);
  return n;
}

function positive(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${value}"`);
  return n;
}

function count(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 1000) throw new Error(`${name} must be a whole number from 0 to 1000, got "${value}"`);
  return n;
}

/** `DBLEASE_LOCAL_ALLOWED_ORIGINS`: origins separated by commas or spaces, each scheme://host[:port]. */
export function parseAllowedOrigins(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return [];
  return value
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((entry) => {
      let url: URL | undefined;
      try {
        url = new URL(entry);
      } catch {
        url = undefined;
      }
      // An origin is scheme, host and port only; a path or query here is a mistake worth naming.
      if (!url || url.origin === 'null' || url.pathname !== '/' || url.search || url.hash || url.username) {
        throw new Error(`DBLEASE_LOCAL_ALLOWED_ORIGINS must be a list of origins like http://localhost:3000, got "${entry}"`);
      }
      return url.origin;
    });
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<LocalStackConfig> = {}): LocalStackConfig {
  let faults: unknown[] = [];
  if (env.DBLEASE_LOCAL_FAULTS) {
    try {
      faults = JSON.parse(env.DBLEASE_LOCAL_FAULTS);
    } catch {
      throw new Error('DBLEASE_LOCAL_FAULTS must be a JSON array of fault rules');
    }
    if (!Array.isArray(faults)) throw new Error('DBLEASE_LOCAL_FAULTS must be a JSON array of fault rules');
  }
  return {
    dataDir: path.resolve(env.DBLEASE_LOCAL_DATA ?? '.dblease'),
    xfsImage: xfsImageFromEnv(env),
    host: '127.0.0.1',
    pgPort: port(env.DBLEASE_LOCAL_PG_PORT, 55432, 'DBLEASE_LOCAL_PG_PORT'),
    pgInternalPort: port(env.DBLEASE_LOCAL_PG_INTERNAL_PORT, 55433, 'DBLEASE_LOCAL_PG_INTERNAL_PORT'),
    apiPort: port(env.DBLEASE_LOCAL_API_PORT, 4100, 'DBLEASE_LOCAL_API_PORT'),
    proxyPort: port(env.DBLEASE_LOCAL_PROXY_PORT, 4444, 'DBLEASE_LOCAL_PROXY_PORT'),
    apiKey: env.DBLEASE_LOCAL_API_KEY || DEV_API_KEY,
    allowedOrigins: parseAllowedOrigins(env.DBLEASE_LOCAL_ALLOWED_ORIGINS),
    rateLimit: {
      perMinute: positive(env.DBLEASE_LOCAL_RATE_PER_MINUTE, 700, 'DBLEASE_LOCAL_RATE_PER_MINUTE'),
      perSecondPerRoute: positive(env.DBLEASE_LOCAL_RATE_PER_SECOND, 40, 'DBLEASE_LOCAL_RATE_PER_SECOND'),
    },
    templateSpares: count(env.DBLEASE_LOCAL_SPARES, 4, 'DBLEASE_LOCAL_SPARES'),
    maxComputes: positive(env.DBLEASE_LOCAL_MAX_COMPUTES, 100, 'DBLEASE_LOCAL_MAX_COMPUTES'),
    defaultSuspendTimeoutSeconds: positive(env.DBLEASE_LOCAL_SUSPEND_TIMEOUT, 300, 'DBLEASE_LOCAL_SUSPEND_TIMEOUT'),
    regionId: 'local',
    faults,
    log: (line) => console.log(line),
    ...overrides,
  };
}
