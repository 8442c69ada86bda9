// generated from index.proto by `npm run proto`; do not edit

/** One per committed block, keyed by height. */
export interface IndexedBlock {
  hash: Uint8Array;
  time_ms: number;
  tx_count: number;
}

export interface IndexedAttribute {
  key: string;
  value: string;
}

/** The wire shape of tributary.core.Event. */
export interface IndexedEvent {
  type: string;
  attributes: IndexedAttribute[];
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
  events: IndexedEvent[];
}

export interface IndexMessages {
  'tributary.index.IndexedBlock': IndexedBlock;
  'tributary.index.IndexedAttribute': IndexedAttribute;
  'tributary.index.IndexedEvent': IndexedEvent;
  'tributary.index.IndexedTxRecord': IndexedTxRecord;
}
