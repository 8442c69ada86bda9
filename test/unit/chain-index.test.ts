import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inferencePaidEvent } from '../../src/attribution/inference.ts';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { toHex } from '../../src/crypto/hash.ts';
import type { TributaryError } from '../../src/errors.ts';
import type { CommittedBlock } from '../../src/index/committed-block.ts';
import { ChainEventStream } from '../../src/index/stream.ts';
import { feesDistributedEvent, transferEvent, transferTx } from '../../src/state/bank/module.ts';
import type { ChainEvent, EventFilter } from '../../src/state/module.ts';
import { Bucket } from '../../src/storage/buckets.ts';
import { LevelKvStore } from '../../src/storage/db.ts';
import { runSmallEconomy } from '../helpers/small-economy.ts';
import { TestChain } from '../helpers/test-chain.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const place = (e: ChainEvent) => [e.height, e.txIndex, e.eventIndex];

async function indexRecords(chain: TestChain): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const [k, v] of chain.chain.index.records()) out.set(toHex(k), toHex(v));
  return out;
}

describe('chain index', () => {
  it('finds events by type and by attribute, in chain order, with height ranges, cursors and offsets', async () => {
    const [alice, bob, carol] = Array.from({ length: 3 }, () => SigningKey.generate()) as [
      SigningKey,
      SigningKey,
      SigningKey,
    ];
    const chain = await TestChain.create({ funded: [alice, bob].map((key) => ({ key, balance: 10n ** 12n })) });
    const index = chain.chain.index;
    const to = (k: SigningKey) => addressFromPublicKey(k.publicKey);
    // Block 1: alice -> bob, alice -> carol, bob -> carol. Block 2: nothing. Block 3: bob -> carol twice.
    await chain.block([
      chain.sign(alice, transferTx, { to: to(bob), amount: 5n }),
      chain.sign(alice, transferTx, { to: to(carol), amount: 6n }),
      chain.sign(bob, transferTx, { to: to(carol), amount: 7n }),
    ]);
    await chain.block([]);
    const f3 = await chain.block([
      chain.sign(bob, transferTx, { to: to(carol), amount: 8n }),
      chain.sign(bob, transferTx, { to: to(carol), amount: 9n }),
    ]);

    const transfers = (filter: Partial<EventFilter> = {}) =>
      collect(index.events({ type: transferEvent.type, ...filter }));
    const all = await transfers();
    expect(all.map((e) => transferEvent.read(e.event).amount)).toEqual([5n, 6n, 7n, 8n, 9n]);
    expect(all.map(place)).toEqual([
      [1, 0, 0],
      [1, 1, 0],
      [1, 2, 0],
      [3, 0, 0],
      [3, 1, 0],
    ]);
    const last = all[4]!;
    expect(last.txHash).toEqual(f3.txs[1]!.hash);
    expect(last.blockHash).toEqual((await chain.chain.blocks.getBlock(3))!.hash);

    const toCarol = { key: 'to', value: formatAddress(to(carol)) };
    expect((await transfers({ attribute: toCarol })).map((e) => transferEvent.read(e.event).amount)).toEqual([
      6n,
      7n,
      8n,
      9n,
    ]);
    expect((await transfers({ attribute: toCarol, fromHeight: 2 })).map(place)).toEqual([
      [3, 0, 0],
      [3, 1, 0],
    ]);
    expect((await transfers({ attribute: toCarol, toHeight: 2 })).map(place)).toEqual([
      [1, 1, 0],
      [1, 2, 0],
    ]);
    expect((await transfers({ attribute: toCarol, after: all[2]! })).map(place)).toEqual([
      [3, 0, 0],
      [3, 1, 0],
    ]);
    expect((await transfers({ attribute: toCarol, skip: 3 })).map(place)).toEqual([[3, 1, 0]]);
    expect(await transfers({ attribute: { key: 'to', value: formatAddress(to(alice)) } })).toEqual([]);
    await expect(transfers({ attribute: { key: 'amount', value: '5' } })).rejects.toSatisfy(
      (e) => (e as TributaryError).code === 'index/not_indexed',
    );

    // End-of-block events: no transaction.
    const fees = await collect(index.events({ type: feesDistributedEvent.type }));
    expect(fees.map((e) => [e.height, e.txIndex, e.txHash])).toEqual([
      [1, null, null],
      [3, null, null],
    ]);
    expect(fees.map((e) => feesDistributedEvent.read(e.event).height)).toEqual([1, 3]);

    // Transactions by sender.
    const bobs = await collect(index.txsBySender(to(bob)));
    expect(bobs.map((t) => [t.height, t.index, t.type, t.failed])).toEqual([
      [1, 2, 'bank/transfer', false],
      [3, 0, 'bank/transfer', false],
      [3, 1, 'bank/transfer', false],
    ]);
    expect((await collect(index.txsBySender(to(bob), { after: { height: 3, index: 0 } }))).map((t) => t.index)).toEqual(
      [1],
    );
    expect(await collect(index.txsBySender(to(carol)))).toEqual([]);
    expect((await index.txEvents(1, 1)).map((e) => e.event.type)).toEqual(['transfer']);
    expect(await index.indexedHeight()).toBe(3);
  });

  it("the stream delivers every block once, after it is committed, with each event's place", async () => {
    const [alice, bob] = [SigningKey.generate(), SigningKey.generate()];
    const listenerErrors: unknown[] = [];
    const stream = new ChainEventStream({ onListenerError: (e) => listenerErrors.push(e) });
    const chain = await TestChain.create({ funded: [{ key: alice, balance: 10n ** 12n }], events: stream });
    // A failing listener neither fails the commit nor keeps the others from their blocks.
    stream.subscribe(() => {
      throw new Error('listener bug');
    });
    const blocks: CommittedBlock[] = [];
    const events: ChainEvent[] = [];
    const heightsSeenByQueries: number[] = [];
    chain.chain.events.subscribe((b) => {
      blocks.push(b);
      heightsSeenByQueries.push(chain.chain.latestHeight);
    });
    const stop = chain.chain.events.subscribeEvents((e) => events.push(e), { type: transferEvent.type });
    const f1 = await chain.block([
      chain.sign(alice, transferTx, { to: addressFromPublicKey(bob.publicKey), amount: 1n }),
      chain.sign(alice, transferTx, { to: addressFromPublicKey(bob.publicKey), amount: 2n }),
    ]);
    stop();
    await chain.block([chain.sign(alice, transferTx, { to: addressFromPublicKey(bob.publicKey), amount: 3n })]);
    expect(listenerErrors).toHaveLength(2);

    expect(blocks.map((b) => b.header.height)).toEqual([1, 2]);
    expect(heightsSeenByQueries).toEqual([1, 2]);
    expect(blocks[0]!.receipts.map((r) => r.tx_hash)).toEqual(f1.txs.map((t) => t.hash));
    expect(blocks[0]!.endBlockEvents.map((e) => e.type)).toEqual(['fees_distributed']);
    expect(events.map((e) => [e.height, e.txIndex, e.eventIndex, toHex(e.txHash!)])).toEqual([
      [1, 0, 0, toHex(f1.txs[0]!.hash)],
      [1, 1, 0, toHex(f1.txs[1]!.hash)],
    ]);
    expect(events[0]!.blockHash).toEqual(blocks[0]!.hash);
  });

  it('rebuilding from blocks and receipts gives byte-identical index records (LevelDB on disk)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-index-'));
    const db = await LevelKvStore.open(dir);
    try {
      const economy = await runSmallEconomy({ db });
      const chain = economy.chain;
      const written = await indexRecords(chain);
      expect(written.size).toBeGreaterThan(100);
      // Every bucket of the index is populated.
      const buckets = new Set([...written.keys()].map((k) => parseInt(k.slice(0, 2), 16)));
      expect([...buckets].sort()).toEqual([
        Bucket.indexBlock,
        Bucket.indexTx,
        Bucket.indexEventType,
        Bucket.indexEventAttr,
        Bucket.indexTxBySender,
      ]);
      const stateRoot = toHex(chain.app.stateRoot);

      // Damage it: drop some records, add a stray one; the rebuild starts from nothing.
      const damage = db.writeBatch();
      let n = 0;
      for (const k of written.keys()) if (n++ % 7 === 0) damage.del(Buffer.from(k, 'hex'));
      damage.put(Uint8Array.of(Bucket.indexEventAttr, 1, 2, 3), Uint8Array.of(1));
      await damage.write();
      expect(await indexRecords(chain)).not.toEqual(written);

      const result = await chain.chain.index.rebuild(chain.chain.blocks);
      expect(result.height).toBe(chain.app.height);
      expect(await indexRecords(chain)).toEqual(written);
      // The index is not state: the state root never moved.
      expect(toHex(chain.app.stateRoot)).toBe(stateRoot);
      const paid = await collect(chain.chain.index.events({ type: inferencePaidEvent.type }));
      expect(paid.map((e) => inferencePaidEvent.read(e.event).payment_id)).toEqual(economy.payments);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
