import { readdirSync, readFileSync } from 'node:fs';

export interface BenchRow {
  name: string;
  value: string;
  unit: string;
  note?: string;
}

export function printTable(title: string, rows: BenchRow[]): void {
  const w0 = Math.max(4, ...rows.map((r) => r.name.length));
  const w1 = Math.max(5, ...rows.map((r) => r.value.length));
  const w2 = Math.max(4, ...rows.map((r) => r.unit.length));
  const line = (a: string, b: string, c: string, d: string) =>
    `| ${a.padEnd(w0)} | ${b.padStart(w1)} | ${c.padEnd(w2)} | ${d} |`;
  console.log(`\n${title}\n`);
  console.log(line('what', 'value', 'unit', 'note'));
  console.log(`|${'-'.repeat(w0 + 2)}|${'-'.repeat(w1 + 2)}:|${'-'.repeat(w2 + 2)}|------|`);
  for (const r of rows) console.log(line(r.name, r.value, r.unit, r.note ?? ''));
}

export function rate(count: number, ms: number): string {
  return Math.round((count * 1000) / ms).toLocaleString('en-US');
}

export function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}

/**
 * CPU time (ms) each kind of thread of this process has used, by thread name, from
 * /proc/self/task (Linux); undefined elsewhere. Names seen on Node 24: MainThread, V8Worker (GC
 * and compiler helpers), libuv-worker (the thread pool, where LevelDB reads, writes and compacts).
 */
export function threadCpuMs(): Map<string, number> | undefined {
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return undefined;
  }
  const ticksPerMs = 100 / 1000; // USER_HZ is 100 on Linux
  const byName = new Map<string, number>();
  for (const task of tasks) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${task}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = (Number(fields[11]) + Number(fields[12])) / ticksPerMs;
    byName.set(name, (byName.get(name) ?? 0) + ms);
  }
  return byName;
}
