import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addressFromPublicKey, formatAddress } from './crypto/address.ts';
import { SigningKey } from './crypto/ed25519.ts';
import { fromHex, toHex } from './crypto/hash.ts';
import { TributaryError } from './errors.ts';

export type KeysErrorCode = 'keys/not_found' | 'keys/exists' | 'keys/invalid_name' | 'keys/corrupt';

/**
 * Key files in `<home>/keys/NAME.json`, readable by the owner only. They hold the raw seed: an
 * encrypted keystore and offline signing come with the operator-tooling issue.
 */
export interface KeyInfo {
  name: string;
  address: string;
  publicKey: string;
}

interface KeyFile extends KeyInfo {
  seed: string;
}

function checkName(name: string): void {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name) || name.startsWith('.')) {
    throw new TributaryError('keys/invalid_name', `key name "${name}" must be 1-64 of A-Z a-z 0-9 _ . -`);
  }
}

export function keyInfo(name: string, key: SigningKey): KeyInfo {
  return { name, address: formatAddress(addressFromPublicKey(key.publicKey)), publicKey: toHex(key.publicKey) };
}

export function createKey(keysDir: string, name: string, key = SigningKey.generate()): KeyInfo {
  checkName(name);
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const path = join(keysDir, `${name}.json`);
  if (existsSync(path)) throw new TributaryError('keys/exists', `key "${name}" already exists`);
  const info = keyInfo(name, key);
  const file: KeyFile = { ...info, seed: toHex(key.seed) };
  writeFileSync(path, JSON.stringify(file, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  return info;
}

export function loadKey(keysDir: string, name: string): { key: SigningKey; info: KeyInfo } {
  checkName(name);
  const path = join(keysDir, `${name}.json`);
  if (!existsSync(path)) throw new TributaryError('keys/not_found', `no key named "${name}" in ${keysDir}`);
  try {
    const file = JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
    const key = new SigningKey(fromHex(file.seed));
    return { key, info: keyInfo(name, key) };
  } catch (e) {
    throw new TributaryError('keys/corrupt', `key file ${path} is unreadable: ${(e as Error).message}`);
  }
}

export function listKeys(keysDir: string): KeyInfo[] {
  if (!existsSync(keysDir)) return [];
  return readdirSync(keysDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => loadKey(keysDir, f.slice(0, -5)).info);
}
