import { toHex } from '../crypto/hash.ts';

/** What RPC and `--json` output carry: amounts are decimal strings, bytes are 0x-hex. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** JSON-safe copy: bigint -> decimal string, bytes -> 0x-hex, undefined fields dropped. */
export function toJson(value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (value instanceof Uint8Array) return '0x' + toHex(value);
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) out[k] = toJson(v);
    }
    return out;
  }
  return String(value);
}

export function hex0x(b: Uint8Array): string {
  return '0x' + toHex(b);
}
