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

/** Field names that hold base-unit amounts in the node's JSON views (display only: shown with OPEN beside them). */
const AMOUNT_FIELD =
  /(amount|balance|bond|stake|fee|earned|locked|deposit|paid|payout|reward|supply|claimable|credited|held|inflow|escrow|bonded|unbonding|spent|total)$/i;

function scalarText(key: string, v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'string' && AMOUNT_FIELD.test(key) && /^\d+$/.test(v)) return formatAmount(v);
  return String(v);
}

const isScalar = (v: unknown) => v === null || typeof v !== 'object';

/** An array of objects whose fields are all scalars: one table. */
function isFlatRecordList(v: unknown): v is Record<string, unknown>[] {
  return (
    Array.isArray(v) &&
    v.length > 0 &&
    v.every((e) => e !== null && typeof e === 'object' && !Array.isArray(e) && Object.values(e).every(isScalar))
  );
}

function recordTable(rows: Record<string, unknown>[]): string {
  const header = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return table(
    header,
    rows.map((r) => header.map((h) => scalarText(h, r[h]))),
  );
}

/**
 * Any query result as people read it, for the commands without a view of their own: scalar fields
 * as aligned `key  value` rows (nested objects flattened to `a.b`), amounts with OPEN beside them,
 * lists of records as tables under their key. `--json` prints the node's answer unchanged.
 */
export function peopleView(value: unknown): string {
  if (isFlatRecordList(value)) return recordTable(value);
  if (isScalar(value)) return scalarText('', value);
  if (Array.isArray(value)) return value.map((v) => peopleView(v)).join('\n\n');
  const rows: [string, string][] = [];
  const sections: string[] = [];
  const walk = (obj: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix + k;
      if (isScalar(v)) rows.push([key, scalarText(k, v)]);
      else if (isFlatRecordList(v)) sections.push(`${key}:\n${recordTable(v)}`);
      else if (Array.isArray(v)) {
        if (v.length === 0) rows.push([key, '(none)']);
        else if (v.every(isScalar)) {
          for (const [i, e] of v.entries()) rows.push([`${key}[${i}]`, scalarText(k, e)]);
        } else sections.push(`${key}:\n${v.map((e) => peopleView(e)).join('\n\n')}`);
      } else walk(v as Record<string, unknown>, `${key}.`);
    }
  };
  walk(value as Record<string, unknown>, '');
  return [rows.length > 0 ? keyValueTable(rows) : '', ...sections].filter((s) => s !== '').join('\n\n');
}
