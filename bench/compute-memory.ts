import fs from 'node:fs/promises';

/**
 * The memory a running compute holds, from Linux's /proc: its postmaster and every process under
 * it. PSS (proportional set size) splits each shared page among the processes that map it, so
 * summed over a tree it counts the shared buffers once and the PostgreSQL binary's pages only in
 * proportion: what one more compute costs the machine. RSS counts every shared page in every
 * process, so its sum is the figure to compare with, not to believe.
 */
export interface ComputeMemory {
  processes: number;
  /** Backends (client or control-plane sessions) among them: 0 when the compute is idle. */
  sessions: number;
  pssMiB: number;
  rssMiB: number;
}

interface ProcInfo {
  ppid: number;
  cmdline: string;
}

/** Parent and command line of every process now (those that vanish while being read are skipped). */
async function processTable(): Promise<Map<number, ProcInfo>> {
  const table = new Map<number, ProcInfo>();
  for (const name of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await fs.readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    // The command in parentheses may hold spaces: the fields after it start past the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const cmdline = (await fs.readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ').trim();
    table.set(Number(name), { ppid, cmdline });
  }
  return table;
}

function tree(table: Map<number, ProcInfo>, root: number): number[] {
  const out = table.has(root) ? [root] : [];
  for (let i = 0; i < out.length; i++) for (const [pid, p] of table) if (p.ppid === out[i]) out.push(pid);
  return out;
}

async function rollupKiB(pid: number, field: 'Pss' | 'Rss'): Promise<number> {
  const text = await fs.readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  return Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

/** Each postmaster's tree, measured at one moment. */
export async function computeMemory(postmasterPids: number[]): Promise<ComputeMemory[]> {
  const table = await processTable();
  return Promise.all(
    postmasterPids.map(async (root) => {
      const pids = tree(table, root);
      let pss = 0;
      let rss = 0;
      for (const pid of pids) {
        pss += await rollupKiB(pid, 'Pss');
        rss += await rollupKiB(pid, 'Rss');
      }
      return {
        processes: pids.length,
        // A backend's title names its client: "postgres: <user> <database> [local] idle".
        sessions: pids.filter((pid) => /\[local\]|\d+\.\d+\.\d+\.\d+\(\d+\)/.test(table.get(pid)!.cmdline)).length,
        pssMiB: pss / 1024,
        rssMiB: rss / 1024,
      };
    }),
  );
}

/** Measures once no tree has a session left (the control plane's pooled sessions close after 5 s idle). */
export async function idleComputeMemory(postmasterPids: number[], timeoutMs = 15_000): Promise<ComputeMemory[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await computeMemory(postmasterPids);
    if (now.every((m) => m.sessions === 0) || Date.now() > deadline) return now;
    await new Promise((r) => setTimeout(r, 250));
  }
}
