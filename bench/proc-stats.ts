/**
 * CPU time and memory per process, from Linux's /proc: what the breakdown benchmark samples
 * before and after a burst. Times are in ms (from clock ticks), memory in MiB.
 *
 * A process's own time is `utime + stime`; `cutime + cstime` is the time of its children that
 * have exited and been waited for. Summing own + children's time over the live processes of a
 * tree counts every process of that tree once, even the short-lived ones (a PostgreSQL backend
 * lives for one connection), which is why groups below add both.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';

const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim() || 100);
const PAGE_KIB = Number(execFileSync('getconf', ['PAGESIZE']).toString().trim() || 4096) / 1024;

export interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  /** Own CPU, ms. */
  own: number;
  /** Exited, waited-for children's CPU, ms. */
  children: number;
  rssMiB: number;
}

/** Every process now (those that vanish while being read are skipped). */
export async function readProcs(): Promise<Map<number, Proc>> {
  const procs = new Map<number, Proc>();
  for (const name of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const text = await fs.readFile(`/proc/${name}/stat`, 'utf8').catch(() => null);
    if (!text) continue;
    // `comm` is in parentheses and may hold spaces: the fields after it start past the last ')'.
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const f = text
      .slice(close + 2)
      .split(' ')
      .map(Number);
    // After comm: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14) … rss(21).
    procs.set(Number(name), {
      pid: Number(name),
      ppid: f[1]!,
      comm,
      own: (f[11]! + f[12]!) * TICK_MS,
      children: (f[13]! + f[14]!) * TICK_MS,
      rssMiB: (f[21]! * PAGE_KIB) / 1024,
    });
  }
  return procs;
}

/** `root` and every live process below it. */
export function subtree(procs: Map<number, Proc>, root: number): Proc[] {
  const out: Proc[] = [];
  const walk = (pid: number) => {
    const p = procs.get(pid);
    if (!p) return;
    out.push(p);
    for (const q of procs.values()) if (q.ppid === pid) walk(q.pid);
  };
  walk(root);
  return out;
}

/** Proportional set size (shared pages split among their sharers), MiB: RSS without double counting. */
export async function pssMiB(pid: number): Promise<number> {
  const text = await fs.readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  const kib = Number(/^Pss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
  return kib / 1024;
}

/** All CPUs' busy time so far, ms (user, nice, system, irq, softirq, steal from /proc/stat). */
export async function machineBusyMs(): Promise<number> {
  const line = (await fs.readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) * TICK_MS;
}
