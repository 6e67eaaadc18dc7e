/**
 * CPU profiles for the breakdown benchmark (bench/breakdown.ts): V8's sampling profiler over one
 * phase, read over the Chrome DevTools protocol. For workerd it goes through its inspector
 * (`--inspector-addr`). That one isolate runs the Worker and every Durable Object, so one profile
 * covers all of them. For the local stack's Node process it goes through `node:inspector`
 * (bench/stack-process.ts). The result is summed by function, as self time. Where a function
 * came from in workerd's bundle is the source file esbuild named above it.
 */
import fs from 'node:fs';
import WebSocket from 'ws';

/** The parts of a V8 `Profiler.Profile` read here. */
export interface V8Profile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileLine {
  fn: string;
  /** The source file, and the function's line in what was profiled (the bundle, for workerd). */
  where: string;
  line: number;
  self_ms: number;
}

export interface ProfileSummary {
  /** Sampled wall time, ms. */
  sampled_ms: number;
  /** Time the thread ran JavaScript, or the runtime on its behalf: everything but `(idle)`. */
  busy_ms: number;
  /** Self time by file: where the busy time went, the heaviest first. */
  by_file: { where: string; self_ms: number }[];
  /**
   * Time by the nearest function of our own on the stack: a library's or the runtime's time
   * (drizzle building a query, SQLite running it) is charged to the project function that called
   * it, so this says which of our call sites cost what.
   */
  by_own_caller: ProfileLine[];
  top: ProfileLine[];
}

const round = (x: number) => Math.round(x * 10) / 10;

/**
 * Self time per function (and per file) of a profile. `sourceOf` names the file a bundle line came
 * from, when the profiled code is a bundle.
 */
export function summarizeProfile(
  profile: V8Profile,
  sourceOf: (url: string, line: number) => string = (u) => u,
  topN = 15,
): ProfileSummary {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const ownFrame = (id: number) => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byNode.get(at);
      if (f?.url && !f.url.startsWith('node:') && !sourceOf(f.url, f.lineNumber).startsWith('node_modules/')) return f;
    }
    return undefined;
  };
  const own = new Map<string, ProfileLine>();
  const self = new Map<string, ProfileLine>();
  const files = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let idle = 0;
  for (let i = 0; i < samples.length; i++) {
    // A sample's time is the gap to the next one (V8 records the gap before each).
    const ms = (deltas[i + 1] ?? 0) / 1000;
    const frame = byNode.get(samples[i]!);
    if (!frame) continue;
    if (frame.functionName === '(idle)') {
      idle += ms;
      continue;
    }
    const where = frame.url ? sourceOf(frame.url, frame.lineNumber) : '(runtime)';
    const fn = frame.functionName || '(anonymous)';
    const key = `${fn}\u0000${where}\u0000${frame.lineNumber}`;
    const line = self.get(key) ?? { fn, where, line: frame.lineNumber + 1, self_ms: 0 };
    line.self_ms += ms;
    self.set(key, line);
    files.set(where, (files.get(where) ?? 0) + ms);
    const caller = ownFrame(samples[i]!);
    if (caller) {
      const callerWhere = sourceOf(caller.url, caller.lineNumber);
      const k = `${caller.functionName}\u0000${callerWhere}\u0000${caller.lineNumber}`;
      const c = own.get(k) ?? { fn: caller.functionName || '(anonymous)', where: callerWhere, line: caller.lineNumber + 1, self_ms: 0 };
      c.self_ms += ms;
      own.set(k, c);
    }
  }
  const heaviest = (lines: Iterable<ProfileLine>) =>
    [...lines]
      .map((l) => ({ ...l, self_ms: round(l.self_ms) }))
      .sort((a, b) => b.self_ms - a.self_ms)
      .slice(0, topN);
  const sampled = (profile.endTime - profile.startTime) / 1000;
  return {
    sampled_ms: round(sampled),
    busy_ms: round(sampled - idle),
    by_file: [...files]
      .map(([where, ms]) => ({ where, self_ms: round(ms) }))
      .sort((a, b) => b.self_ms - a.self_ms)
      .slice(0, topN),
    by_own_caller: heaviest(own.values()),
    top: heaviest(self.values()),
  };
}

/**
 * The source file of each line of an esbuild bundle. esbuild writes a `// path` comment before
 * each module's code when it does not minify, as `wrangler deploy --dry-run` does here.
 */
export function bundleSources(bundleFile: string): (url: string, line: number) => string {
  const starts: { line: number; path: string }[] = [];
  fs.readFileSync(bundleFile, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      const m = /^\/\/ ((?:\.\.\/)*[\w@./-]+\.(?:ts|tsx|js|mjs|cjs))$/.exec(text);
      if (m) starts.push({ line: i, path: m[1]!.replace(/^(\.\.\/)+/, '').replace(/^.*node_modules\//, 'node_modules/') });
    });
  return (url, line) => {
    if (!url.endsWith('index.js')) return url;
    let lo = 0;
    let hi = starts.length - 1;
    let found = '(bundle)';
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]!.line <= line) {
        found = starts[mid]!.path;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

/** A DevTools-protocol session on the first target workerd's inspector lists. */
async function inspectorSession(port: number) {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as { webSocketDebuggerUrl: string }[];
  if (!targets[0]) throw new Error(`workerd's inspector on port ${port} lists no target`);
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let next = 0;
  const waiting = new Map<number, (m: { result?: unknown; error?: { message: string } }) => void>();
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (m.id !== undefined) waiting.get(m.id)?.(m);
  });
  const send = <T>(method: string, params: object = {}) =>
    new Promise<T>((resolve, reject) => {
      const id = ++next;
      waiting.set(id, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result as T)));
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => ws.close() };
}

/** Profiles workerd's isolate while `work` runs, sampling every 200 µs. */
export async function profileWorkerd<T>(inspectorPort: number, work: () => Promise<T>): Promise<{ result: T; profile: V8Profile }> {
  const session = await inspectorSession(inspectorPort);
  try {
    await session.send('Profiler.enable');
    await session.send('Profiler.setSamplingInterval', { interval: 200 });
    await session.send('Profiler.start');
    const result = await work();
    const { profile } = await session.send<{ profile: V8Profile }>('Profiler.stop');
    return { result, profile };
  } finally {
    session.close();
  }
}
