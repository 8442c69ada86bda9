import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { parseGenesis } from '../../src/genesis.ts';
import { openChain, startProducer } from '../../src/node.ts';
import { readAccount } from '../../src/state/bank/keeper.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { buildTx } from '../../src/state/tx.ts';
import { MemoryKvStore } from '../../src/storage/db.ts';

const validator = SigningKey.generate();
const senders = Array.from({ length: 50 }, () => SigningKey.generate());
const bob = addressFromPublicKey(SigningKey.generate().publicKey);

describe('the mempool owns the check state; its recheck after a commit yields', () => {
  it('the next proposal and commit run while the recheck is still going, and every transaction commits in nonce order', async () => {
    const genesis = parseGenesis({
      chainId: 'recheck-test',
      genesisTimeMs: 1_000,
      validators: [{ publicKey: toHex(validator.publicKey), power: 1 }],
      accounts: senders.map((k) => ({
        address: formatAddress(addressFromPublicKey(k.publicKey)),
        balance: '100000000',
      })),
      params: { maxBlockTxs: 200 },
    });
    const opened = await openChain({ db: new MemoryKvStore(), genesis });
    let clock = 10_000;
    const { mempool, engine } = await startProducer(opened, {
      key: validator,
      signerPath: join(mkdtempSync(join(tmpdir(), 'tributary-recheck-')), 'signer-state.json'),
      mempool: { maxTxs: 10_000, maxBytes: 1 << 26, recheckBudgetMs: 0 },
      intervalMs: 1000,
      now: () => (clock += 1000),
    });
    const perSender = 40;
    const txs = senders.flatMap((k) =>
      Array.from({ length: perSender }, (_, nonce) =>
        buildTx(k, transferTx, { to: bob, amount: 1n }, { chainId: genesis.chainId, nonce, fee: 1000n }),
      ),
    );
    await Promise.all(txs.map((t) => mempool.add(t)));
    expect(mempool.size).toBe(2000);

    await engine.produceBlock();
    // The commit returned with the recheck of 1800 transactions still ahead of it...
    expect(mempool.recheckRemaining).toBeGreaterThan(1000);
    // ...and the event loop turns (a timer fires) while it runs.
    let timerRanDuringRecheck = false;
    await new Promise<void>((resolve) =>
      setImmediate(() => {
        timerRanDuringRecheck = mempool.recheckRemaining > 0;
        resolve();
      }),
    );
    expect(timerRanDuringRecheck).toBe(true);
    // A proposal and its commit need not wait for the recheck either.
    const second = await engine.produceBlock();
    expect(second.block.txs.length).toBe(200);
    // A sender's next transaction, admitted while rechecks run, lands after its pending ones.
    const late = buildTx(
      senders[0]!,
      transferTx,
      { to: bob, amount: 1n },
      { chainId: genesis.chainId, nonce: perSender, fee: 1000n },
    );
    await mempool.add(late);
    while (mempool.size > 0) await engine.produceBlock();
    const state = opened.app.queryContext(opened.chain).state;
    expect((await readAccount(state, bob)).balance).toBe(BigInt(txs.length + 1));
    expect((await readAccount(state, addressFromPublicKey(senders[0]!.publicKey))).nonce).toBe(perSender + 1);
    for (const k of senders.slice(1))
      expect((await readAccount(state, addressFromPublicKey(k.publicKey))).nonce).toBe(perSender);
  });
});

describe('the check-state lock', () => {
  it('a commit takes the lock ahead of queued admissions, which keep their order', async () => {
    const genesis = parseGenesis({
      chainId: 'lock-test',
      genesisTimeMs: 1_000,
      validators: [{ publicKey: toHex(validator.publicKey), power: 1 }],
      accounts: [],
    });
    const opened = await openChain({ db: new MemoryKvStore(), genesis });
    const { mempool } = await startProducer(opened, {
      key: validator,
      signerPath: join(mkdtempSync(join(tmpdir(), 'tributary-lock-')), 'signer-state.json'),
      mempool: {},
      intervalMs: 1000,
    });
    const order: string[] = [];
    const step = (name: string) => async () => {
      order.push(name);
      await new Promise((r) => setImmediate(r));
    };
    const all = [mempool.exclusive(step('holder'))];
    for (let i = 0; i < 1000; i++) all.push(mempool.exclusive(step(`admit-${i}`)));
    all.push(mempool.exclusiveFirst(step('commit')));
    await Promise.all(all);
    expect(order.slice(0, 3)).toEqual(['holder', 'commit', 'admit-0']);
    expect(order.slice(2)).toEqual(Array.from({ length: 1000 }, (_, i) => `admit-${i}`));
    // A holder that throws synchronously still releases the lock.
    await expect(
      mempool.exclusive(() => {
        throw new Error('sync throw');
      }),
    ).rejects.toThrow('sync throw');
    expect(await mempool.exclusive(async () => 'next')).toBe('next');
  });
});
