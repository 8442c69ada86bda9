import { describe, expect, it } from 'vitest';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { parseGenesis } from '../../src/genesis.ts';
import { Mempool, type MempoolLimits } from '../../src/consensus/mempool.ts';
import { openChain } from '../../src/node.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { buildTx } from '../../src/state/tx.ts';
import { MemoryKvStore } from '../../src/storage/db.ts';
import { codeOf } from '../helpers/codes.ts';

const alice = SigningKey.generate();
const carol = SigningKey.generate();
const bob = addressFromPublicKey(SigningKey.generate().publicKey);
const validator = SigningKey.generate();
const genesis = parseGenesis({
  chainId: 'fair-test',
  genesisTimeMs: 1_000,
  validators: [{ publicKey: toHex(validator.publicKey), power: 1 }],
  accounts: [alice, carol].map((k) => ({
    address: formatAddress(addressFromPublicKey(k.publicKey)),
    balance: '1000000000',
  })),
});

const transfer = (key: SigningKey, nonce: number) =>
  buildTx(key, transferTx, { to: bob, amount: 1n }, { chainId: genesis.chainId, nonce, fee: 1000n });

async function mempool(limits: Partial<MempoolLimits>, now?: () => number) {
  const opened = await openChain({ db: new MemoryKvStore(), genesis });
  const pool = new Mempool(opened.app, limits, undefined, undefined, now);
  opened.chain.useCheckStateOwner(pool);
  return pool;
}

describe('a fair mempool that tolerates order', () => {
  it('batches from one sender sent out of order all become pending, in nonce order', async () => {
    const pool = await mempool({});
    const txs = Array.from({ length: 30 }, (_, n) => transfer(alice, n));
    // Three concurrent batches, the last one first.
    const batches = [txs.slice(20), txs.slice(10, 20), txs.slice(0, 10)];
    await Promise.all(batches.map((b) => Promise.all(b.map((t) => pool.add(t)))));
    expect(pool.size).toBe(30);
    expect(pool.queuedSize).toBe(0);
    expect(pool.reap(100, 1 << 20).map((t) => t.body.nonce)).toEqual(Array.from({ length: 30 }, (_, n) => n));
  });

  it('a transaction past a gap is queued (tx status queued) and promoted when the gap fills', async () => {
    const pool = await mempool({});
    const later = await pool.add(transfer(alice, 2));
    expect(pool.isQueued(later.hash)).toBe(true);
    await pool.add(transfer(alice, 1));
    expect(pool.size).toBe(0);
    expect(pool.queuedSize).toBe(2);
    await pool.add(transfer(alice, 0));
    expect(pool.queuedSize).toBe(0);
    expect(pool.reap(10, 1 << 20).map((t) => t.body.nonce)).toEqual([0, 1, 2]);
    // Too far ahead, or a full queue: refused with codes.
    expect(await codeOf(pool.add(transfer(alice, 3 + 65)))).toBe('tx/nonce_too_high');
    const small = await mempool({ maxQueuedPerSender: 2 });
    await small.add(transfer(carol, 1));
    await small.add(transfer(carol, 2));
    expect(await codeOf(small.add(transfer(carol, 2)))).toBe('mempool/duplicate');
    expect(await codeOf(small.add(transfer(carol, 3)))).toBe('tx/nonce_too_high');
  });

  it('one sender cannot fill the mempool: its share is capped in count and bytes', async () => {
    const pool = await mempool({ maxTxsPerSender: 5 });
    for (let n = 0; n < 5; n++) await pool.add(transfer(alice, n));
    expect(await codeOf(pool.add(transfer(alice, 5)))).toBe('mempool/sender_limit');
    // Queued transactions count too.
    const queuedPool = await mempool({ maxTxsPerSender: 3 });
    await queuedPool.add(transfer(alice, 0));
    await queuedPool.add(transfer(alice, 5));
    await queuedPool.add(transfer(alice, 6));
    expect(await codeOf(queuedPool.add(transfer(alice, 1)))).toBe('mempool/sender_limit');
    // Others are still served.
    await pool.add(transfer(carol, 0));
    expect(pool.size).toBe(6);
    const byBytes = await mempool({ maxBytesPerSender: transfer(alice, 0).length + transfer(alice, 1).length });
    await byBytes.add(transfer(alice, 0));
    await byBytes.add(transfer(alice, 1));
    expect(await codeOf(byBytes.add(transfer(alice, 2)))).toBe('mempool/sender_limit');
  });

  it('a queued transaction whose gap never fills is dropped after its time to live', async () => {
    let clock = 0;
    const pool = await mempool({ queuedTtlMs: 1000 }, () => clock);
    await pool.add(transfer(alice, 4));
    expect(pool.queuedSize).toBe(1);
    clock = 5000;
    pool.afterCommit([]);
    await pool.exclusive(async () => undefined);
    expect(pool.queuedSize).toBe(0);
    // Its share is released.
    await pool.add(transfer(alice, 0));
    expect(pool.size).toBe(1);
  });
});
