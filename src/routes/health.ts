import { Hono } from 'hono';

const PROBE_TIMEOUT_MS = 2_000;

/** Liveness of the Worker and whether it reaches its provider (Neon, or the local stack). */
export const health = new Hono<{ Bindings: Env }>().get('/', async (c) => {
  const started = Date.now();
  let provider: { url: string; reachable: boolean; latency_ms?: number; error?: string };
  try {
    const res = await fetch(`${c.env.NEON_API_URL}/projects?limit=1`, {
      headers: { authorization: `Bearer ${c.env.NEON_API_KEY}`, accept: 'application/json' },
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    // Drain the body so the connection can be reused; its content is not needed.
    await res.arrayBuffer();
    provider = res.ok
      ? { url: c.env.NEON_API_URL, reachable: true, latency_ms: Date.now() - started }
      : { url: c.env.NEON_API_URL, reachable: false, error: `provider answered ${res.status}` };
  } catch (err) {
    provider = { url: c.env.NEON_API_URL, reachable: false, error: err instanceof Error ? err.name : 'unreachable' };
  }
  return c.json({ ok: provider.reachable, provider }, provider.reachable ? 200 : 503);
});
