import { hmac } from '@noble/hashes/hmac.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { TributaryError } from '../errors.ts';

/*
 * SLIP-0010 key derivation for Ed25519 (https://github.com/satoshilabs/slips/blob/master/slip-0010.md),
 * written here because the curve libraries we use do not offer it for Ed25519 and it is two HMACs:
 *   master:  I = HMAC-SHA512(key = "ed25519 seed", data = seed);  key = I[0..32], chain code = I[32..64]
 *   child i: I = HMAC-SHA512(key = chain code, data = 0x00 ‖ key ‖ ser32(i));  same split
 * Ed25519 has only hardened children (i ≥ 2^31), so every path segment must end in `'`.
 * test/unit/keystore.test.ts checks the spec's test vector 1.
 */

export type DerivationErrorCode = 'keystore/bad_path';

const HARDENED = 0x8000_0000;
const CURVE_KEY = new TextEncoder().encode('ed25519 seed');

export interface ExtendedKey {
  /** The 32-byte private key, which is an RFC 8032 Ed25519 seed. */
  key: Uint8Array;
  chainCode: Uint8Array;
}

export function masterKey(seed: Uint8Array): ExtendedKey {
  const i = hmac(sha512, CURVE_KEY, seed);
  return { key: i.slice(0, 32), chainCode: i.slice(32) };
}

export function hardenedChild(parent: ExtendedKey, index: number): ExtendedKey {
  const data = new Uint8Array(1 + 32 + 4);
  data.set(parent.key, 1);
  new DataView(data.buffer).setUint32(33, (index | HARDENED) >>> 0, false);
  const i = hmac(sha512, parent.chainCode, data);
  return { key: i.slice(0, 32), chainCode: i.slice(32) };
}

/** `m/44'/1'/0'/0'/0'` → [44, 1, 0, 0, 0] (indexes below 2^31; each one is used hardened). */
export function parsePath(path: string): number[] {
  const parts = path.split('/');
  if (parts[0] !== 'm') throw new TributaryError('keystore/bad_path', `derivation path "${path}" must start with m/`);
  return parts.slice(1).map((part) => {
    const m = /^(\d{1,10})['hH]$/.exec(part);
    if (!m || Number(m[1]) >= HARDENED) {
      throw new TributaryError(
        'keystore/bad_path',
        `derivation path segment "${part}" must be a hardened index below 2^31 (Ed25519 has no other children)`,
      );
    }
    return Number(m[1]);
  });
}

export function derivePath(seed: Uint8Array, path: string): ExtendedKey {
  return parsePath(path).reduce(hardenedChild, masterKey(seed));
}
