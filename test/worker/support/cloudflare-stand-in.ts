/**
 * A stateful stand-in for the few Cloudflare API endpoints bindings use (Worker secrets,
 * Hyperdrive configs, a Worker's settings), served through msw at the HTTP boundary inside
 * workerd: the only mock in the suite. It holds state like Cloudflare does, answers in
 * Cloudflare's envelope, and REJECTS what Cloudflare would: an unknown token, account or Worker,
 * a secret without `type: secret_text` or text, a config without a full origin, more configs
 * than the limit, a settings PATCH that is not multipart or binds an unknown config.
 * Faults (429, 503, hangs) can be queued or drawn at random, per kind of request.
 */
import { http, HttpResponse, type HttpResponseResolver } from 'msw';
import { setupServer } from 'msw/node';

export const CF_BASE = 'https://cloudflare.stand-in.test/client/v4';
export const CF_TOKEN = 'cf-test-token-0123456789abcdef';
export const CF_ACCOUNT = '0123456789abcdef0123456789abcdef';
export const HYPERDRIVE_LIMIT = 25;

type Binding = { type: 'secret_text'; name: string; text: string } | { type: 'hyperdrive'; name: string; id: string };
export type FaultKind = 'write' | 'remove' | 'list';
/** `lost`: Cloudflare did it, but the answer never arrived (a 503 after the change). */
type Fault = 429 | 500 | 503 | 'hang' | 'lost';

const ok = (result: unknown, extra: Record<string, unknown> = {}) =>
  HttpResponse.json({ success: true, errors: [], messages: [], result, ...extra });
const refuse = (status: number, code: number, message: string, headers: Record<string, string> = {}) =>
  HttpResponse.json({ success: false, errors: [{ code, message }], messages: [], result: null }, { status, headers });

export class CloudflareStandIn {
  /** `<account>/<script>` → the Worker's bindings (its secrets among them, as Cloudflare holds them). */
  readonly scripts = new Map<string, Binding[]>();
  /** `<account>` → its Hyperdrive configs. */
  readonly configs = new Map<string, Map<string, { id: string; name: string; origin: Record<string, unknown> }>>();
  readonly requests: { method: string; path: string }[] = [];
  private queued: Record<FaultKind, Fault[]> = { write: [], remove: [], list: [] };
  private randomFaults: { rate: number; kinds: FaultKind[] } | null = null;
  private seq = 0;

  addScript(script: string, account = CF_ACCOUNT) {
    this.scripts.set(`${account}/${script}`, []);
  }
  secret(script: string, name: string, account = CF_ACCOUNT): string | undefined {
    const b = this.scripts.get(`${account}/${script}`)?.find((x) => x.name === name && x.type === 'secret_text');
    return b?.type === 'secret_text' ? b.text : undefined;
  }
  bindingsOf(script: string, account = CF_ACCOUNT) {
    return this.scripts.get(`${account}/${script}`) ?? [];
  }
  configsOf(account = CF_ACCOUNT) {
    return [...(this.configs.get(account)?.values() ?? [])];
  }
  /** The next `n` requests of `kind` fail with `fault`. */
  failNext(kind: FaultKind, n: number, fault: Fault) {
    for (let i = 0; i < n; i++) this.queued[kind].push(fault);
  }
  /** Every request of these kinds fails with probability `rate` (429, 503, or done but answered 503), until cleared. */
  faultAtRandom(rate: number, kinds: FaultKind[] = ['write', 'remove', 'list']) {
    this.randomFaults = rate > 0 ? { rate, kinds } : null;
  }
  /** Writes a secret as if dblease had, without dblease knowing (a leak to find). */
  plantSecret(script: string, name: string, text: string, account = CF_ACCOUNT) {
    this.upsert(`${account}/${script}`, { type: 'secret_text', name, text });
  }

  private upsert(key: string, b: Binding) {
    const list = this.scripts.get(key)!;
    const at = list.findIndex((x) => x.name === b.name);
    if (at >= 0) list[at] = b;
    else list.push(b);
  }

  private async fault(kind: FaultKind): Promise<Fault | null> {
    let f = this.queued[kind].shift();
    if (f === undefined && this.randomFaults?.kinds.includes(kind) && Math.random() < this.randomFaults.rate) {
      f = ([429, 503, 'lost'] as const)[Math.floor(Math.random() * 3)];
    }
    return f ?? null;
  }

  private async answerFault(f: Fault): Promise<Response> {
    // A hang lasts past the client's patience; the request did not happen.
    if (f === 'hang') await new Promise((resolve) => setTimeout(resolve, 30_000));
    if (f === 429) return refuse(429, 10429, 'Too many requests', { 'retry-after': '1' });
    return refuse(f === 'lost' || f === 'hang' ? 503 : f, 10013, 'An unknown error has occurred');
  }

  /** Auth, the account, faults; then the handler. */
  private guard(kind: FaultKind, handler: (account: string, req: Request, params: Record<string, string>) => Promise<Response> | Response) {
    const resolver: HttpResponseResolver = async ({ request, params }) => {
      const p = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, decodeURIComponent(String(v))]));
      this.requests.push({ method: request.method, path: new URL(request.url).pathname });
      if (request.headers.get('authorization') !== `Bearer ${CF_TOKEN}`) return refuse(403, 10000, 'Authentication error');
      if (!/^[0-9a-f]{32}$/.test(p.account!)) return refuse(404, 7003, 'Could not route to /accounts: invalid account identifier');
      const f = await this.fault(kind);
      const req = request as unknown as Request;
      if (f === null) return handler(p.account!, req, p);
      if (f === 'lost') await handler(p.account!, req, p);
      return this.answerFault(f);
    };
    return resolver;
  }

  private script(account: string, script: string): Binding[] | Response {
    return this.scripts.get(`${account}/${script}`) ?? refuse(404, 10007, 'This Worker does not exist on your account.');
  }

  handlers() {
    const base = `${CF_BASE}/accounts/:account`;
    return [
      http.put(
        `${base}/workers/scripts/:script/secrets`,
        this.guard('write', async (account, req, p) => {
          const list = this.script(account, p.script!);
          if (list instanceof Response) return list;
          const body = (await req.json().catch(() => null)) as Record<string, unknown> | null;
          if (!body || typeof body.name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(body.name))
            return refuse(400, 10021, 'secret name is required and must be a valid identifier');
          if (body.type !== 'secret_text' || typeof body.text !== 'string')
            return refuse(400, 10021, 'type must be secret_text, with text');
          this.upsert(`${account}/${p.script}`, { type: 'secret_text', name: body.name, text: body.text });
          return ok({ name: body.name, type: 'secret_text' });
        }),
      ),
      http.get(
        `${base}/workers/scripts/:script/secrets`,
        this.guard('list', (account, _req, p) => {
          const list = this.script(account, p.script!);
          if (list instanceof Response) return list;
          return ok(list.filter((b) => b.type === 'secret_text').map((b) => ({ name: b.name, type: b.type })));
        }),
      ),
      http.delete(
        `${base}/workers/scripts/:script/secrets/:name`,
        this.guard('remove', (account, _req, p) => {
          const list = this.script(account, p.script!);
          if (list instanceof Response) return list;
          const at = list.findIndex((b) => b.type === 'secret_text' && b.name === p.name);
          if (at < 0) return refuse(404, 10056, 'Binding name not found');
          list.splice(at, 1);
          return ok(null);
        }),
      ),
      http.post(
        `${base}/hyperdrive/configs`,
        this.guard('write', async (account, req) => {
          const body = (await req.json().catch(() => null)) as { name?: unknown; origin?: Record<string, unknown> } | null;
          const o = body?.origin;
          if (!body || typeof body.name !== 'string' || body.name.length === 0 || body.name.length > 64)
            return refuse(400, 2008, 'name is required (at most 64 characters)');
          if (!o || !['postgres', 'postgresql'].includes(String(o.scheme)) || typeof o.port !== 'number')
            return refuse(400, 2008, 'origin.scheme must be postgres and origin.port a number');
          for (const f of ['host', 'database', 'user', 'password']) {
            if (typeof o[f] !== 'string' || o[f] === '') return refuse(400, 2008, `origin.${f} is required`);
          }
          const mine = this.configs.get(account) ?? new Map();
          this.configs.set(account, mine);
          if ([...mine.values()].some((c) => c.name === body.name)) return refuse(409, 2017, 'A Hyperdrive config with that name exists');
          if (mine.size >= HYPERDRIVE_LIMIT) return refuse(400, 2016, `Maximum number of Hyperdrive configs (${HYPERDRIVE_LIMIT}) reached`);
          const id = (++this.seq).toString(16).padStart(32, '0');
          mine.set(id, { id, name: body.name, origin: o });
          return ok({ id, name: body.name, origin: { ...o, password: undefined } });
        }),
      ),
      http.get(
        `${base}/hyperdrive/configs`,
        this.guard('list', (account, req) => {
          const q = new URL(req.url).searchParams;
          const page = Number(q.get('page') ?? 1);
          const perPage = Number(q.get('per_page') ?? 20);
          const all = this.configsOf(account).map((c) => ({ id: c.id, name: c.name }));
          const result = all.slice((page - 1) * perPage, page * perPage);
          return ok(result, { result_info: { page, per_page: perPage, count: result.length, total_count: all.length } });
        }),
      ),
      http.delete(
        `${base}/hyperdrive/configs/:id`,
        this.guard('remove', (account, _req, p) => {
          const mine = this.configs.get(account);
          if (!mine?.delete(p.id!)) return refuse(404, 2009, 'Hyperdrive config not found');
          return ok(null);
        }),
      ),
      http.get(
        `${base}/workers/scripts/:script/settings`,
        this.guard('list', (account, _req, p) => {
          const list = this.script(account, p.script!);
          if (list instanceof Response) return list;
          return ok({ bindings: list.map((b) => (b.type === 'secret_text' ? { type: b.type, name: b.name } : b)) });
        }),
      ),
      http.patch(
        `${base}/workers/scripts/:script/settings`,
        this.guard('write', async (account, req, p) => {
          const list = this.script(account, p.script!);
          if (list instanceof Response) return list;
          if (!(req.headers.get('content-type') ?? '').startsWith('multipart/form-data'))
            return refuse(415, 10040, 'settings are sent as multipart/form-data');
          const part = (await req.formData()).get('settings');
          let settings: { bindings?: { type?: string; name?: string; id?: string; text?: string }[] };
          try {
            settings = JSON.parse(typeof part === 'string' ? part : await (part as Blob).text());
          } catch {
            return refuse(400, 10021, 'the settings part is not JSON');
          }
          if (settings.bindings === undefined) return ok({ bindings: list });
          const next: Binding[] = [];
          for (const b of settings.bindings) {
            if (typeof b.name !== 'string') return refuse(400, 10021, 'every binding has a name');
            const current = list.find((x) => x.name === b.name);
            if (b.type === 'inherit') {
              if (!current) return refuse(400, 10021, `cannot inherit ${b.name}: no such binding`);
              next.push(current);
            } else if (b.type === 'hyperdrive') {
              if (!b.id || !this.configs.get(account)?.has(b.id)) return refuse(400, 10021, `hyperdrive ${b.name}: unknown config id`);
              next.push({ type: 'hyperdrive', name: b.name, id: b.id });
            } else if (b.type === 'secret_text') {
              if (typeof b.text !== 'string') return refuse(400, 10021, `secret ${b.name}: text is required`);
              next.push({ type: 'secret_text', name: b.name, text: b.text });
            } else return refuse(400, 10021, `binding type ${String(b.type)} is not supported here`);
          }
          this.scripts.set(`${account}/${p.script}`, next);
          return ok({ bindings: next.map((b) => (b.type === 'secret_text' ? { type: b.type, name: b.name } : b)) });
        }),
      ),
    ];
  }
}

/** One msw server for a test file: everything not Cloudflare's (the local stack) passes through. */
export function startStandIn(cf: CloudflareStandIn) {
  const server = setupServer(...cf.handlers());
  server.listen({ onUnhandledRequest: 'bypass' });
  return server;
}
