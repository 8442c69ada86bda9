import {
  createPrivateKey,
  createPublicKey,
  randomBytes,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import { createRequire } from 'node:module';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { TributaryError } from '../errors.ts';
import { ED25519_PUBLIC_KEY_LENGTH, ED25519_SIGNATURE_LENGTH, ed25519Refusal } from './ed25519-rule.ts';
import { boundedMemo } from './hash.ts';

/*
 * One acceptance rule for signatures on every node, stated and pre-checked in ./ed25519-rule.ts:
 * strict RFC 8032 encodings (S < L, canonical A and R), small-order A and R refused, then the
 * cofactorless equation [S]B = R + [k]A. Every verifier runs those checks first, so a library only
 * ever decides the equation, on input where they all compute the same thing:
 *  - libsodium (sodium-native's prebuilt addon): the node's hot path, about twice as fast as
 *    OpenSSL here (56-60 against 105-140 us a signature on this host's EPYC), and signatures are
 *    the largest CPU cost of admitting a transaction. Its verify computes the same cofactorless
 *    equation and compares R's bytes.
 *  - OpenSSL through node:crypto: the same verdict where sodium-native has no build for the
 *    platform (ed25519Backend() says which one a process uses).
 *  - verifyEd25519Portable: the equation on @noble/curves point arithmetic, for light clients and
 *    browsers without either. Not `ed25519.verify`: that checks the cofactored equation, which
 *    accepts signatures (speccheck vectors 4 and 5) that the cofactorless one refuses.
 * test/unit/ed25519-wycheproof.test.ts and ed25519-speccheck.test.ts hold every path to the rule,
 * and each library alone to the vectors the rule leaves to the equation.
 */

export const PUBLIC_KEY_LENGTH = ED25519_PUBLIC_KEY_LENGTH;
export const SIGNATURE_LENGTH = ED25519_SIGNATURE_LENGTH;
export const SEED_LENGTH = 32;

/** A seed of the wrong length (a key file's, or a caller's); a library asked for where it has no build. */
export type Ed25519ErrorCode = 'crypto/invalid_seed' | 'crypto/backend_unavailable';

// DER headers that wrap a raw 32-byte Ed25519 key for node:crypto (RFC 8410 structures).
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

// Verifying keys are parsed once per sender (bounded: a flood of fresh keys cannot grow memory).
// OpenSSL refusing a point encoding throws here, and nothing is remembered.
const publicKeyObject = boundedMemo(50_000, (pub) =>
  createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pub]), format: 'der', type: 'spki' }),
);

/** The one function of sodium-native this module calls (the package ships no types of its own). */
interface Sodium {
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

let sodiumBinding: Sodium | null | undefined; // undefined: not loaded yet; null: no build here

/**
 * sodium-native, loaded on first use: loading the addon takes ~15 ms, which a CLI command that
 * never verifies should not pay. A CommonJS addon, required at run time, so that a platform
 * without its prebuilt binary falls back to OpenSSL instead of failing to start.
 */
function sodium(): Sodium | null {
  if (sodiumBinding === undefined) {
    try {
      sodiumBinding = createRequire(import.meta.url)('sodium-native') as Sodium;
    } catch {
      sodiumBinding = null;
    }
  }
  return sodiumBinding;
}

export type Ed25519Backend = 'libsodium' | 'openssl';

/** Which library decides the equation in this process. */
export function ed25519Backend(): Ed25519Backend {
  return sodium() ? 'libsodium' : 'openssl';
}

export function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return verifyEd25519With(ed25519Backend(), publicKey, message, signature);
}

/** The rule's checks, then `backend`'s equation: what verifyEd25519 does with each library (tests hold both). */
export function verifyEd25519With(
  backend: Ed25519Backend,
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (ed25519Refusal(publicKey, signature) !== undefined) return false;
  return backend === 'libsodium'
    ? sodiumVerdictUnchecked(publicKey, message, signature)
    : openSslVerdictUnchecked(publicKey, message, signature);
}

/**
 * libsodium's verdict alone, without the rule's checks: exported only so the tests can notice a
 * libsodium that stops accepting what the rule accepts. Never call it to accept anything.
 */
export function sodiumVerdictUnchecked(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const binding = sodium();
  if (!binding) throw new TributaryError('crypto/backend_unavailable', 'sodium-native has no build for this platform');
  // The addon asserts these lengths in C, where a failed assert would end the process.
  if (publicKey.length !== PUBLIC_KEY_LENGTH || signature.length !== SIGNATURE_LENGTH) return false;
  try {
    return binding.crypto_sign_verify_detached(signature, message, publicKey);
  } catch {
    return false;
  }
}

/**
 * OpenSSL's verdict alone, without the rule's checks: exported only so the tests can notice a
 * runtime whose OpenSSL stops accepting what the rule accepts. Never call it to accept anything.
 */
export function openSslVerdictUnchecked(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_LENGTH || signature.length !== SIGNATURE_LENGTH) return false;
  try {
    return nodeVerify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    // OpenSSL refuses some point encodings at key parsing: that is a rejection.
    return false;
  }
}

const ORDER = ed25519.Point.Fn.ORDER;

export function verifyEd25519Portable(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (ed25519Refusal(publicKey, signature) !== undefined) return false;
  try {
    // RFC 8032 5.1.7 without the cofactor: [S]B - [k]A, encoded, must be R's bytes. R is
    // canonical (checked), and an encoding names one point, so byte equality is point equality;
    // an R that is not on the curve can never match.
    const a = ed25519.Point.fromBytes(publicKey, false);
    const r = signature.subarray(0, 32);
    const s = bytesToNumberLE(signature.subarray(32, 64));
    const hashInput = new Uint8Array(64 + message.length);
    hashInput.set(r, 0);
    hashInput.set(publicKey, 32);
    hashInput.set(message, 64);
    const k = bytesToNumberLE(sha512(hashInput)) % ORDER;
    const encoded = ed25519.Point.BASE.multiplyUnsafe(s).subtract(a.multiplyUnsafe(k)).toBytes();
    for (let i = 0; i < 32; i++) if (encoded[i] !== r[i]) return false;
    return true;
  } catch {
    return false; // A does not decode to a curve point
  }
}

/** A signing key: the 32-byte RFC 8032 seed, with its public key. */
export class SigningKey {
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  private readonly keyObject: KeyObject;

  constructor(seed: Uint8Array) {
    if (seed.length !== SEED_LENGTH)
      throw new TributaryError('crypto/invalid_seed', `an Ed25519 seed is ${SEED_LENGTH} bytes, got ${seed.length}`);
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
