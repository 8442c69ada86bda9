import {
  BlockCodec,
  BlockHeaderCodec,
  BlockReceiptsCodec,
  CommitCodec,
  TxLocationCodec,
  type Block,
  type BlockHeader,
  type BlockReceipts,
  type Commit,
  type TxLocation,
} from '../codec/core.ts';
import { readU64be, sha256, u64be } from '../crypto/hash.ts';
import { Bucket, bucketKey } from './buckets.ts';
import type { BatchOp, KvStore } from './db.ts';

const LATEST_HEIGHT_KEY = bucketKey(Bucket.meta, new TextEncoder().encode('latest_height'));

export function headerHash(header: BlockHeader): Uint8Array {
  return sha256(BlockHeaderCodec.encode(header));
}

export interface StoredBlock {
  block: Block;
  header: BlockHeader;
  hash: Uint8Array;
}

/**
 * Blocks, commit certificates, receipts and the transaction index. The store never writes on its
 * own: `commitOps` returns the records of one block, and the caller writes them in the same
 * atomic batch as the state tree's nodes, so a crash leaves either the whole block or none of it.
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

  commitOps(block: Block, commit: Commit, receipts: BlockReceipts, txHashes: Uint8Array[]): BatchOp[] {
    const header = block.header!;
    const height = u64be(header.height);
    const hash = headerHash(header);
    const ops: BatchOp[] = [
      { type: 'put', key: bucketKey(Bucket.blockByHeight, height), value: BlockCodec.encode(block) },
      { type: 'put', key: bucketKey(Bucket.blockHeightByHash, hash), value: height },
      { type: 'put', key: bucketKey(Bucket.commitByHeight, height), value: CommitCodec.encode(commit) },
      { type: 'put', key: bucketKey(Bucket.receiptsByHeight, height), value: BlockReceiptsCodec.encode(receipts) },
      { type: 'put', key: LATEST_HEIGHT_KEY, value: height },
    ];
    txHashes.forEach((txHash, index) => {
      ops.push({
        type: 'put',
        key: bucketKey(Bucket.txLocation, txHash),
        value: TxLocationCodec.encode({ height: header.height, index }),
      });
    });
    return ops;
  }

  /** Call after the batch holding `commitOps` is on disk. */
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
