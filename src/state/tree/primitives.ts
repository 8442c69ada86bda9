/**
 * Constants and byte helpers of the tree format, in plain JS with no Node imports, so the proof
 * verifier (proof.ts) runs anywhere a light client does.
 *
 *   keyHash   = sha256(key)                      — the 256-bit path, read as 64 nibbles, high nibble first
 *   valueHash = sha256(value)
 *   leafHash  = sha256(0x00 ‖ keyHash ‖ valueHash) — used only when the whole tree is one leaf
 *   nodeHash  = sha256(0x01 ‖ existMask ‖ leafMask ‖ entries)   (see node.ts for the entry layout)
 *   empty tree root = 32 zero bytes (EMPTY_ROOT)
 *
 * The leading domain byte keeps a leaf hash from ever being read as a node hash and vice versa.
 */
import { sha256Into } from '../../crypto/sha256.ts';

export const HASH_LEN = 32;
/** Number of nibbles in a key path (256 bits / 4). */
export const PATH_NIBBLES = 64;
export const LEAF_DOMAIN = 0x00;
export const NODE_DOMAIN = 0x01;

/** Root of the tree holding no keys. A constant, so an empty state needs no hashing to agree on. */
export const EMPTY_ROOT: Uint8Array = new Uint8Array(HASH_LEN);

/** SHA-256 in plain JS (any length; the tree's hot paths pick node:crypto for long inputs instead). */
export function sha256Js(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(HASH_LEN);
  sha256Into(data, 0, data.length, out, 0);
  return out;
}

export function leafHash(keyHash: Uint8Array, valueHash: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + 2 * HASH_LEN);
  buf[0] = LEAF_DOMAIN;
  buf.set(keyHash, 1);
  buf.set(valueHash, 1 + HASH_LEN);
  return sha256Js(buf);
}

/** Nibble `index` (0 = high nibble of byte 0) of a 32-byte key hash. */
export function nibbleAt(keyHash: Uint8Array, index: number): number {
  const b = keyHash[index >> 1]!;
  return (index & 1) === 0 ? b >> 4 : b & 0x0f;
}

/** Number of set bits in a 16-bit mask. */
export function popcount16(x: number): number {
  x = x - ((x >> 1) & 0x5555);
  x = (x & 0x3333) + ((x >> 2) & 0x3333);
  x = (x + (x >> 4)) & 0x0f0f;
  return (x + (x >> 8)) & 0x1f;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** a[0..32) equals b[bOff..bOff+32). */
export function hashEqualAt(a: Uint8Array, b: Uint8Array, bOff: number): boolean {
  for (let i = 0; i < HASH_LEN; i++) if (a[i] !== b[bOff + i]) return false;
  return true;
}

/** True when the first `nibbles` nibbles of two key hashes agree. */
export function sharesPrefix(a: Uint8Array, b: Uint8Array, nibbles: number): boolean {
  const whole = nibbles >> 1;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  if ((nibbles & 1) === 1 && (a[whole]! & 0xf0) !== (b[whole]! & 0xf0)) return false;
  return true;
}
