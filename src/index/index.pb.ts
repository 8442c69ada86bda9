// generated from index.proto by `npm run proto`; do not edit

/** One per committed block, keyed by height. */
export interface IndexedBlock {
  hash: Uint8Array;
  time_ms: number;
  tx_count: number;
}

/**
 * One per transaction (and one for a block's end-of-block events, with no hash, sender or type),
 * keyed by height and position: what the event and sender lookups point at.
 */
export interface IndexedTxRecord {
  tx_hash: Uint8Array;
  sender: Uint8Array;
  tx_type: string;
  failed: boolean;
  /**
   * The canonical tributary.core.Receipt bytes, as the results root hashed them (so writing the
   * index costs no second encoding of the events); for end-of-block events, a Receipt holding
   * only them.
   */
  receipt: Uint8Array;
}

export interface IndexMessages {
  'tributary.index.IndexedBlock': IndexedBlock;
  'tributary.index.IndexedTxRecord': IndexedTxRecord;
}
