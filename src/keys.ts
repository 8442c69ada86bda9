import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addressFromPublicKey, formatAddress } from './crypto/address.ts';
import { SigningKey } from './crypto/ed25519.ts';
import { fromHex, toHex } from './crypto/hash.ts';
import { isTributaryError, TributaryError } from './errors.ts';
import {
  decryptKey,
  encryptKey,
  KEYSTORE_FORMAT,
  parseKeystore,
  type Derivation,
  type KeystoreFile,
  type ScryptParams,
} from './keystore/keystore.ts';

export type KeysErrorCode =
  | 'keys/not_found'
  | 'keys/exists'
  | 'keys/invalid_name'
  | 'keys/corrupt'
  | 'keys/password_required'
  | 'keys/password_mismatch'
  | 'keys/password_file'
  | 'keys/plaintext_refused';

/*
 * The keyring: one file per key in `<home>/keys/NAME.json`, owner-only. A file says what it is:
 *  - backend "file" (the default): an encrypted keystore (src/keystore/keystore.ts);
 *  - backend "test": `{"format": "tributary-test-key", "version": 1, address, publicKey,
 *    derivation, seed}` in plaintext, written only when a caller asks for it by name (the CLI's
 *    `--keyring-backend test`, the devnet). Files from before the keystore (no `format`, a `seed`)
 *    read as test keys.
 * One folder for both keeps `loadKey(dir, name)` working for test homes; `start` refuses a
 * plaintext validator key unless told `--keyring-backend test` (or `--devnet`).
 */

export type KeyringBackend = 'file' | 'test';

export const TEST_KEY_FORMAT = 'tributary-test-key';

export interface KeyInfo {
  name: string;
  address: string;
  publicKey: string;
  backend: KeyringBackend;
  /** SLIP-0010 path when the key came from a mnemonic. */
  path?: string;
}

/** How a new key file is protected. */
export type KeyProtection = { backend: 'test' } | { backend: 'file'; password: string; scrypt?: ScryptParams };

export const TEST_KEYRING: KeyProtection = { backend: 'test' };

interface TestKeyFile {
  format?: typeof TEST_KEY_FORMAT;
  version?: 1;
  address: string;
  publicKey: string;
  derivation?: Derivation | null;
  seed: string;
}

type ParsedFile = { backend: 'file'; file: KeystoreFile } | { backend: 'test'; file: TestKeyFile };

function checkName(name: string): void {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name) || name.startsWith('.')) {
    throw new TributaryError('keys/invalid_name', `key name "${name}" must be 1-64 of A-Z a-z 0-9 _ . -`);
  }
}

function keyPath(keysDir: string, name: string): string {
  checkName(name);
  return join(keysDir, `${name}.json`);
}

export function keyInfo(name: string, key: SigningKey, backend: KeyringBackend = 'test', path?: string): KeyInfo {
  const info: KeyInfo = {
    name,
    address: formatAddress(addressFromPublicKey(key.publicKey)),
    publicKey: toHex(key.publicKey),
    backend,
  };
  if (path) info.path = path;
  return info;
}

/** The file's contents for a new key; nothing is written. */
export function keyFileFor(key: SigningKey, protection: KeyProtection, derivation: Derivation | null = null): object {
  if (protection.backend === 'file')
    return encryptKey(key, protection.password, { derivation, scrypt: protection.scrypt });
  const file: TestKeyFile = {
    format: TEST_KEY_FORMAT,
    version: 1,
    address: formatAddress(addressFromPublicKey(key.publicKey)),
    publicKey: toHex(key.publicKey),
    derivation,
    seed: toHex(key.seed),
  };
  return file;
}

/** Writes a key file that does not exist yet (`wx`: an existing key is never overwritten). */
function writeKeyFile(keysDir: string, name: string, contents: object): void {
  const path = keyPath(keysDir, name);
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  if (existsSync(path)) throw new TributaryError('keys/exists', `key "${name}" already exists`);
  writeFileSync(path, JSON.stringify(contents, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
}

export function createKey(
  keysDir: string,
  name: string,
  protection: KeyProtection,
  opts: { key?: SigningKey; derivation?: Derivation | null } = {},
): KeyInfo {
  const key = opts.key ?? SigningKey.generate();
  writeKeyFile(keysDir, name, keyFileFor(key, protection, opts.derivation ?? null));
  return keyInfo(name, key, protection.backend, opts.derivation?.path);
}

function readKeyFile(keysDir: string, name: string): ParsedFile {
  const path = keyPath(keysDir, name);
  if (!existsSync(path)) throw new TributaryError('keys/not_found', `no key named "${name}" in ${keysDir}`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new TributaryError('keys/corrupt', `key file ${path} is not JSON: ${(e as Error).message}`);
  }
  return parseKeyFile(value);
}

/** Tells the two kinds apart; keystore errors (version, malformed) keep their own codes. */
export function parseKeyFile(value: unknown): ParsedFile {
  const v = value as { format?: unknown; seed?: unknown } | null;
  if (v && typeof v === 'object' && v.format === KEYSTORE_FORMAT) return { backend: 'file', file: parseKeystore(v) };
  if (
    v &&
    typeof v === 'object' &&
    (v.format === TEST_KEY_FORMAT || (v.format === undefined && typeof v.seed === 'string'))
  ) {
    return { backend: 'test', file: v as TestKeyFile };
  }
  // Neither kind: run the keystore parser for its precise message (wrong format, newer version, …).
  return { backend: 'file', file: parseKeystore(value) };
}

function testKey(file: TestKeyFile, where: string): SigningKey {
  try {
    return new SigningKey(fromHex(file.seed));
  } catch (e) {
    throw new TributaryError('keys/corrupt', `key file ${where} has no valid seed: ${(e as Error).message}`);
  }
}

/** Address, public key and backend, read from the clear fields without decrypting. */
export function readKeyInfo(keysDir: string, name: string): KeyInfo {
  const parsed = readKeyFile(keysDir, name);
  const info: KeyInfo = {
    name,
    address: parsed.file.address,
    publicKey: parsed.file.publicKey,
    backend: parsed.backend,
  };
  if (parsed.file.derivation?.path) info.path = parsed.file.derivation.path;
  if (parsed.backend === 'test') {
    const actual = keyInfo(name, testKey(parsed.file, keyPath(keysDir, name)), 'test', info.path);
    if (actual.publicKey !== info.publicKey) {
      throw new TributaryError('keys/corrupt', `key file for "${name}" names a public key that is not its seed's`);
    }
    return actual;
  }
  return info;
}

/**
 * The key itself. An encrypted key needs `password` (a string, or a function asked only then);
 * without one it is `keys/password_required`. A plaintext test key needs none.
 */
export function loadKey(
  keysDir: string,
  name: string,
  password?: string | (() => string),
): { key: SigningKey; info: KeyInfo } {
  const parsed = readKeyFile(keysDir, name);
  const path = parsed.file.derivation?.path;
  if (parsed.backend === 'test') {
    const key = testKey(parsed.file, keyPath(keysDir, name));
    return { key, info: keyInfo(name, key, 'test', path) };
  }
  const pw = typeof password === 'function' ? password() : password;
  if (pw === undefined) {
    throw new TributaryError('keys/password_required', `key "${name}" is encrypted and no password was given`);
  }
  const key = decryptKey(parsed.file, pw);
  return { key, info: keyInfo(name, key, 'file', path) };
}

export function listKeys(keysDir: string): KeyInfo[] {
  if (!existsSync(keysDir)) return [];
  return readdirSync(keysDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => readKeyInfo(keysDir, f.slice(0, -5)));
}

export function deleteKey(keysDir: string, name: string): KeyInfo {
  const info = readKeyInfo(keysDir, name);
  rmSync(keyPath(keysDir, name));
  return info;
}

/**
 * An encrypted keystore for the key, to move it elsewhere: an encrypted key's own file once the
 * password opens it, a test key encrypted under `password`.
 */
export function exportKeystore(keysDir: string, name: string, password: string): KeystoreFile {
  const parsed = readKeyFile(keysDir, name);
  if (parsed.backend === 'file') {
    decryptKey(parsed.file, password);
    return parsed.file;
  }
  return encryptKey(testKey(parsed.file, keyPath(keysDir, name)), password, {
    derivation: parsed.file.derivation ?? null,
  });
}

/** Stores an exported keystore under `name` as it is, once `password` opens it (so nothing unreadable is kept). */
export function importKeystore(keysDir: string, name: string, value: unknown, password: string): KeyInfo {
  const file = parseKeystore(value);
  const key = decryptKey(file, password);
  writeKeyFile(keysDir, name, file);
  return keyInfo(name, key, 'file', file.derivation?.path);
}

/** The backend of an existing key file, or undefined when there is none. */
export function keyBackend(keysDir: string, name: string): KeyringBackend | undefined {
  try {
    return readKeyFile(keysDir, name).backend;
  } catch (e) {
    if (isTributaryError(e) && e.code === 'keys/not_found') return undefined;
    throw e;
  }
}
