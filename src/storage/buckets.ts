/**
 * Every LevelDB key starts with one bucket byte from this table, so one database holds every kind
 * of record and a block commits them all in one atomic batch. Retired numbers stay here as
 * comments and are never reused: an old database must never be misread.
 */
export const Bucket = {
  /** Chain metadata: last committed height, genesis hash, schema version. */
  meta: 0x01,
  /** height (8-byte big-endian) -> canonical Block bytes */
  blockByHeight: 0x02,
  /** block hash -> height */
  blockHeightByHash: 0x03,
  /** tx hash -> TxLocation (height, index) */
  txLocation: 0x04,
  /** height -> canonical Commit (the commit certificate for that height) */
  commitByHeight: 0x05,
  /** height -> receipts of that block, canonical bytes */
  receiptsByHeight: 0x06,
  /** State tree: node records (owned by src/state/tree). */
  treeNode: 0x10,
  /** State tree: latest value per key, for fast reads and ordered iteration at the tip. */
  treeLatest: 0x11,
  /** State tree: stale-node index, for pruning. */
  treeStale: 0x12,
  /** State tree: version -> root. */
  treeRoot: 0x13,
  /** State tree: key history for reads at old versions. */
  treeHistory: 0x14,
} as const;
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
