/*
 * Output for people: aligned tables and amounts in OPEN. Display only: the chain knows base units
 * and nothing here reaches consensus (the --json output keeps base-unit strings).
 */

/** OPEN has 18 decimals for display (1 OPEN = 10^18 base units), as ether does. */
export const TOKEN = { symbol: 'OPEN', decimals: 18 } as const;

/** "1.5 OPEN" for 1500000000000000000; trailing zeros dropped, never rounded. */
export function formatOpen(baseUnits: bigint | string): string {
  const v = typeof baseUnits === 'bigint' ? baseUnits : BigInt(baseUnits);
  const negative = v < 0n;
  const abs = negative ? -v : v;
  const unit = 10n ** BigInt(TOKEN.decimals);
  const whole = abs / unit;
  const frac = (abs % unit).toString().padStart(TOKEN.decimals, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${frac ? `.${frac}` : ''} ${TOKEN.symbol}`;
}

/** An amount as people read it, with the base units a command takes: "1000 (0.000000000000001 OPEN)". */
export function formatAmount(baseUnits: bigint | string): string {
  return `${baseUnits.toString()} (${formatOpen(baseUnits)})`;
}

/** Label/value rows with the values aligned in one column. */
export function keyValueTable(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

/** A table with a header row; every column as wide as its widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
