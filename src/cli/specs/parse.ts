import { parseAddress, type Address } from '../../crypto/address.ts';
import { fromHex } from '../../crypto/hash.ts';
import { TributaryError } from '../../errors.ts';
import { parseAmount } from '../../state/math.ts';
import type { CliValue } from './types.ts';

/* Turning command-line option values into message fields; bad input is `cli/invalid` (src/cli/errors.ts). */

export function cliString(v: CliValue, fallback = ''): string {
  if (v === undefined || v === false) return fallback;
  return Array.isArray(v) ? v.join(',') : String(v);
}

export function cliHex(v: CliValue): Uint8Array {
  const s = cliString(v);
  return s === '' ? new Uint8Array(0) : fromHex(s);
}

export function cliInt(v: CliValue, what: string, fallback = 0): number {
  const s = cliString(v);
  if (s === '') return fallback;
  if (!/^(0|[1-9][0-9]*)$/.test(s) || !Number.isSafeInteger(Number(s))) {
    throw new TributaryError('cli/invalid', `${what} must be a non-negative integer, got "${s}"`);
  }
  return Number(s);
}

export function cliAmount(v: CliValue, what: string): bigint {
  const s = cliString(v);
  return s === '' ? 0n : parseAmount(s, what);
}

export function cliList(v: CliValue): string[] {
  if (v === undefined || v === false || v === true) return [];
  const items = Array.isArray(v) ? v : [v];
  return items
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function cliAddresses(v: CliValue): Address[] {
  return cliList(v).map((s) => parseAddress(s));
}

/** "kind:id:bps,..." where kind is one of `kinds` (e.g. m/model, d/datanet). */
export function cliTriples(
  v: CliValue,
  kinds: Record<string, number>,
  what: string,
): { kind: number; id: number; bps: number }[] {
  return cliList(v).map((item) => {
    const m = /^([a-z]+):([0-9]+):([0-9]+)$/.exec(item);
    const kind = m ? kinds[m[1]!] : undefined;
    if (!m || kind === undefined) {
      throw new TributaryError(
        'cli/invalid',
        `${what}: expected "<${Object.keys(kinds).join('|')}>:<id>:<bps>", got "${item}"`,
      );
    }
    return { kind, id: Number(m[2]), bps: Number(m[3]) };
  });
}

/** One of a schema enum's names (`names`: value → name); an unknown name is refused naming it and the choices. */
export function cliChoice(v: CliValue, names: Readonly<Record<number, string>>, what: string): number {
  const s = cliString(v);
  const found = Object.entries(names).find(([, n]) => n === s);
  if (!found) {
    throw new TributaryError(
      'cli/invalid',
      `unknown ${what} "${s}": expected one of ${Object.values(names).join(', ')}`,
    );
  }
  return Number(found[0]);
}
