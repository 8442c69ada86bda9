import { ed25519 } from '@noble/curves/ed25519.js';
import { validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { fromHex, toHex } from '../../src/crypto/hash.ts';
import {
  createKey,
  deleteKey,
  exportKeystore,
  importKeystore,
  listKeys,
  loadKey,
  readKeyInfo,
  TEST_KEYRING,
  type KeyProtection,
} from '../../src/keys.ts';
import {
  DEFAULT_SCRYPT,
  decryptKey,
  encryptKey,
  KEYSTORE_VERSION,
  type KeystoreFile,
  type ScryptParams,
} from '../../src/keystore/keystore.ts';
import { DEFAULT_PATH, keyFromMnemonic, newMnemonic } from '../../src/keystore/mnemonic.ts';
import { derivePath, parsePath } from '../../src/keystore/slip10.ts';
import { codeOfSync as codeOf } from '../helpers/codes.ts';
import { tempHome } from '../helpers/process.ts';

// A cheap KDF for the tests that are not about the KDF; one test below uses the default parameters.
const FAST: ScryptParams = { n: 2 ** 10, r: 8, p: 1 };
const encrypted = (password: string): KeyProtection => ({ backend: 'file', password, scrypt: FAST });

const dirs: string[] = [];
const keysDir = () => {
  const d = tempHome('tributary-keystore-');
  dirs.push(d);
  return join(d, 'keys');
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A copy of the file with one edit, for the tamper tests. */
function edited(file: KeystoreFile, edit: (f: KeystoreFile) => void): KeystoreFile {
  const copy = structuredClone(file);
  edit(copy);
  return copy;
}

function flipHexDigit(hex: string, at: number): string {
  const d = hex[at] === '0' ? '1' : '0';
  return hex.slice(0, at) + d + hex.slice(at + 1);
}

describe('keystore layout v1', () => {
  it('round trip with the default scrypt parameters (N = 2^18, r = 8, p = 1) and the clear fields', () => {
    const key = SigningKey.generate();
    const file = encryptKey(key, 'correct horse');
    expect(file.version).toBe(KEYSTORE_VERSION);
    expect(file.crypto.kdf).toMatchObject({ function: 'scrypt', ...DEFAULT_SCRYPT });
    expect(file.crypto.cipher.function).toBe('xchacha20-poly1305');
    expect(file.publicKey).toBe(toHex(key.publicKey));
    expect(file.address).toMatch(/^trib1/);
    expect(JSON.stringify(file)).not.toContain(toHex(key.seed));
    expect(toHex(decryptKey(JSON.parse(JSON.stringify(file)), 'correct horse').seed)).toBe(toHex(key.seed));
  });

  it('fresh salt and nonce every time: the same key and password give different files', () => {
    const key = SigningKey.generate();
    const a = encryptKey(key, 'pw', { scrypt: FAST });
    const b = encryptKey(key, 'pw', { scrypt: FAST });
    expect(a.crypto.kdf.salt).not.toBe(b.crypto.kdf.salt);
    expect(a.crypto.cipher.nonce).not.toBe(b.crypto.cipher.nonce);
    expect(a.crypto.ciphertext).not.toBe(b.crypto.ciphertext);
  });

  it('a wrong password is keystore/bad_password', () => {
    const file = encryptKey(SigningKey.generate(), 'right', { scrypt: FAST });
    expect(codeOf(() => decryptKey(file, 'wrong'))).toBe('keystore/bad_password');
    expect(codeOf(() => decryptKey(file, ''))).toBe('keystore/bad_password');
  });

  it('a changed ciphertext, nonce, address, public key or path is keystore/tampered', () => {
    const other = encryptKey(SigningKey.generate(), 'pw', { scrypt: FAST });
    const file = encryptKey(SigningKey.generate(), 'pw', {
      scrypt: FAST,
      derivation: { scheme: 'slip10-ed25519', path: DEFAULT_PATH },
    });
    const tampered = [
      edited(file, (f) => (f.crypto.ciphertext = flipHexDigit(f.crypto.ciphertext, 5))),
      edited(file, (f) => (f.crypto.ciphertext = flipHexDigit(f.crypto.ciphertext, 90))), // the tag
      edited(file, (f) => (f.crypto.cipher.nonce = flipHexDigit(f.crypto.cipher.nonce, 0))),
      edited(file, (f) => (f.address = other.address)),
      edited(file, (f) => (f.publicKey = other.publicKey)),
      edited(file, (f) => (f.derivation = { scheme: 'slip10-ed25519', path: "m/44'/1'/0'/0'/1'" })),
      edited(file, (f) => (f.derivation = null)),
    ];
    for (const f of tampered) expect(codeOf(() => decryptKey(f, 'pw'))).toBe('keystore/tampered');
    // The salt and KDF parameters feed the password check first: changing them reads as a wrong password.
    expect(
      codeOf(() =>
        decryptKey(
          edited(file, (f) => (f.crypto.kdf.salt = flipHexDigit(f.crypto.kdf.salt, 3))),
          'pw',
        ),
      ),
    ).toBe('keystore/bad_password');
  });

  it('another layout version is keystore/unsupported_version, checked before the password', () => {
    const file = encryptKey(SigningKey.generate(), 'pw', { scrypt: FAST });
    for (const version of [2, 0, '1', undefined]) {
      const f = edited(file, (x) => ((x as { version: unknown }).version = version));
      expect(codeOf(() => decryptKey(f, 'pw'))).toBe('keystore/unsupported_version');
      expect(codeOf(() => decryptKey(f, 'wrong'))).toBe('keystore/unsupported_version');
    }
  });

  it('malformed files are keystore/corrupt, including KDF parameters that would exhaust memory', () => {
    const file = encryptKey(SigningKey.generate(), 'pw', { scrypt: FAST });
    const bad = [
      null,
      'text',
      edited(file, (f) => ((f as { format: string }).format = 'web3-secret-storage')),
      edited(file, (f) => (f.crypto.kdf.n = 2 ** 24)),
      edited(file, (f) => (f.crypto.kdf.n = 1000)),
      edited(file, (f) => ((f.crypto.kdf as { function: string }).function = 'pbkdf2')),
      edited(file, (f) => ((f.crypto.cipher as { function: string }).function = 'aes-128-ctr')),
      edited(file, (f) => (f.crypto.ciphertext = f.crypto.ciphertext.slice(2))),
      edited(file, (f) => (f.crypto.cipher.nonce = 'zz' + f.crypto.cipher.nonce.slice(2))),
    ];
    for (const f of bad) expect(codeOf(() => decryptKey(f, 'pw'))).toBe('keystore/corrupt');
  });
});

describe('keyring files', () => {
  it('encrypted keys: list and show read the clear fields; load needs the password', () => {
    const dir = keysDir();
    const info = createKey(dir, 'alice', encrypted('pw'));
    expect(info.backend).toBe('file');
    expect(readKeyInfo(dir, 'alice')).toEqual(info);
    expect(listKeys(dir)).toEqual([info]);
    expect(codeOf(() => loadKey(dir, 'alice'))).toBe('keys/password_required');
    expect(codeOf(() => loadKey(dir, 'alice', 'nope'))).toBe('keystore/bad_password');
    expect(loadKey(dir, 'alice', () => 'pw').info).toEqual(info);
    expect(readFileSync(join(dir, 'alice.json'), 'utf8')).toContain('"format": "tributary-keystore"');
  });

  it('a file from a newer layout is refused by code and left as it was; nothing overwrites an existing key', () => {
    const dir = keysDir();
    createKey(dir, 'alice', encrypted('pw'));
    const path = join(dir, 'alice.json');
    const newer = JSON.parse(readFileSync(path, 'utf8')) as KeystoreFile;
    newer.version = 2;
    writeFileSync(path, JSON.stringify(newer));
    const before = readFileSync(path);
    expect(codeOf(() => loadKey(dir, 'alice', 'pw'))).toBe('keystore/unsupported_version');
    expect(codeOf(() => readKeyInfo(dir, 'alice'))).toBe('keystore/unsupported_version');
    expect(codeOf(() => createKey(dir, 'alice', encrypted('pw')))).toBe('keys/exists');
    const exported = encryptKey(SigningKey.generate(), 'pw', { scrypt: FAST });
    expect(codeOf(() => importKeystore(dir, 'alice', exported, 'pw'))).toBe('keys/exists');
    expect(readFileSync(path).equals(before)).toBe(true);
    writeFileSync(path, '{"format": "tributary-keystore", "vers');
    expect(codeOf(() => readKeyInfo(dir, 'alice'))).toBe('keys/corrupt');
  });

  it('export then import elsewhere gives the same key; a wrong password imports nothing', () => {
    const a = keysDir();
    const b = keysDir();
    const info = createKey(a, 'alice', encrypted('pw'));
    const exported = exportKeystore(a, 'alice', 'pw');
    expect(codeOf(() => exportKeystore(a, 'alice', 'bad'))).toBe('keystore/bad_password');
    expect(codeOf(() => importKeystore(b, 'alice', exported, 'bad'))).toBe('keystore/bad_password');
    expect(listKeys(b)).toEqual([]);
    expect(importKeystore(b, 'alice', exported, 'pw')).toEqual(info);
    // A test key exports encrypted under the password given.
    const t = createKey(a, 'tester', TEST_KEYRING);
    const testExport = exportKeystore(a, 'tester', 'new-pw');
    expect(toHex(decryptKey(testExport, 'new-pw').publicKey)).toBe(t.publicKey);
    expect(deleteKey(a, 'tester')).toEqual(t);
    expect(codeOf(() => readKeyInfo(a, 'tester'))).toBe('keys/not_found');
  });

  it('plaintext test keys and files from before the keystore load without a password', () => {
    const dir = keysDir();
    const t = createKey(dir, 'tester', TEST_KEYRING);
    expect(t.backend).toBe('test');
    expect(loadKey(dir, 'tester').info).toEqual(t);
    const legacy = SigningKey.generate();
    writeFileSync(
      join(dir, 'old.json'),
      JSON.stringify({ name: 'old', seed: toHex(legacy.seed), publicKey: toHex(legacy.publicKey), address: 'x' }),
    );
    expect(loadKey(dir, 'old').info.publicKey).toBe(toHex(legacy.publicKey));
  });
});

describe('BIP-39 mnemonics and SLIP-0010 derivation', () => {
  it('SLIP-0010 test vector 1 for Ed25519 (seed 000102030405060708090a0b0c0d0e0f), every level', () => {
    // From the SLIP-0010 specification's "Test vector 1 for ed25519"; public keys there carry a 0x00 prefix.
    const vector: [string, string, string, string][] = [
      [
        'm',
        '90046a93de5380a72b5e45010748567d5ea02bbf6522f979e05c0d8d8ca9fffb',
        '2b4be7f19ee27bbf30c667b642d5f4aa69fd169872f8fc3059c08ebae2eb19e7',
        '00a4b2856bfec510abab89753fac1ac0e1112364e7d250545963f135f2a33188ed',
      ],
      [
        "m/0'",
        '8b59aa11380b624e81507a27fedda59fea6d0b779a778918a2fd3590e16e9c69',
        '68e0fe46dfb67e368c75379acec591dad19df3cde26e63b93a8e704f1dade7a3',
        '008c8a13df77a28f3445213a0f432fde644acaa215fc72dcdf300d5efaa85d350c',
      ],
      [
        "m/0'/1'",
        'a320425f77d1b5c2505a6b1b27382b37368ee640e3557c315416801243552f14',
        'b1d0bad404bf35da785a64ca1ac54b2617211d2777696fbffaf208f746ae84f2',
        '001932a5270f335bed617d5b935c80aedb1a35bd9fc1e31acafd5372c30f5c1187',
      ],
      [
        "m/0'/1'/2'",
        '2e69929e00b5ab250f49c3fb1c12f252de4fed2c1db88387094a0f8c4c9ccd6c',
        '92a5b23c0b8a99e37d07df3fb9966917f5d06e02ddbd909c7e184371463e9fc9',
        '00ae98736566d30ed0e9d2f4486a64bc95740d89c7db33f52121f8ea8f76ff0fc1',
      ],
      [
        "m/0'/1'/2'/2'",
        '8f6d87f93d750e0efccda017d662a1b31a266e4a6f5993b15f5c1f07f74dd5cc',
        '30d1dc7e5fc04c31219ab25a27ae00b50f6fd66622f6e9c913253d6511d1e662',
        '008abae2d66361c879b900d204ad2cc4984fa2aa344dd7ddc46007329ac76c429c',
      ],
      [
        "m/0'/1'/2'/2'/1000000000'",
        '68789923a0cac2cd5a29172a475fe9e0fb14cd6adb5ad98a3fa70333e7afa230',
        '8f94d394a8e8fd6b1bc2f3f49f5c47e385281d5c17e65324b0f62483e37e8793',
        '003c24da049451555d51a7014a37337aa4e12d41e485abccfa46b47dfb2af54b7a',
      ],
    ];
    const seed = fromHex('000102030405060708090a0b0c0d0e0f');
    for (const [path, chainCode, privateKey, publicKey] of vector) {
      const k = derivePath(seed, path);
      expect({ path, chainCode: toHex(k.chainCode), privateKey: toHex(k.key) }).toEqual({
        path,
        chainCode,
        privateKey,
      });
      expect('00' + toHex(ed25519.getPublicKey(k.key))).toBe(publicKey);
      expect(toHex(new SigningKey(k.key).publicKey)).toBe(publicKey.slice(2));
    }
  });

  it('paths are hardened only', () => {
    expect(parsePath(DEFAULT_PATH)).toEqual([44, 1, 0, 0, 0]);
    for (const bad of ["m/44'/1'/0'/0/0", "44'/1'", "m/2147483648'", "m/-1'", 'm/x']) {
      expect(codeOf(() => parsePath(bad))).toBe('keystore/bad_path');
    }
  });

  it('the same mnemonic gives the same address twice, whatever its spacing and case; another gives another', () => {
    const words = newMnemonic();
    expect(words.split(' ')).toHaveLength(24);
    const a = keyFromMnemonic(words);
    const b = keyFromMnemonic(`  ${words.toUpperCase().replaceAll(' ', '\n  ')}  `);
    expect(toHex(b.key.publicKey)).toBe(toHex(a.key.publicKey));
    expect(a.derivation).toEqual({ scheme: 'slip10-ed25519', path: DEFAULT_PATH });
    expect(toHex(keyFromMnemonic(newMnemonic()).key.publicKey)).not.toBe(toHex(a.key.publicKey));
    // Into two keyrings, once encrypted and once as a test key: one address.
    const x = createKey(keysDir(), 'k', encrypted('pw'), keyFromMnemonic(words));
    const y = createKey(keysDir(), 'k', TEST_KEYRING, keyFromMnemonic(words));
    expect(x.address).toBe(y.address);
    expect(x.path).toBe(DEFAULT_PATH);
  });

  it('a mnemonic with a wrong checksum or word is keystore/bad_mnemonic', () => {
    const words = newMnemonic().split(' ');
    // A last word whose checksum bits do not match (1 in 256 replacements would still be valid).
    const replacement = wordlist.find((w) => !validateMnemonic([...words.slice(0, -1), w].join(' '), wordlist))!;
    const swapped = [...words.slice(0, -1), replacement].join(' ');
    expect(codeOf(() => keyFromMnemonic(swapped))).toBe('keystore/bad_mnemonic');
    expect(codeOf(() => keyFromMnemonic('not a mnemonic'))).toBe('keystore/bad_mnemonic');
  });
});
