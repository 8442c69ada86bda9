import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { scrypt } from '@noble/hashes/scrypt.js';
import { randomBytes } from 'node:crypto';
import { addressFromPublicKey, formatAddress } from '../crypto/address.ts';
import { SigningKey } from '../crypto/ed25519.ts';
import { bytesEqual, fromHex, sha256, toHex } from '../crypto/hash.ts';
import { TributaryError } from '../errors.ts';

/*
 * The encrypted key file, layout version 1 (in the spirit of EIP-2335 and Web3 Secret Storage):
 *
 *   { "format": "tributary-keystore", "version": 1,
 *     "address": "trib1…", "publicKey": "<hex 32>",                      (in clear, for list/show)
 *     "derivation": { "scheme": "slip10-ed25519", "path": "m/44'/1'/0'/0'/0'" } | null,
 *     "crypto": {
 *       "kdf":    { "function": "scrypt", "n": 262144, "r": 8, "p": 1, "salt": "<hex 32>" },
 *       "cipher": { "function": "xchacha20-poly1305", "nonce": "<hex 24>" },
 *       "check": "<hex 32>", "ciphertext": "<hex 48: the 32-byte Ed25519 seed + 16-byte tag>" } }
 *
 * dk = scrypt(NFKD(password), salt, n, r, p, 64 bytes); dk[0..32] is the cipher key and
 * check = SHA-256(dk[32..64]) tells a wrong password apart from a damaged file (EIP-2335's checksum
 * does the same). Every clear field is the cipher's associated data, so editing the address, the
 * public key, the path or the parameters makes decryption fail as `keystore/tampered`.
 * scrypt N = 2^18, r = 8, p = 1 are EIP-2335's and geth's standard choice (about 1 s and 256 MiB
 * here); files with other parameters are read within the bounds below.
 * XChaCha20-Poly1305: its 24-byte nonce can be drawn at random with no collision worry, and it is
 * constant-time in pure JS, where AES without hardware support is not.
 */

export type KeystoreErrorCode =
  | 'keystore/bad_password'
  | 'keystore/tampered'
  | 'keystore/unsupported_version'
  | 'keystore/corrupt';

export const KEYSTORE_FORMAT = 'tributary-keystore';
export const KEYSTORE_VERSION = 1;
export const DERIVATION_SCHEME = 'slip10-ed25519';

export interface ScryptParams {
  n: number;
  r: number;
  p: number;
}

export const DEFAULT_SCRYPT: ScryptParams = { n: 2 ** 18, r: 8, p: 1 };
/** What a file may ask of the KDF: above this a hostile file could exhaust memory (N·r·128 bytes). */
const MAX_SCRYPT_MEMORY = 2 ** 30;

export interface Derivation {
  scheme: typeof DERIVATION_SCHEME;
  path: string;
}

export interface KeystoreFile {
  format: typeof KEYSTORE_FORMAT;
  version: number;
  address: string;
  publicKey: string;
  derivation: Derivation | null;
  crypto: {
    kdf: { function: 'scrypt'; n: number; r: number; p: number; salt: string };
    cipher: { function: 'xchacha20-poly1305'; nonce: string };
    check: string;
    ciphertext: string;
  };
}

function corrupt(why: string): never {
  throw new TributaryError('keystore/corrupt', `keystore file is malformed: ${why}`);
}

function deriveKeys(
  password: string,
  salt: Uint8Array,
  params: ScryptParams,
): { cipherKey: Uint8Array; check: Uint8Array } {
  const dk = scrypt(password.normalize('NFKD'), salt, {
    N: params.n,
    r: params.r,
    p: params.p,
    dkLen: 64,
    maxmem: MAX_SCRYPT_MEMORY + 2 ** 20,
  });
  return { cipherKey: dk.slice(0, 32), check: sha256(dk.slice(32)) };
}

/** The bytes every clear field contributes to the cipher's associated data, in one fixed order. */
function associatedData(f: KeystoreFile): Uint8Array {
  const k = f.crypto.kdf;
  const fields = [
    f.format,
    f.version,
    f.address,
    f.publicKey,
    f.derivation?.scheme ?? null,
    f.derivation?.path ?? null,
    k.function,
    k.n,
    k.r,
    k.p,
    k.salt,
    f.crypto.cipher.function,
  ];
  return new TextEncoder().encode(JSON.stringify(fields));
}

export function encryptKey(
  key: SigningKey,
  password: string,
  opts: { derivation?: Derivation | null; scrypt?: ScryptParams } = {},
): KeystoreFile {
  const params = opts.scrypt ?? DEFAULT_SCRYPT;
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const { cipherKey, check } = deriveKeys(password, salt, params);
  const file: KeystoreFile = {
    format: KEYSTORE_FORMAT,
    version: KEYSTORE_VERSION,
    address: formatAddress(addressFromPublicKey(key.publicKey)),
    publicKey: toHex(key.publicKey),
    derivation: opts.derivation ?? null,
    crypto: {
      kdf: { function: 'scrypt', ...params, salt: toHex(salt) },
      cipher: { function: 'xchacha20-poly1305', nonce: toHex(nonce) },
      check: toHex(check),
      ciphertext: '',
    },
  };
  file.crypto.ciphertext = toHex(xchacha20poly1305(cipherKey, nonce, associatedData(file)).encrypt(key.seed));
  return file;
}

/** Checks the version before anything else: a newer layout is refused by name, not as damage. */
export function parseKeystore(value: unknown): KeystoreFile {
  if (typeof value !== 'object' || value === null) corrupt('not a JSON object');
  const f = value as Partial<KeystoreFile>;
  if (f.format !== KEYSTORE_FORMAT) corrupt(`format is ${JSON.stringify(f.format)}, expected "${KEYSTORE_FORMAT}"`);
  if (f.version !== KEYSTORE_VERSION) {
    throw new TributaryError(
      'keystore/unsupported_version',
      `keystore layout version ${JSON.stringify(f.version)} is not supported (this build reads version ${KEYSTORE_VERSION}${typeof f.version === 'number' && f.version > KEYSTORE_VERSION ? '; the file is from a newer release' : ''})`,
    );
  }
  const c = f.crypto;
  if (!c || typeof c !== 'object') corrupt('no crypto section');
  const k = c.kdf;
  if (k?.function !== 'scrypt') corrupt('kdf.function must be "scrypt"');
  for (const name of ['n', 'r', 'p'] as const) {
    if (!Number.isSafeInteger(k[name]) || k[name] < 1) corrupt(`kdf.${name} must be a positive integer`);
  }
  if (k.n < 2 || (k.n & (k.n - 1)) !== 0) corrupt('kdf.n must be a power of two');
  if (k.n * k.r * 128 > MAX_SCRYPT_MEMORY || k.p > 16) corrupt('kdf parameters ask for more than 1 GiB or p > 16');
  if (c.cipher?.function !== 'xchacha20-poly1305') corrupt('cipher.function must be "xchacha20-poly1305"');
  const hexFields: [string, unknown, number][] = [
    ['kdf.salt', k.salt, 32],
    ['cipher.nonce', c.cipher.nonce, 24],
    ['check', c.check, 32],
    ['ciphertext', c.ciphertext, 48],
    ['publicKey', f.publicKey, 32],
  ];
  for (const [name, v, bytes] of hexFields) {
    if (typeof v !== 'string' || !new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(v))
      corrupt(`${name} must be ${bytes} bytes of lowercase hex`);
  }
  if (typeof f.address !== 'string') corrupt('address must be a string');
  const d = f.derivation;
  if (d !== null && (typeof d !== 'object' || d?.scheme !== DERIVATION_SCHEME || typeof d.path !== 'string')) {
    corrupt(`derivation must be null or {"scheme": "${DERIVATION_SCHEME}", "path": "m/..."}`);
  }
  return f as KeystoreFile;
}

export function decryptKey(value: unknown, password: string): SigningKey {
  const file = parseKeystore(value);
  const { kdf, cipher } = file.crypto;
  const { cipherKey, check } = deriveKeys(password, fromHex(kdf.salt), kdf);
  if (!bytesEqual(check, fromHex(file.crypto.check))) {
    throw new TributaryError('keystore/bad_password', `wrong password for the key ${file.address}`);
  }
  let seed: Uint8Array;
  try {
    seed = xchacha20poly1305(cipherKey, fromHex(cipher.nonce), associatedData(file)).decrypt(
      fromHex(file.crypto.ciphertext),
    );
  } catch {
    throw new TributaryError(
      'keystore/tampered',
      `keystore for ${file.address} fails authentication: the file was changed`,
    );
  }
  const key = new SigningKey(seed);
  if (toHex(key.publicKey) !== file.publicKey || formatAddress(addressFromPublicKey(key.publicKey)) !== file.address) {
    throw new TributaryError('keystore/tampered', `keystore for ${file.address} decrypts to another key`);
  }
  return key;
}
