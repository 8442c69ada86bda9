import {
  BlockCodec,
  BlockReceiptsCodec,
  CommitCodec,
  TxLocationCodec,
  type Block,
  type BlockHeader,
  type BlockReceipts,
  type Commit,
  type TxLocation,
} from '../codec/core.ts';
import { headerHash } from '../codec/protocol.ts';
import { readU64be, u64be, utf8 } from '../crypto/hash.ts';
import { Bucket, bucketKey } from './buckets.ts';
import type { KvStore, WriteBatch } from './db.ts';

const LATEST_HEIGHT_KEY = bucketKey(Bucket.meta, utf8.encode('latest_height'));
const GENESIS_HASH_KEY = bucketKey(Bucket.meta, utf8.encode('genesis_hash'));

export interface StoredBlock {
  block: Block;
  header: BlockHeader;
  hash: Uint8Array;
}

/**
 * Blocks, commit certificates, receipts, the transaction index and the chain's metadata. The store
 * never writes on its own: `writeTo` adds the records of one block to the caller's batch, the same
 * atomic batch as the state tree's version, so a crash leaves either the whole block or none of it.
 */
export class BlockStore {
  private readonly db: KvStore;
  private latest = 0;
  private latestStored: StoredBlock | undefined;

  private constructor(db: KvStore) {
    this.db = db;
  }

  static async open(db: KvStore): Promise<BlockStore> {
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

  writeTo(
    batch: WriteBatch,
    block: Block,
    commit: Commit,
    receipts: BlockReceipts,
    txHashes: readonly Uint8Array[],
  ): void {
    const header = block.header!;
    const height = u64be(header.height);
    batch.put(bucketKey(Bucket.blockByHeight, height), BlockCodec.encode(block));
    batch.put(bucketKey(Bucket.blockHeightByHash, headerHash(header)), height);
    batch.put(bucketKey(Bucket.commitByHeight, height), CommitCodec.encode(commit));
    batch.put(bucketKey(Bucket.receiptsByHeight, height), BlockReceiptsCodec.encode(receipts));
    batch.put(LATEST_HEIGHT_KEY, height);
    txHashes.forEach((txHash, index) => {
      batch.put(bucketKey(Bucket.txLocation, txHash), TxLocationCodec.encode({ height: header.height, index }));
    });
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

  async getBlock(height: number): Promise<StoredBlock | undefined> {
    if (!Number.isSafeInteger(height) || height < 1 || height > this.latest) return undefined;
    if (height === this.latestStored?.header.height) return this.latestStored;
    const raw = await this.db.get(bucketKey(Bucket.blockByHeight, u64be(height)));
    if (!raw) return undefined;
    const block = BlockCodec.decode(raw);
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

  async getReceipts(height: number): Promise<BlockReceipts | undefined> {
    const raw = await this.db.get(bucketKey(Bucket.receiptsByHeight, u64be(height)));
    return raw ? BlockReceiptsCodec.decode(raw) : undefined;
  }

  async getTxLocation(txHash: Uint8Array): Promise<TxLocation | undefined> {
    const raw = await this.db.get(bucketKey(Bucket.txLocation, txHash));
    return raw ? TxLocationCodec.decode(raw) : undefined;
  }
}
