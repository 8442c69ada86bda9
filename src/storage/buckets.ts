/**
 * Every LevelDB key starts with one bucket byte from this table, so one database holds every kind
 * of record and a block commits them all in one atomic batch. Retired numbers stay here as
 * comments and are never reused: an old database must never be misread.
 */
export const Bucket = {
  /** Chain metadata: last committed height, genesis hash. */
  meta: 0x01,
  // 0x02: retired (height -> whole canonical Block, transactions included). BlockStore.open
  // refuses a database that still has it.
  /** block hash -> height */
  blockHeightByHash: 0x03,
  /** tx hash -> TxLocation (height, index) */
  txLocation: 0x04,
  /** height -> canonical Commit (the commit certificate for that height) */
  commitByHeight: 0x05,
  // 0x06: retired (height -> the block's receipts as one BlockReceipts list, every receipt encoded
  // a second time beside the results root's leaves). BlockStore.open refuses it.
  /**
   * height -> canonical Block bytes without its transactions (header, proposer signature, last
   * commit): what a block costs to read apart from its transactions.
   */
  blockFrameByHeight: 0x07,
  /** height ‖ index (u32 big-endian) -> canonical SignedTx bytes. */
  txByLocation: 0x08,
  /** height ‖ index (u32 big-endian) -> canonical Receipt bytes (a leaf of the results root). */
  receiptByLocation: 0x09,
  /**
   * height -> canonical BlockReceipts holding only the end-of-block events (the results root's
   * last leaf, byte for byte).
   */
  endBlockEventsByHeight: 0x0a,
  // 0x10-0x14: retired (the state tree's first layout: nodes, latest values, stale lists, roots,
  // history, each in its own bucket). StateTree.open refuses a database that still has them.
  /**
   * State tree, everything a version writes, version first: nodes, values, its stale list and its
   * root record (layout in src/state/tree/node.ts). A version's records are contiguous and sort
   * after every older version's.
   */
  treeVersion: 0x15,
  /** State tree: one record, the oldest retained version; absent until pruning first moves it. */
  treeEarliest: 0x16,
  /** State tree: raw key -> empty, for every key present at the latest version (iteration order). */
  treeKeys: 0x17,
  // 0x18-0x1c: the chain index (src/index): query-side records outside the state tree, written in
  // each block's batch and rebuilt from blocks and receipts by `tributary index rebuild`.
  /** Index: height -> IndexedBlock (hash, time, tx count). */
  indexBlock: 0x18,
  /** Index: height ‖ position (u32 tx index; 0xffffffff = end-of-block events) -> IndexedTxRecord. */
  indexTx: 0x19,
  /** Index: event type ‖ height ‖ position -> how many events of that type are there (u32). */
  indexEventType: 0x1a,
  /** Index: event type ‖ field ‖ value ‖ height ‖ position -> how many such events are there (u32). */
  indexEventAttr: 0x1b,
  /** Index: sender address ‖ height ‖ position -> empty. */
  indexTxBySender: 0x1c,
} as const;

/** Every bucket of the chain index: what `tributary index rebuild` drops and recomputes. */
export const INDEX_BUCKETS = [
  Bucket.indexBlock,
  Bucket.indexTx,
  Bucket.indexEventType,
  Bucket.indexEventAttr,
  Bucket.indexTxBySender,
] as const;

/** Buckets of the block store's first layout (whole blocks, receipt lists), no longer written. */
export const RETIRED_BLOCK_BUCKETS = [0x02, 0x06] as const;

/** First and last (inclusive) bucket of the retired state tree layout. */
export const RETIRED_TREE_BUCKETS = [0x10, 0x14] as const;
export type BucketId = (typeof Bucket)[keyof typeof Bucket];

export function bucketKey(bucket: BucketId, ...parts: Uint8Array[]): Uint8Array {
  let len = 1;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  out[0] = bucket;
  let off = 1;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Upper bound (exclusive) for iterating all keys of a bucket. */
export function bucketEnd(bucket: BucketId): Uint8Array {
  return Uint8Array.of(bucket + 1);
}
