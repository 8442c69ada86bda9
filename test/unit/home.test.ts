import { rmSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { homePaths, parseHostPort } from '../../src/config.ts';
import type { TributaryError } from '../../src/errors.ts';
import { loadGenesis } from '../../src/genesis.ts';
import { initHome } from '../../src/home.ts';
import { createKey, listKeys, loadKey, TEST_KEYRING } from '../../src/keys.ts';
import { openHome } from '../../src/node.ts';
import { LevelKvStore } from '../../src/storage/db.ts';
import { tempHome } from '../helpers/process.ts';
import { codeOfSync as codeOf } from '../helpers/codes.ts';

const homes: string[] = [];
const fresh = () => {
  const h = tempHome('tributary-home-');
  homes.push(h);
  return h;
};
afterEach(() => {
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

describe('home folder', () => {
  it('init writes a genesis whose only validator is the new key, funded, and refuses to run twice', () => {
    const home = fresh();
    const { validator } = initHome(home, { nowMs: 1234, protection: TEST_KEYRING });
    const genesis = loadGenesis(homePaths(home).genesis);
    expect(genesis.validators.map((v) => Buffer.from(v.publicKey).toString('hex'))).toEqual([validator.publicKey]);
    expect(genesis.accounts[0]!.balance).toBeGreaterThan(0n);
    expect(genesis.genesisTimeMs).toBe(1234);
    expect(codeOf(() => initHome(home, { protection: TEST_KEYRING }))).toBe('home/exists');
    expect(statSync(`${homePaths(home).keys}/validator.json`).mode & 0o777).toBe(0o600);
  });

  it('keys: create, list in name order, load; clear codes for duplicates, bad names and missing keys', () => {
    const keys = homePaths(fresh()).keys;
    const b = createKey(keys, 'bob', TEST_KEYRING);
    createKey(keys, 'alice', TEST_KEYRING);
    expect(listKeys(keys).map((k) => k.name)).toEqual(['alice', 'bob']);
    expect(loadKey(keys, 'bob').info).toEqual(b);
    expect(codeOf(() => createKey(keys, 'bob', TEST_KEYRING))).toBe('keys/exists');
    expect(codeOf(() => createKey(keys, '../evil', TEST_KEYRING))).toBe('keys/invalid_name');
    expect(codeOf(() => loadKey(keys, 'carol'))).toBe('keys/not_found');
  });

  it('parses listen addresses', () => {
    expect(parseHostPort('127.0.0.1:8545')).toEqual({ host: '127.0.0.1', port: 8545 });
    expect(parseHostPort(':0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseHostPort('9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(codeOf(() => parseHostPort('host:99999'))).toBe('config/invalid');
  });

  it('a data folder in the retired state layout is refused with its path and a way out', async () => {
    const home = fresh();
    initHome(home, { protection: TEST_KEYRING });
    const db = await LevelKvStore.open(homePaths(home).data);
    await db.batch([{ type: 'put', key: Uint8Array.of(0x13, 0, 0, 0, 0, 0, 0, 0, 0), value: new Uint8Array(33) }]);
    await db.close();
    const error = await openHome(home, { keepVersions: 0 }).then(
      () => undefined,
      (e: unknown) => e as TributaryError,
    );
    expect(error?.code).toBe('state/old_layout');
    expect(error?.message).toContain(homePaths(home).data);
    // The database was closed on the way out: it opens again.
    await (await LevelKvStore.open(homePaths(home).data)).close();
  });
});
