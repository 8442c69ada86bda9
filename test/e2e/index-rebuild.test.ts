import { rmSync } from 'node:fs';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, homePaths, type NodeConfig } from '../../src/config.ts';
import { addressFromPublicKey } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { initHome } from '../../src/home.ts';
import { loadKey, TEST_KEYRING } from '../../src/keys.ts';
import { openHome, startNode } from '../../src/node.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { buildTx } from '../../src/state/tx.ts';
import { cliJson, tempHome, until } from '../helpers/process.ts';

async function records(index: { records(): AsyncIterable<[Uint8Array, Uint8Array]> }): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, v] of index.records()) out.push(`${toHex(k)}=${toHex(v)}`);
  return out;
}

/** `tributary index rebuild` on a real node's data folder, with the node stopped. */
describe('index rebuild command', () => {
  const home = tempHome('tributary-index-');
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('recomputes the index byte for byte from the stored blocks and leaves the state alone', async () => {
    initHome(home, { protection: TEST_KEYRING });
    const validator = loadKey(homePaths(home).keys, 'validator').key;
    const config: NodeConfig = { ...DEFAULT_CONFIG, rpc: { ...DEFAULT_CONFIG.rpc, port: 0 }, blockIntervalMs: 50 };
    const node = await startNode(home, config, pino({ level: 'silent' }));
    const chainId = node.chain.app.chainId;
    const bob = addressFromPublicKey(SigningKey.generate().publicKey);
    for (let nonce = 0; nonce < 3; nonce++)
      await node.mempool.add(
        buildTx(validator, transferTx, { to: bob, amount: 10n + BigInt(nonce) }, { chainId, nonce, fee: 1000n }),
      );
    await until(async () => (node.mempool.size === 0 && node.chain.latestHeight >= 3) || undefined);
    await node.stop();

    const before = await openHome(home, { keepVersions: 0 });
    const written = await records(before.chain.index);
    const height = before.chain.latestHeight;
    const stateRoot = toHex(before.app.stateRoot);
    await before.db.close();
    expect(written.length).toBeGreaterThan(height);

    const out = cliJson<{ height: number; records: number }>(['--home', home, 'index', 'rebuild']);
    expect(out).toEqual({ height, records: written.length });

    const after = await openHome(home, { keepVersions: 0 });
    try {
      expect(await records(after.chain.index)).toEqual(written);
      expect(toHex(after.app.stateRoot)).toBe(stateRoot);
    } finally {
      await after.db.close();
    }
  });
});
