// CPU time and memory of a server's process tree, read from /proc (nginx's work happens in its
// worker processes, the children of the pid we started).
import * as fs from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(parent, [...(parents.get(parent) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(parents.get(tree[i]) ?? []));
  return tree;
}

/** User + system CPU seconds of the process and its children so far. */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
    } catch {
      // gone
    }
  }
  return ticks / TICKS_PER_SECOND;
}

function statusSum(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  let kib = 0;
  for (const p of processTree(pid)) {
    try {
      const line = fs.readFileSync(`/proc/${p}/status`, 'utf8').split('\n').find((l) => l.startsWith(field));
      kib += Number(line?.split(/\s+/)[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kib / 1024;
}

/** Resident memory now, MiB, summed over the tree. */
export const rssMiB = (pid: number) => statusSum(pid, 'VmRSS');
/** The kernel's high-water mark of resident memory, MiB, summed over the tree. */
export const peakRssMiB = (pid: number) => statusSum(pid, 'VmHWM');
