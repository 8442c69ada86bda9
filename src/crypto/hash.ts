import { createHash } from 'node:crypto';
import { TributaryError } from '../errors.ts';

/** Malformed hex text: it comes from users (CLI options, RPC params, genesis and key files). */
export type HexErrorCode = 'codec/invalid_hex';

/** SHA-256 over the concatenation of parts (OpenSSL through node:crypto: native speed). */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  const d = h.digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Bytewise order, the order LevelDB and every Merkle construction here use. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Hex with an optional 0x prefix. The message never repeats the input: it may be a key's seed. */
export function fromHex(s: string): Uint8Array {
  const clean = s.startsWith('0x') ? s.slice(2) : s;
  // Node's decoder stops at the first pair that is not hex, so a full-length result is the
  // validity check: no regex pass over every transaction's hex (tx_submit) before decoding it.
  const decoded = Buffer.from(clean, 'hex');
  if (decoded.length * 2 !== clean.length) {
    if (clean.length % 2 !== 0 && /^[0-9a-fA-F]*$/.test(clean))
      throw new TributaryError(
        'codec/invalid_hex',
        `invalid hex: ${clean.length} digits, an odd number (two per byte)`,
      );
    throw new TributaryError('codec/invalid_hex', 'invalid hex: only 0-9, a-f and A-F may follow the 0x prefix');
  }
  return new Uint8Array(decoded);
}

/** Map key for bytes: latin1 keeps one char per byte, so it is exact and string order is byte order. */
export function bytesKey(bytes: Uint8Array): string {
  // Short keys (state keys, addresses, public keys): fromCharCode is the cheapest byte->latin1
  // path there (no Buffer wrapper).
  if (bytes.length <= 256) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/**
 * `compute(bytes)`, remembered by the bytes' value. Bounded: once `limit` values are kept it
 * starts over empty, so a flood of fresh inputs cannot grow memory without limit.
 */
export function boundedMemo<T>(limit: number, compute: (bytes: Uint8Array) => T): (bytes: Uint8Array) => T {
  const memo = new Map<string, T>();
  return (bytes) => {
    const id = bytesKey(bytes);
    let value = memo.get(id);
    if (value === undefined) {
      value = compute(bytes);
      if (memo.size >= limit) memo.clear();
      memo.set(id, value);
    }
    return value;
  };
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function u64be(n: number | bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

export function u32be(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

export function readU32be(b: Uint8Array, offset = 0): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(offset);
}

export function readU64be(b: Uint8Array, offset = 0): number {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(offset);
  return Number(v);
}

export const utf8 = new TextEncoder();
