import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockCodec, type Block } from '../../src/codec/core.ts';
import { hex0x } from '../../src/codec/json.ts';
import { headerHash } from '../../src/codec/protocol.ts';
import { Mempool } from '../../src/consensus/mempool.ts';
import { addressFromPublicKey } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { toHex, u32be, u64be } from '../../src/crypto/hash.ts';
import type { TributaryError } from '../../src/errors.ts';
import { openChain } from '../../src/node.ts';
import { buildMethodTable } from '../../src/rpc/methods.ts';
import { blockView, eventView, receiptView, txBodyView } from '../../src/rpc/views.ts';
import { endBlockEventsLeaf, resultsRoot, type FinalizedBlock } from '../../src/state/app.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { Bucket, bucketKey } from '../../src/storage/buckets.ts';
import { locationKey } from '../../src/storage/block-store.ts';
import {
  LevelKvStore,
  MemoryKvStore,
  type BatchOp,
  type KvStore,
  type RangeOptions,
  type WriteBatch,
} from '../../src/storage/db.ts';
import { TestChain } from '../helpers/test-chain.ts';

/**
 * A real store underneath, with every read counted and every written batch recorded: what the
 * block store asks of the database is then a measured fact, not a timing.
 */
class CountingStore implements KvStore {
  keysRead = 0;
  bytesRead = 0;
  rangeReads = 0;
  readonly batches: BatchOp[][] = [];

  private readonly inner: KvStore;

  constructor(inner: KvStore) {
    this.inner = inner;
  }

  reset(): void {
    this.keysRead = 0;
    this.bytesRead = 0;
    this.rangeReads = 0;
  }

  private count(value: Uint8Array | undefined): void {
    this.keysRead++;
    this.bytesRead += value?.length ?? 0;
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const value = await this.inner.get(key);
    this.count(value);
    return value;
  }

  async getMany(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    const values = await this.inner.getMany(keys);
    for (const v of values) this.count(v);
    return values;
  }

  batch(ops: BatchOp[], opts?: { sync?: boolean }): Promise<void> {
    this.batches.push(ops.slice());
    return this.inner.batch(ops, opts);
  }

  writeBatch(): WriteBatch {
    const inner = this.inner.writeBatch();
    const ops: BatchOp[] = [];
    return {
      put: (key, value) => {
        ops.push({ type: 'put', key: key.slice(), value: value.slice() });
        inner.put(key, value);
      },
      del: (key) => {
        ops.push({ type: 'del', key: key.slice() });
        inner.del(key);
      },
      get length() {
        return inner.length;
      },
      write: async (opts) => {
        await inner.write(opts);
        this.batches.push(ops);
      },
    };
  }

  async *range(opts: RangeOptions): AsyncIterable<[Uint8Array, Uint8Array]> {
    this.rangeReads++;
    for await (const entry of this.inner.range(opts)) {
      this.count(entry[1]);
      yield entry;
    }
  }

  fault(): string | undefined {
    return this.inner.fault();
  }

  recover(): Promise<boolean> {
    return this.inner.recover();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

const BIG = 3_000;
const SENDERS = 300;

describe('block store: records by location', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-blockstore-'));
  let level: LevelKvStore;
  let store: CountingStore;
  let t: TestChain;
  let bigBlock: Block;
  let bigFinalized: FinalizedBlock;
  let failedIndex: number;
  const call = (name: string, params: Record<string, unknown>) =>
    buildMethodTable(t.app.registry.queries)
      .get(name)!
      .handler({ chain: t.chain, mempool: new Mempool(t.app) }, params);

  beforeAll(async () => {
    level = await LevelKvStore.open(join(dir, 'data'));
    store = new CountingStore(level);
    const senders = Array.from({ length: SENDERS }, () => SigningKey.generate());
    const poor = SigningKey.generate();
    t = await TestChain.create({
      db: store,
      funded: [...senders.map((key) => ({ key, balance: 10n ** 18n })), { key: poor, balance: 100_000n }],
      params: { maxBlockTxs: BIG + 1 },
    });
    const to = addressFromPublicKey(SigningKey.generate().publicKey);
    await t.block([t.sign(senders[0]!, transferTx, { to, amount: 1n })]);
    const txs = Array.from({ length: BIG }, (_, i) =>
      t.sign(senders[i % SENDERS]!, transferTx, { to, amount: 1n + BigInt(i) }),
    );
    // One transaction that fails inside the block (its receipt records the code).
    failedIndex = 1234;
    txs.splice(failedIndex, 0, t.sign(poor, transferTx, { to, amount: 10n ** 12n }));
    store.batches.length = 0;
    bigFinalized = await t.block(txs);
    bigBlock = (await t.chain.blocks.getBlock(2))!.block;
    // Another block on top: the big one is no longer the tip the store keeps in memory.
    await t.block([t.sign(senders[1]!, transferTx, { to, amount: 2n })]);
  }, 120_000);

  afterAll(async () => {
    await level.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tx_get in a block of 3,001 transactions reads one transaction, one receipt and the block frame, nothing else', async () => {
    expect(bigFinalized.receipts[failedIndex]!.failed).toBe(true);
    const blockHash = headerHash(bigBlock.header!);
    for (const index of [0, failedIndex, BIG]) {
      const decoded = bigFinalized.txs[index]!;
      store.reset();
      const out = await call('tx_get', { hash: decoded.hash });
      // The location, then tx, receipt and frame in one getMany; no range read over the block.
      expect(store.rangeReads).toBe(0);
      expect(store.keysRead).toBe(4);
      expect(store.bytesRead).toBeLessThan(2_000);
      // Exactly what the whole-block read answered: the views of the executed block's records.
      const receipt = bigFinalized.receipts[index]!;
      expect(out).toEqual({
        hash: hex0x(decoded.hash),
        status: receipt.failed ? 'failed' : 'committed',
        height: 2,
        index,
        blockHash: hex0x(blockHash),
        tx: txBodyView(t.app.decodeTx(decoded.bytes, false)),
        receipt: receiptView(receipt),
      });
    }
    // The whole block is far larger than what was read.
    expect(BlockCodec.encode(bigBlock).length).toBeGreaterThan(300_000);
  });

  it('tx_get at the tip takes the block hash from memory: two records read', async () => {
    const tip = (await t.chain.blocks.getBlock(3))!;
    store.reset();
    const out = (await call('tx_get', { hash: t.app.decodeTx(tip.block.txs[0]!).hash })) as Record<string, unknown>;
    expect(store.rangeReads).toBe(0);
    expect(store.keysRead).toBe(3);
    expect(out.blockHash).toBe(hex0x(tip.hash));
  });

  it('a whole block and its results are rebuilt from the same records, byte for byte, and the results root still holds', async () => {
    const stored = (await t.chain.blocks.getBlock(2))!;
    const committed: Block = { ...bigBlock, txs: bigFinalized.txs.map((d) => d.bytes) };
    expect(toHex(BlockCodec.encode(stored.block))).toBe(toHex(BlockCodec.encode(committed)));
    const results = (await t.chain.blocks.getResults(2))!;
    expect(results.receiptBytes.map(toHex)).toEqual(bigFinalized.receiptBytes.map(toHex));
    expect(results.endBlockEvents).toEqual(bigFinalized.endBlockEvents);
    const root = resultsRoot(results.receiptBytes, endBlockEventsLeaf(results.endBlockEvents));
    expect(toHex(root)).toBe(toHex(stored.header.results_root));
    expect(toHex(root)).toBe(toHex(bigFinalized.resultsRoot));

    const decoded = committed.txs.map((b) => t.app.decodeTx(b, false));
    expect(await call('chain_getBlock', { block: { height: 2 }, full: true })).toEqual(
      blockView({ block: committed, header: committed.header!, hash: stored.hash }, decoded),
    );
    expect(await call('chain_getBlock', { block: { height: 2 } })).toEqual(
      blockView({ block: committed, header: committed.header!, hash: stored.hash }, undefined),
    );
    expect(await call('chain_getBlockResults', { block: { height: 2 } })).toEqual({
      height: 2,
      receipts: bigFinalized.receipts.map(receiptView),
      endBlockEvents: bigFinalized.endBlockEvents.map(eventView),
    });
  });

  it("every transaction's bytes, receipt and location are in the block's one batch, and no receipt list", () => {
    const batch = store.batches.find((ops) =>
      ops.some((op) => op.type === 'put' && op.key[0] === Bucket.blockFrameByHeight),
    )!;
    const putKeys = new Set(batch.filter((op) => op.type === 'put').map((op) => toHex(op.key)));
    for (let index = 0; index <= BIG; index++) {
      const at = new Uint8Array(4);
      new DataView(at.buffer).setUint32(0, index);
      expect(putKeys.has(toHex(bucketKey(Bucket.txByLocation, u64be(2), at)))).toBe(true);
      expect(putKeys.has(toHex(bucketKey(Bucket.receiptByLocation, u64be(2), at)))).toBe(true);
      expect(putKeys.has(toHex(bucketKey(Bucket.txLocation, bigFinalized.txs[index]!.hash)))).toBe(true);
    }
    expect(putKeys.has(toHex(bucketKey(Bucket.endBlockEventsByHeight, u64be(2))))).toBe(true);
    // The state tree's version lands in the same batch.
    expect(batch.some((op) => op.key[0] === Bucket.treeVersion)).toBe(true);
    // Nothing in the retired buckets: receipts are stored once, as the results root's leaves.
    expect(batch.some((op) => op.key[0] === 0x02 || op.key[0] === 0x06)).toBe(false);
  });

  it('the index rebuilt from these records is byte-identical, and a replay verifies every block', async () => {
    const records = async (): Promise<string[]> => {
      const out: string[] = [];
      for await (const [k, v] of t.chain.index.records()) out.push(`${toHex(k)}=${toHex(v)}`);
      return out;
    };
    await t.chain.index.idle();
    const written = await records();
    await t.chain.index.rebuild(t.chain.blocks);
    expect(await records()).toEqual(written);

    const replay = await openChain({ db: new MemoryKvStore(), genesis: t.genesis, registry: t.app.registry });
    for (let h = 1; h <= t.chain.latestHeight; h++) {
      await replay.chain.importBlock((await t.chain.blocks.getBlock(h))!.block, (await t.chain.blocks.getCommit(h))!);
    }
    expect(toHex(replay.app.stateRoot)).toBe(toHex(t.app.stateRoot));
  }, 60_000);
});

describe('block store: location keys', () => {
  it('are bucket ‖ u64be(height) ‖ u32be(index), the layout on disk, up to the largest safe height', () => {
    for (const height of [0, 1, 255, 256, 0xffff_ffff, 0x1_0000_0000, 0x1_2345_6789, Number.MAX_SAFE_INTEGER]) {
      for (const index of [0, 1, 0xff, 0x1_0000, 0xffff_ffff]) {
        expect(toHex(locationKey(Bucket.txByLocation, height, index))).toBe(
          toHex(bucketKey(Bucket.txByLocation, u64be(height), u32be(index))),
        );
      }
    }
  });
});

describe('block store: older layouts', () => {
  for (const [name, bucket] of [
    ['whole blocks (0x02)', 0x02],
    ['receipt lists (0x06)', 0x06],
  ] as const) {
    it(`refuses a database holding ${name} with state/old_layout`, async () => {
      const db = new MemoryKvStore();
      const t = await TestChain.create({ funded: [], db });
      await t.block([]);
      await db.batch([{ type: 'put', key: Uint8Array.of(bucket, ...u64be(1)), value: Uint8Array.of(1) }]);
      const error = await openChain({ db, genesis: t.genesis }).then(
        () => undefined,
        (e: unknown) => e as TributaryError,
      );
      expect(error?.code).toBe('state/old_layout');
    });
  }
});
