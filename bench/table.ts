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
  const line = (a: string, b: string, c: string, d: string) => `| ${a.padEnd(w0)} | ${b.padStart(w1)} | ${c.padEnd(w2)} | ${d} |`;
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
