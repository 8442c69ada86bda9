import { ADDRESS_LENGTH, formatAddress, parseAddress, type Address } from '../crypto/address.ts';
import { compareBytes, toHex } from '../crypto/hash.ts';
import { TributaryError, type ErrorCode } from '../errors.ts';
import type { JsonValue } from '../codec/json.ts';
import type { ParamSpec } from '../state/module.ts';

/* Small helpers shared by the AI-economy modules: stateless field checks, query parameter
 * coercion and JSON views. (Command-line option parsing is the CLI's: src/cli/specs/parse.ts.) */

export const HASH_LENGTH = 32;

export function requireHash<C extends ErrorCode>(code: C, value: Uint8Array, what: string, optional = false): void {
  if (optional && value.length === 0) return;
  if (value.length !== HASH_LENGTH) {
    throw new TributaryError(code, `${what} must be ${HASH_LENGTH} bytes${optional ? ' or empty' : ''}`, {
      field: what,
    });
  }
}

export function requireAddress<C extends ErrorCode>(code: C, value: Uint8Array, what: string): void {
  if (value.length !== ADDRESS_LENGTH)
    throw new TributaryError(code, `${what} must be a ${ADDRESS_LENGTH}-byte address`, { field: what });
}

export function requireText<C extends ErrorCode>(
  code: C,
  value: string,
  what: string,
  max: number,
  required = false,
): void {
  if (required && value.length === 0) throw new TributaryError(code, `${what} is required`, { field: what });
  if (value.length > max) throw new TributaryError(code, `${what} is longer than ${max} characters`, { field: what });
}

export function requireId<C extends ErrorCode>(code: C, value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new TributaryError(code, `${what} must be a positive id`, { field: what });
}

/** Sorted copy with duplicates reported: lists of keys are stored in one canonical order. */
export function sortedUniqueBytes<C extends ErrorCode>(
  code: C,
  items: readonly Uint8Array[],
  what: string,
): Uint8Array[] {
  const sorted = [...items].sort(compareBytes);
  for (let i = 1; i < sorted.length; i++) {
    if (compareBytes(sorted[i - 1]!, sorted[i]!) === 0)
      throw new TributaryError(code, `duplicate entry in ${what}`, { field: what });
  }
  return sorted;
}

export function byKindThenId<T extends { kind: number; id: number }>(a: T, b: T): number {
  return a.kind - b.kind || a.id - b.id;
}

// ------------------------------------------------------------------ query parameters

export function paramId(v: unknown, what = 'id'): number {
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new TributaryError('rpc/invalid_params', `${what} must be a non-negative integer`);
  }
  return n;
}

export function paramAddress(v: unknown): Address {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return parseAddress(v);
  throw new TributaryError('rpc/invalid_params', 'address expected');
}

export const PAGE_PARAMS: ParamSpec[] = [
  { name: 'offset', kind: 'integer', optional: true, description: 'first item (0-based), default 0' },
  { name: 'limit', kind: 'integer', optional: true, description: 'items per page, default 50, at most 500' },
];

export function page(p: Record<string, unknown>): { offset: number; limit: number } {
  const offset = p.offset === undefined || p.offset === null ? 0 : paramId(p.offset, 'offset');
  return { offset, limit: pageLimit(p) };
}

/** The `limit` param of a list: 50 when absent, between 1 and 500. */
export function pageLimit(p: Record<string, unknown>): number {
  return p.limit === undefined || p.limit === null ? 50 : Math.min(500, Math.max(1, paramId(p.limit, 'limit')));
}

// ------------------------------------------------------------------ JSON views

export function hexOrNull(b: Uint8Array): JsonValue {
  return b.length === 0 ? null : '0x' + toHex(b);
}

export function addrOrNull(b: Uint8Array): JsonValue {
  return b.length === 0 ? null : formatAddress(b);
}

export function notFound(code: ErrorCode, what: string, id: number | string): never {
  throw new TributaryError(code, `${what} ${id} does not exist`, { id: String(id) });
}
