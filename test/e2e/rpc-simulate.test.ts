import { rmSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignedTxCodec } from '../../src/codec/core.ts';
import { DEFAULT_CONFIG, homePaths, type NodeConfig } from '../../src/config.ts';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { initHome } from '../../src/home.ts';
import { loadKey, TEST_KEYRING } from '../../src/keys.ts';
import { startNode, type RunningNode } from '../../src/node.ts';
import { RpcClient } from '../../src/rpc/client.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { buildTx } from '../../src/state/tx.ts';
import { codeOf } from '../helpers/codes.ts';
import { tempHome, until } from '../helpers/process.ts';

interface SimulationView {
  ok: boolean;
  requiredFee: string;
  declaredFee: string;
  chargedFee: string;
  events: { type: string; attributes: Record<string, string> }[];
  error: { code: string; message: string } | null;
}

/** `tx_simulate` over a real HTTP server on a running node: the fee to sign with, and nothing admitted. */
describe('JSON-RPC tx_simulate', () => {
  const home = tempHome('tributary-rpc-simulate-');
  let node: RunningNode;
  let rpc: RpcClient;
  let validator: SigningKey;
  let chainId: string;
  let minFee: bigint;
  const bob = addressFromPublicKey(SigningKey.generate().publicKey);
  const hex = (b: Uint8Array) => '0x' + toHex(b);
  const transfer = (o: { nonce?: number; fee?: bigint; chainId?: string; amount?: bigint } = {}) =>
    buildTx(
      validator,
      transferTx,
      { to: bob, amount: o.amount ?? 5n },
      { chainId: o.chainId ?? chainId, nonce: o.nonce ?? 0, fee: o.fee ?? 0n },
    );
  const simulate = (bytes: Uint8Array) => rpc.call<SimulationView>('tx_simulate', [hex(bytes)]);
  const observed = async () => {
    const status = await rpc.call<{ mempool: { size: number }; stateRoot: string; height: number }>('chain_status');
    const nonce = await rpc.call<{ nonce: number }>('account_nextNonce', [
      formatAddress(addressFromPublicKey(validator.publicKey)),
    ]);
    return {
      mempool: status.mempool.size,
      nonce: nonce.nonce,
      // The balance, not the whole account view: that carries the height, which moves every block.
      bob: (await rpc.call<{ balance: string }>('account_get', [formatAddress(bob)])).balance,
    };
  };

  beforeAll(async () => {
    initHome(home, { protection: TEST_KEYRING });
    validator = loadKey(homePaths(home).keys, 'validator').key;
    const config: NodeConfig = { ...DEFAULT_CONFIG, rpc: { ...DEFAULT_CONFIG.rpc, port: 0 }, blockIntervalMs: 100 };
    node = await startNode(home, config, pino({ level: 'silent' }));
    rpc = new RpcClient(`http://127.0.0.1:${node.rpcAddress.port}`);
    chainId = node.chain.app.chainId;
    minFee = node.chain.app.params.minFee;
  });
  afterAll(async () => {
    await node.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('answers the fee a transfer needs, with its events, for a transaction declaring fee 0 and not signed', async () => {
    const before = await observed();
    const signed = transfer();
    const sim = await simulate(signed);
    expect(sim).toMatchObject({ ok: true, requiredFee: String(minFee), declaredFee: '0', error: null });
    expect(sim.events.length).toBeGreaterThan(0);
    // The signature is not what a simulation checks: zeroed, the answer is the same.
    const unsigned = SignedTxCodec.encode({ ...SignedTxCodec.decode(signed), signature: new Uint8Array(64) });
    expect(await simulate(unsigned)).toEqual(sim);
    // Nothing was admitted, nothing committed.
    expect(await observed()).toEqual(before);

    // Signed with the fee it named, the same transfer is admitted and commits.
    const { hash } = await rpc.call<{ hash: string }>('tx_submit', [hex(transfer({ fee: BigInt(sim.requiredFee) }))]);
    await until(
      async () => (await rpc.call<{ status: string } | null>('tx_get', [hash]))?.status === 'committed' || undefined,
    );
  });

  it('reports why a transaction would fail in its result, and refuses bytes that are no transaction with a code', async () => {
    // Nonce 0 is used by now: the result says so with the code a submission would get.
    await until(async () => ((await observed()).nonce >= 1 ? true : undefined));
    const stale = await simulate(transfer({ nonce: 0 }));
    expect(stale.ok).toBe(false);
    expect(stale.error?.code).toBe('tx/nonce_too_low');
    const overdrawn = await simulate(transfer({ nonce: 1, amount: 10n ** 30n }));
    expect(overdrawn).toMatchObject({ ok: false, events: [] });
    expect(overdrawn.error?.code).toBe('bank/insufficient_funds');

    expect(await codeOf(rpc.call('tx_simulate', ['0xdeadbeef']))).toBe('tx/malformed');
    expect(await codeOf(simulate(transfer({ nonce: 1, chainId: 'another-chain' })))).toBe('tx/wrong_chain_id');
    expect(await codeOf(rpc.call('tx_simulate', []))).toBe('rpc/invalid_params');
    expect((await observed()).mempool).toBe(0);
  });
});
