import {
  BlockFrameCodec,
  BlockReceiptsCodec,
  CommitCodec,
  ReceiptCodec,
  TxLocationCodec,
  type Block,
  type BlockFrame,
  type BlockHeader,
  type BlockReceipts,
  type Commit,
  type Event,
  type Receipt,
  type TxLocation,
} from '../codec/core.ts';
import { headerHash } from '../codec/protocol.ts';
import { readU64be, u64be, utf8 } from '../crypto/hash.ts';
import { TributaryError } from '../errors.ts';
import { Bucket, RETIRED_BLOCK_BUCKETS, bucketKey, type BucketId } from './buckets.ts';
import type { KvStore, WriteBatch } from './db.ts';

const LATEST_HEIGHT_KEY = bucketKey(Bucket.meta, utf8.encode('latest_height'));
const GENESIS_HASH_KEY = bucketKey(Bucket.meta, utf8.encode('genesis_hash'));

export interface StoredBlock {
  block: Block;
  header: BlockHeader;
  hash: Uint8Array;
}

/** A block without its transactions: `block.txs` may be empty whatever `txCount` says. */
export interface StoredHeader {
  header: BlockHeader;
  hash: Uint8Array;
  txCount: number;
  /** For the proposer signature and last commit; its `txs` are not read. */
  block: Block;
}

/** A block's execution results as stored: each receipt with the canonical bytes it was stored as. */
export interface StoredResults {
  receipts: Receipt[];
  /** `receipts[i]`'s canonical bytes: the results root's leaf, stored as it was hashed. */
  receiptBytes: Uint8Array[];
  endBlockEvents: Event[];
}

/** One committed transaction, read by its location alone. */
export interface StoredTx {
  blockHash: Uint8Array;
  /** Canonical SignedTx bytes. */
  tx: Uint8Array;
  receipt: Receipt;
}

/** What `writeTo` stores of a block's execution: the bytes the results root was computed over. */
export interface BlockResultsBytes {
  /** Each receipt's canonical bytes, in block order. */
  receiptBytes: readonly Uint8Array[];
  /** The end-of-block events as canonical BlockReceipts (the results root's last leaf). */
  endBlockEventsBytes: Uint8Array;
}

/**
 * bucket ‖ u64be(height) ‖ u32be(index), written in place: two records per transaction are keyed
 * so, and the generic bucketKey(u64be, u32be) (three arrays, a BigInt, two DataViews) took 4.3 ms of
 * a 2,100-transaction block's commit. Heights stay below 2^53. Exported for the layout test only.
 */
export function locationKey(bucket: BucketId, height: number, index: number): Uint8Array {
  const key = new Uint8Array(13);
  key[0] = bucket;
  const view = new DataView(key.buffer);
  view.setUint32(1, Math.floor(height / 0x1_0000_0000));
  view.setUint32(5, height >>> 0);
  view.setUint32(9, index);
  return key;
}

/** The keys of records 0 .. count-1 of one height in `bucket`. */
function locationKeys(bucket: BucketId, height: number, count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, index) => locationKey(bucket, height, index));
}

/**
 * Blocks, commit certificates, receipts, the transaction index and the chain's metadata. The store
 * never writes on its own: `writeTo` adds the records of one block to the caller's batch, the same
 * atomic batch as the state tree's version, so a crash leaves either the whole block or none of it.
 *
 * A block is kept as records by location: its frame (the block without its transactions), each
 * transaction and each receipt under (height, index), and the end-of-block events. One transaction
 * with its receipt is then one read of three small records whatever the size of its block, and a
 * whole block or its receipt list is the frame (which counts the transactions) plus one multi-get.
 * Records are decoded without the canonical re-encoding check: this node encoded them itself.
 */
export class BlockStore {
  private readonly db: KvStore;
  private latest = 0;
  private latestStored: StoredBlock | undefined;

  private constructor(db: KvStore) {
    this.db = db;
  }

  /** Refuses (`state/old_layout`) a database written in the block store's first layout. */
  static async open(db: KvStore): Promise<BlockStore> {
    for (const bucket of RETIRED_BLOCK_BUCKETS) {
      for await (const _ of db.range({ gte: Uint8Array.of(bucket), lt: Uint8Array.of(bucket + 1), limit: 1 })) {
        throw new TributaryError(
          'state/old_layout',
          `this database holds blocks in a retired layout (bucket 0x0${bucket.toString(16)}) that this version cannot read`,
          { bucket },
        );
      }
    }
    const store = new BlockStore(db);
    const raw = await db.get(LATEST_HEIGHT_KEY);
    if (raw) {
      store.latest = readU64be(raw);
      store.latestStored = await store.getBlock(store.latest);
    }
    return store;
  }

  /** Height of the last committed block; 0 before the first block. */
  get latestHeight(): number {
    return this.latest;
  }

  get latestBlock(): StoredBlock | undefined {
    return this.latestStored;
  }

  /** Adds the block's records to `batch`: `results.receiptBytes[i]` and `txHashes[i]` belong to `block.txs[i]`. */
  writeTo(
    batch: WriteBatch,
    block: Block,
    commit: Commit,
    results: BlockResultsBytes,
    txHashes: readonly Uint8Array[],
  ): void {
    const header = block.header!;
    const count = block.txs.length;
    if (results.receiptBytes.length !== count || txHashes.length !== count) {
      throw new Error(
        `block ${header.height}: ${count} txs, ${results.receiptBytes.length} receipts, ${txHashes.length} hashes`,
      );
    }
    const height = u64be(header.height);
    batch.put(
      bucketKey(Bucket.blockFrameByHeight, height),
      BlockFrameCodec.encode({ block: { ...block, txs: [] }, tx_count: count }),
    );
    batch.put(bucketKey(Bucket.blockHeightByHash, headerHash(header)), height);
    batch.put(bucketKey(Bucket.commitByHeight, height), CommitCodec.encode(commit));
    batch.put(bucketKey(Bucket.endBlockEventsByHeight, height), results.endBlockEventsBytes);
    batch.put(LATEST_HEIGHT_KEY, height);
    for (let index = 0; index < count; index++) {
      batch.put(locationKey(Bucket.txByLocation, header.height, index), block.txs[index]!);
      batch.put(locationKey(Bucket.receiptByLocation, header.height, index), results.receiptBytes[index]!);
      batch.put(
        bucketKey(Bucket.txLocation, txHashes[index]!),
        TxLocationCodec.encode({ height: header.height, index }),
      );
    }
  }

  /** The hash of the genesis this database was initialised from (absent in older layouts). */
  async getGenesisHash(): Promise<Uint8Array | undefined> {
    return this.db.get(GENESIS_HASH_KEY);
  }

  writeGenesisHash(batch: WriteBatch, hash: Uint8Array): void {
    batch.put(GENESIS_HASH_KEY, hash);
  }

  /** Call after the batch holding `writeTo`'s records is on disk. */
  markCommitted(block: Block): void {
    const header = block.header!;
    this.latest = header.height;
    this.latestStored = { block, header, hash: headerHash(header) };
  }

  /** The whole block: its frame and every transaction (the latest block from memory). */
  async getBlock(height: number): Promise<StoredBlock | undefined> {
    if (!this.isCommitted(height)) return undefined;
    if (height === this.latestStored?.header.height) return this.latestStored;
    const frame = await this.getFrame(height);
    if (!frame) return undefined;
    const txs = await this.db.getMany(locationKeys(Bucket.txByLocation, height, frame.tx_count));
    if (txs.some((tx) => tx === undefined)) return undefined;
    const block = { ...frame.block!, txs: txs as Uint8Array[] };
    return { block, header: block.header!, hash: headerHash(block.header!) };
  }

  async getHeightByHash(hash: Uint8Array): Promise<number | undefined> {
    const raw = await this.db.get(bucketKey(Bucket.blockHeightByHash, hash));
    return raw ? readU64be(raw) : undefined;
  }

  async getCommit(height: number): Promise<Commit | undefined> {
    const raw = await this.db.get(bucketKey(Bucket.commitByHeight, u64be(height)));
    return raw ? CommitCodec.decode(raw) : undefined;
  }

  /** Every receipt of the block, with the bytes each was stored (and hashed into the results root) as. */
  async getResults(height: number): Promise<StoredResults | undefined> {
    if (!this.isCommitted(height)) return undefined;
    const count =
      height === this.latestStored?.header.height
        ? this.latestStored.block.txs.length
        : (await this.getFrame(height))?.tx_count;
    if (count === undefined) return undefined;
    const [endBlock, ...receiptBytes] = await this.db.getMany([
      bucketKey(Bucket.endBlockEventsByHeight, u64be(height)),
      ...locationKeys(Bucket.receiptByLocation, height, count),
    ]);
    if (!endBlock || receiptBytes.some((r) => r === undefined)) return undefined;
    const stored = receiptBytes as Uint8Array[];
    return {
      receipts: stored.map((r) => ReceiptCodec.decodeStored(r)),
      receiptBytes: stored,
      endBlockEvents: BlockReceiptsCodec.decodeStored(endBlock).end_block_events,
    };
  }

  /** The block's receipts and end-of-block events, in the shape of one BlockReceipts message. */
  async getReceipts(height: number): Promise<BlockReceipts | undefined> {
    const results = await this.getResults(height);
    return results && { receipts: results.receipts, end_block_events: results.endBlockEvents };
  }

  async getTxLocation(txHash: Uint8Array): Promise<TxLocation | undefined> {
    const raw = await this.db.get(bucketKey(Bucket.txLocation, txHash));
    if (!raw) return undefined;
    // A block's records reach the disk before it is marked committed (the commit waits for the
    // mempool's lock after the write): until then its transactions are not found here either.
    const location = TxLocationCodec.decode(raw);
    return this.isCommitted(location.height) ? location : undefined;
  }

  /**
   * One transaction, its receipt and its block's hash, by location: one read of three small
   * records (the block's frame only for its hash, none at the tip), never the rest of the block.
   */
  async getTxAt(location: TxLocation): Promise<StoredTx | undefined> {
    const { height, index } = location;
    if (!this.isCommitted(height)) return undefined;
    const tip = height === this.latestStored?.header.height ? this.latestStored : undefined;
    const [tx, receipt, frame] = await this.db.getMany([
      locationKey(Bucket.txByLocation, height, index),
      locationKey(Bucket.receiptByLocation, height, index),
      ...(tip ? [] : [bucketKey(Bucket.blockFrameByHeight, u64be(height))]),
    ]);
    const blockHash = tip ? tip.hash : frame && headerHash(BlockFrameCodec.decodeStored(frame).block!.header!);
    if (!tx || !receipt || !blockHash) return undefined;
    return { blockHash, tx, receipt: ReceiptCodec.decodeStored(receipt) };
  }

  /** A block's header, hash, transaction count and last commit, without reading its transactions. */
  async getHeader(height: number): Promise<StoredHeader | undefined> {
    if (!this.isCommitted(height)) return undefined;
    const tip = height === this.latestStored?.header.height ? this.latestStored : undefined;
    if (tip) return { header: tip.header, hash: tip.hash, txCount: tip.block.txs.length, block: tip.block };
    const frame = await this.getFrame(height);
    if (!frame) return undefined;
    const block = frame.block!;
    return { header: block.header!, hash: headerHash(block.header!), txCount: frame.tx_count, block };
  }

  /** The block without its transactions, and how many it has. */
  private async getFrame(height: number): Promise<BlockFrame | undefined> {
    const raw = await this.db.get(bucketKey(Bucket.blockFrameByHeight, u64be(height)));
    return raw && BlockFrameCodec.decodeStored(raw);
  }

  private isCommitted(height: number): boolean {
    return Number.isSafeInteger(height) && height >= 1 && height <= this.latest;
  }
}
