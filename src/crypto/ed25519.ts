import { createPrivateKey, createPublicKey, randomBytes, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { TributaryError } from '../errors.ts';

/*
 * One acceptance rule for signatures on every node: strict RFC 8032 (canonical S < L, canonical
 * point encodings, cofactorless equation), which is what Wycheproof's ed25519 vectors expect.
 *
 * Two verifiers, kept in agreement by test/unit/ed25519-wycheproof.test.ts on all vectors:
 *  - verifyEd25519: OpenSSL through node:crypto, ~15x faster than pure JS; the node's hot path.
 *  - verifyEd25519Portable: @noble/curves with zip215 off (its default, ZIP-215, accepts
 *    signatures that RFC 8032 and OpenSSL reject); for light clients and browsers without OpenSSL.
 */

export const PUBLIC_KEY_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;
export const SEED_LENGTH = 32;

/** A seed of the wrong length (a key file's, or a caller's). */
export type Ed25519ErrorCode = 'crypto/invalid_seed';

// DER headers that wrap a raw 32-byte Ed25519 key for node:crypto (RFC 8410 structures).
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

// Verifying keys are parsed once per sender; the cache is bounded so a flood of fresh keys
// cannot grow memory without limit.
const KEY_CACHE_LIMIT = 50_000;
const publicKeyCache = new Map<string, KeyObject>();

function publicKeyObject(pub: Uint8Array): KeyObject {
  const id = Buffer.from(pub.buffer, pub.byteOffset, pub.byteLength).toString('latin1');
  let key = publicKeyCache.get(id);
  if (!key) {
    key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pub]), format: 'der', type: 'spki' });
    if (publicKeyCache.size >= KEY_CACHE_LIMIT) publicKeyCache.clear();
    publicKeyCache.set(id, key);
  }
  return key;
}

export function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_LENGTH || signature.length !== SIGNATURE_LENGTH) return false;
  try {
    return nodeVerify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    // OpenSSL refuses some non-canonical point encodings at key parsing: that is a rejection.
    return false;
  }
}

export function verifyEd25519Portable(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_LENGTH || signature.length !== SIGNATURE_LENGTH) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** A signing key: the 32-byte RFC 8032 seed, with its public key. */
export class SigningKey {
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  private readonly keyObject: KeyObject;

  constructor(seed: Uint8Array) {
    if (seed.length !== SEED_LENGTH) throw new TributaryError('crypto/invalid_seed', `an Ed25519 seed is ${SEED_LENGTH} bytes, got ${seed.length}`);
    this.seed = seed.slice();
    this.publicKey = ed25519.getPublicKey(this.seed);
    this.keyObject = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, this.seed]), format: 'der', type: 'pkcs8' });
  }

  static generate(): SigningKey {
    return new SigningKey(new Uint8Array(randomBytes(SEED_LENGTH)));
  }

  sign(message: Uint8Array): Uint8Array {
    return new Uint8Array(nodeSign(null, message, this.keyObject));
  }
}
