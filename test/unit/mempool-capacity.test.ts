import { describe, expect, it } from 'vitest';
import { addressFromPublicKey } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { Mempool } from '../../src/consensus/mempool.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { buildTx } from '../../src/state/tx.ts';
import { TestChain } from '../helpers/test-chain.ts';
import { codeOf } from '../helpers/codes.ts';
import { isTributaryError } from '../../src/errors.ts';

const senders = Array.from({ length: 4 }, () => SigningKey.generate());
const bob = addressFromPublicKey(SigningKey.generate().publicKey);

function transfers(perSender: number, chainId: string): Uint8Array[] {
  return senders.flatMap((k) =>
    Array.from({ length: perSender }, (_, nonce) =>
      buildTx(k, transferTx, { to: bob, amount: 1n }, { chainId, nonce, fee: 1000n }),
    ),
  );
}

describe('mempool back-pressure: the pool holds only what one recheck gets through in its budget', () => {
  it('caps pending at the measured recheck budget (never below minCapacity), refusing the rest with mempool/full before any decoding', async () => {
    const chain = await TestChain.create({ funded: senders.map((key) => ({ key, balance: 10_000_000n })) });
    // A 1 ms budget is below 256 checks at any real cost per check: the cap is the 256 floor.
    const pool = new Mempool(chain.app, { maxTxs: 10_000, maxBytes: 1 << 26, recheckBudgetMs: 1, minCapacity: 256 });
    expect(pool.capacity).toBe(10_000); // nothing measured yet
    const txs = transfers(100, chain.genesis.chainId);
    const outcomes = await Promise.all(
      txs.map((t) =>
        pool.add(t).then(
          () => 'ok',
          (e: unknown) => e,
        ),
      ),
    );
    const admitted = outcomes.filter((o) => o === 'ok').length;
    const refusals = outcomes.filter((o) => o !== 'ok');
    expect(pool.capacity).toBe(256);
    expect(admitted).toBe(256);
    expect(pool.size).toBe(256);
    expect(refusals).toHaveLength(400 - 256);
    for (const e of refusals) {
      expect(isTributaryError(e) && e.code).toBe('mempool/full');
      expect(isTributaryError(e) && e.data).toEqual({ pending: 256, max: 256 });
    }
    // Refused before decoding: bytes that are not a transaction at all get the same answer.
    expect(await codeOf(pool.add(new Uint8Array([1, 2, 3])))).toBe('mempool/full');
  });

  it('without a budget (0) only maxTxs caps the pool', async () => {
    const chain = await TestChain.create({ funded: senders.map((key) => ({ key, balance: 10_000_000n })) });
    const pool = new Mempool(chain.app, { maxTxs: 10_000, maxBytes: 1 << 26, recheckBudgetMs: 0 });
    await Promise.all(transfers(100, chain.genesis.chainId).map((t) => pool.add(t)));
    expect(pool.size).toBe(400);
    expect(pool.capacity).toBe(10_000);
  });

  it('a generous budget admits everything a block interval can recheck', async () => {
    const chain = await TestChain.create({ funded: senders.map((key) => ({ key, balance: 10_000_000n })) });
    // 60 s of recheck at any plausible cost per check is far above 400 transactions.
    const pool = new Mempool(chain.app, { maxTxs: 10_000, maxBytes: 1 << 26, recheckBudgetMs: 60_000 });
    await Promise.all(transfers(100, chain.genesis.chainId).map((t) => pool.add(t)));
    expect(pool.size).toBe(400);
    expect(pool.capacity).toBeGreaterThan(400);
  });
});
