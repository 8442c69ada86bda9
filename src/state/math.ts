import { TributaryError } from '../errors.ts';

export type MathErrorCode = 'math/invalid_split' | 'math/invalid_amount';

/** Basis points: 10,000 = 100 %. */
export const BPS = 10_000n;

/**
 * Split `total` base units in proportion to `weights`, exactly: every part is the floor of its
 * exact share, and the units left over go one each to the parts with the largest remainders.
 * Tie-break: equal remainders go to the lower index first, so callers fix the outcome by the
 * order they list recipients in (always a sorted, canonical order). The parts always sum to total.
 */
export function splitLargestRemainder(total: bigint, weights: readonly bigint[]): bigint[] {
  if (total < 0n) throw new TributaryError('math/invalid_split', 'cannot split a negative amount');
  let weightSum = 0n;
  for (const w of weights) {
    if (w < 0n) throw new TributaryError('math/invalid_split', 'weights must be non-negative');
    weightSum += w;
  }
  if (weightSum === 0n) {
    if (total === 0n) return weights.map(() => 0n);
    throw new TributaryError('math/invalid_split', 'cannot split a non-zero amount over zero weight');
  }
  const parts: bigint[] = new Array(weights.length);
  const remainders: bigint[] = new Array(weights.length);
  let assigned = 0n;
  for (let i = 0; i < weights.length; i++) {
    const exact = total * weights[i]!;
    parts[i] = exact / weightSum;
    remainders[i] = exact % weightSum;
    assigned += parts[i]!;
  }
  let left = total - assigned; // < number of non-zero weights
  if (left > 0n) {
    const order = weights.map((_, i) => i);
    order.sort((a, b) => {
      const ra = remainders[a]!;
      const rb = remainders[b]!;
      if (ra !== rb) return ra > rb ? -1 : 1;
      return a - b;
    });
    for (const i of order) {
      if (left === 0n) break;
      parts[i] = parts[i]! + 1n;
      left -= 1n;
    }
  }
  return parts;
}

/** The smaller of two amounts (Math.min takes no bigints). */
export function minAmount(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/** floor(amount * bps / 10,000): the share a basis-point parameter takes. */
export function bpsOf(amount: bigint, bps: bigint | number): bigint {
  return (amount * BigInt(bps)) / BPS;
}

/** Largest amount the chain accepts in any field: 2^128 - 1 base units. */
export const MAX_AMOUNT = (1n << 128n) - 1n;

export function parseAmount(text: string, what = 'amount'): bigint {
  if (!/^(0|[1-9][0-9]*)$/.test(text)) {
    throw new TributaryError('math/invalid_amount', `${what} must be a decimal integer of base units, got "${text}"`);
  }
  const v = BigInt(text);
  if (v > MAX_AMOUNT) throw new TributaryError('math/invalid_amount', `${what} exceeds 2^128 - 1`);
  return v;
}
