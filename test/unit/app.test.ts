import { describe, expect, it } from 'vitest';
import { addressFromPublicKey } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import type { TributaryError } from '../../src/errors.ts';
import { FEE_COLLECTOR } from '../../src/state/bank/keeper.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { Mempool } from '../../src/consensus/mempool.ts';
import { buildTx } from '../../src/state/tx.ts';
import { SignatureVerifier } from '../../src/crypto/verify-pool.ts';
import { SignedTxCodec } from '../../src/codec/core.ts';
import { TestChain } from '../helpers/test-chain.ts';
import { codeOf } from '../helpers/codes.ts';

const alice = SigningKey.generate();
const bob = SigningKey.generate();
const aliceAddr = addressFromPublicKey(alice.publicKey);
const bobAddr = addressFromPublicKey(bob.publicKey);

describe('application: transfers, fees, nonces', () => {
  it('moves value, charges the fee, pays it to the validator, bumps the nonce', async () => {
    const chain = await TestChain.create({ funded: [{ key: alice, balance: 1_000_000n }] });
    const validator = addressFromPublicKey(chain.validator.publicKey);
    const f = await chain.block([chain.sign(alice, transferTx, { to: bobAddr, amount: 250n })]);
    expect(f.receipts[0]!.failed).toBe(false);
    expect(f.receipts[0]!.events[0]!.type).toBe('transfer');
    expect(await chain.balance(aliceAddr)).toBe(1_000_000n - 250n - 1000n);
    expect(await chain.balance(bobAddr)).toBe(250n);
    expect(await chain.balance(validator)).toBe(1000n);
    expect(await chain.balance(FEE_COLLECTOR)).toBe(0n);
    expect(f.endBlockEvents.map((e) => e.type)).toEqual(['fees_distributed']);
  });

  it('a failing message pays its fee and leaves no other trace', async () => {
    const chain = await TestChain.create({ funded: [{ key: alice, balance: 5000n }] });
    const rootBefore = chain.app.stateRoot;
    const r = await chain.run(chain.sign(alice, transferTx, { to: bobAddr, amount: 4500n }));
    expect(r.failed).toBe(true);
    expect(r.error_code).toBe('bank/insufficient_funds');
    expect(r.events).toEqual([]);
    expect(await chain.balance(aliceAddr)).toBe(4000n);
    expect(await chain.balance(bobAddr)).toBe(0n);
    expect(chain.app.stateRoot).not.toEqual(rootBefore);
  });

  it('a block with a stale nonce is invalid for a validator', async () => {
    const chain = await TestChain.create({ funded: [{ key: alice, balance: 1_000_000n }] });
    const tx = chain.sign(alice, transferTx, { to: bobAddr, amount: 1n });
    await chain.block([tx]);
    expect(await codeOf(chain.block([tx]))).toBe('app/invalid_block');
  });

  it('the same blocks give the same state root on two nodes, block by block', async () => {
    const validator = SigningKey.generate();
    const funded = [{ key: alice, balance: 10n ** 24n }];
    const a = await TestChain.create({ funded, validator });
    const b = await TestChain.create({ funded, validator });
    expect(b.app.stateRoot).toEqual(a.app.stateRoot);
    const txs = Array.from({ length: 20 }, (_, i) =>
      a.sign(alice, transferTx, { to: i % 2 ? bobAddr : aliceAddr, amount: BigInt(i + 1) }),
    );
    for (const slice of [txs.slice(0, 10), txs.slice(10)]) {
      const fa = await a.block(slice);
      const fb = await b.block(slice);
      expect(fb.stateRoot).toEqual(fa.stateRoot);
      expect(fb.resultsRoot).toEqual(fa.resultsRoot);
    }
    // and a different history gives a different root
    const c = await TestChain.create({ funded, validator });
    await c.block([txs[0]!, txs[1]!]);
    expect(c.app.stateRoot).not.toEqual(a.app.stateRoot);
  });
});

describe('mempool admission', () => {
  it('with signatures checked on a worker: arrival order is kept and a bad signature is refused with its code', async () => {
    const chain = await TestChain.create({ funded: [{ key: alice, balance: 10n ** 20n }] });
    const verifier = SignatureVerifier.create(1);
    try {
      const pool = new Mempool(chain.app, { maxTxs: 1000, maxBytes: 1 << 20 }, undefined, verifier);
      const txs = Array.from({ length: 200 }, (_, nonce) =>
        buildTx(alice, transferTx, { to: bobAddr, amount: 1n }, { chainId: 'test-chain', nonce, fee: 1000n }),
      );
      const forged = SignedTxCodec.decode(
        buildTx(alice, transferTx, { to: bobAddr, amount: 2n }, { chainId: 'test-chain', nonce: 200, fee: 1000n }),
      );
      forged.signature[0]! ^= 1;
      const results = await Promise.allSettled([...txs, SignedTxCodec.encode(forged)].map((b) => pool.add(b)));
      expect(results.slice(0, 200).every((r) => r.status === 'fulfilled')).toBe(true);
      const last = results[200]!;
      expect(last.status === 'rejected' && (last.reason as TributaryError).code).toBe('tx/bad_signature');
      expect(pool.reap(1000, 1 << 20).map((t) => t.body.nonce)).toEqual(txs.map((_, i) => i));
    } finally {
      await verifier.close();
    }
  });

  it('admits in nonce order only, within the balance, and rejects each bad input with its code', async () => {
    const chain = await TestChain.create({ funded: [{ key: alice, balance: 10_000n }] });
    const pool = new Mempool(chain.app, { maxTxs: 3, maxBytes: 1 << 20 });
    const mk = (nonce: number, amount: bigint, fee = 1000n) =>
      buildTx(alice, transferTx, { to: bobAddr, amount }, { chainId: 'test-chain', nonce, fee });
    // A nonce beyond the future-nonce queue's window (64 ahead) is refused; closer ones wait (mempool-fair.test.ts).
    expect(await codeOf(pool.add(mk(65, 1n)))).toBe('tx/nonce_too_high');
    await pool.add(mk(0, 1n));
    expect(await codeOf(pool.add(mk(0, 1n)))).toBe('mempool/duplicate');
    expect(await codeOf(pool.add(mk(0, 2n)))).toBe('tx/nonce_too_low');
    expect(await codeOf(pool.add(mk(1, 1n, 999n)))).toBe('tx/fee_too_low');
    // 10,000 - (1 + 1000) leaves 8,999: a transfer of 8,000 plus its fee does not fit
    expect(await codeOf(pool.add(mk(1, 8000n)))).toBe('bank/insufficient_funds');
    await pool.add(mk(1, 10n));
    await pool.add(mk(2, 10n));
    expect(await codeOf(pool.add(mk(3, 10n)))).toBe('mempool/full');
    expect(pool.size).toBe(3);
    expect(pool.pendingCount(aliceAddr)).toBe(3);
    expect(pool.reap(2, 1 << 20).map((t) => t.body.nonce)).toEqual([0, 1]);
  });
});
