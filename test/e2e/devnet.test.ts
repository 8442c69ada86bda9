import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAddress } from '../../src/crypto/address.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { homePaths } from '../../src/config.ts';
import { loadKey } from '../../src/keys.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { buildTx } from '../../src/state/tx.ts';
import {
  cli,
  cliJson,
  startNodeProcess,
  stopNodeProcess,
  tempHome,
  until,
  type NodeProcess,
} from '../helpers/process.ts';

interface TxView {
  status: string;
  height: number | null;
}
interface BlockView {
  height: number;
  stateRoot: string;
  hash: string;
}

/**
 * The spine end to end, as an operator and a contributor would use it: a real node process,
 * the real CLI, JSON-RPC over HTTP, LevelDB on disk, and a SIGKILL in the middle of a stream.
 */
describe('single-validator devnet as OS processes', () => {
  const home = tempHome();
  let node: NodeProcess | undefined;
  afterAll(async () => {
    if (node) await stopNodeProcess(node, 'SIGKILL');
    rmSync(home, { recursive: true, force: true });
  });

  it('transfers with the CLI and over RPC, survives kill -9, and loses nothing it reported committed', async () => {
    expect(cli(['--home', home, 'init', '--keyring-backend', 'test']).status).toBe(0);
    node = await startNodeProcess(home);
    const rpc = node.rpc;
    const alice = cliJson<{ name: string; address: string; publicKey: string }>([
      '--home',
      home,
      'keys',
      'new',
      'alice',
      '--keyring-backend',
      'test',
    ]);
    const bob = cliJson<{ address: string }>(['--home', home, 'keys', 'new', 'bob', '--keyring-backend', 'test']);
    expect(alice.name).toBe('alice');
    const listed = cliJson<{ name: string }[]>(['--home', home, 'keys', 'list']);
    expect(listed.map((k) => k.name)).toEqual(['alice', 'bob', 'validator']);

    // 1. CLI transfer, waited for.
    const viaCli = cliJson<{ hash: string; height: number; status: string; events: { type: string }[] }>([
      '--home',
      home,
      '--rpc',
      node.url,
      'tx',
      'transfer',
      '--from',
      'validator',
      '--to',
      alice.address,
      '--amount',
      '5000000',
      '--wait',
    ]);
    expect(viaCli.status).toBe('committed');
    expect(viaCli.events.map((e) => e.type)).toEqual(['transfer']);
    const aliceAccount = cliJson<{ balance: string }>([
      '--home',
      home,
      '--rpc',
      node.url,
      'query',
      'account',
      alice.address,
    ]);
    expect(aliceAccount.balance).toBe('5000000');

    // 2. RPC transfer signed here with alice's key, alice -> bob.
    const { key: aliceKey } = loadKey(homePaths(home).keys, 'alice');
    const status = await rpc.call<{ chainId: string; minFee: string }>('chain_status');
    const bytes = buildTx(
      aliceKey,
      transferTx,
      { to: parseAddress(bob.address), amount: 700n },
      {
        chainId: status.chainId,
        nonce: 0,
        fee: BigInt(status.minFee),
      },
    );
    const { hash } = await rpc.call<{ hash: string }>('tx_submit', ['0x' + toHex(bytes)]);
    const committed = await until(async () => {
      const t = await rpc.call<TxView | null>('tx_get', [hash]);
      return t && t.status !== 'pending' ? t : undefined;
    });
    expect(committed.status).toBe('committed');
    const bobAccount = await rpc.call<{ balance: string }>('account_get', [bob.address]);
    expect(bobAccount.balance).toBe('700');
    const supply = (await rpc.call<{ supply: string }>('bank_supply')).supply;

    // 3. Stream transfers validator -> bob, note every one the node reports committed, then SIGKILL.
    const { key: validatorKey } = loadKey(homePaths(home).keys, 'validator');
    let nonce = (
      await rpc.call<{ nonce: number }>('account_nextNonce', [
        cliJson<{ address: string }>(['--home', home, 'keys', 'show', 'validator']).address,
      ])
    ).nonce;
    const submitted: string[] = [];
    const reportedCommitted = new Map<string, number>();
    const streamUntil = Date.now() + 2500;
    while (Date.now() < streamUntil) {
      for (let i = 0; i < 20; i++) {
        const tx = buildTx(
          validatorKey,
          transferTx,
          { to: parseAddress(bob.address), amount: 1n },
          {
            chainId: status.chainId,
            nonce: nonce++,
            fee: BigInt(status.minFee),
          },
        );
        submitted.push((await rpc.call<{ hash: string }>('tx_submit', ['0x' + toHex(tx)])).hash);
      }
      for (const h of submitted.slice(-60)) {
        const t = await rpc.call<TxView | null>('tx_get', [h]);
        if (t && t.status === 'committed') reportedCommitted.set(h, t.height!);
      }
    }
    const lastSeen = await rpc.call<BlockView>('chain_getBlock', ['latest']);
    node.child.kill('SIGKILL'); // mid-stream: the mempool and possibly a block in flight are lost
    await node.exited;
    expect(reportedCommitted.size).toBeGreaterThan(20);

    // 4. Restart: everything reported committed is there, at the same height, with the same roots.
    node = await startNodeProcess(home);
    const rpc2 = node.rpc;
    for (const [h, height] of reportedCommitted) {
      const t = await rpc2.call<TxView | null>('tx_get', [h]);
      expect(t?.status, h).toBe('committed');
      expect(t?.height).toBe(height);
    }
    const again = await rpc2.call<BlockView>('chain_getBlock', [lastSeen.height]);
    expect(again.hash).toBe(lastSeen.hash);
    expect(again.stateRoot).toBe(lastSeen.stateRoot);
    const tip = await rpc2.call<{ height: number }>('chain_status');
    expect(tip.height).toBeGreaterThanOrEqual(lastSeen.height);
    // Supply is the same at every height, before and after the crash.
    for (let h = 0; h <= tip.height; h++) {
      expect((await rpc2.call<{ supply: string }>('bank_supply', [h])).supply).toBe(supply);
    }
    // The node keeps producing blocks and accepting transactions after the restart.
    const fresh = cliJson<{ status: string }>([
      '--home',
      home,
      '--rpc',
      node.url,
      'tx',
      'transfer',
      '--from',
      'alice',
      '--to',
      bob.address,
      '--amount',
      '1',
      '--wait',
    ]);
    expect(fresh.status).toBe('committed');
    await stopNodeProcess(node);
    node = undefined;

    // 5. Replay from genesis re-derives every state root.
    const verify = cliJson<{ ok: boolean; height: number; invariantsBroken: string[] }>(['--home', home, 'verify']);
    expect(verify.invariantsBroken).toEqual([]);
    expect(verify.ok).toBe(true);
    expect(verify.height).toBeGreaterThanOrEqual(tip.height);
  }, 180_000);
});
