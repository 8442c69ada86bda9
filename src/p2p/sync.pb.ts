// generated from sync.proto by `npm run proto`; do not edit

/** The handshake, sent both ways: the requester's in the request, the server's in the response. */
export interface Status {
  chain_id: string;
  /** genesisHash(genesis), 32 bytes */
  genesis_hash: Uint8Array;
  /** latest committed height; 0 before the first block */
  height: number;
  /** header hash at `height`; empty at height 0 */
  head_hash: Uint8Array;
}

export interface BlocksByRangeRequest {
  /** at least 1 */
  start_height: number;
  /** 1 to the server's limit */
  count: number;
}

/**
 * One response per height, in order from start_height; fewer than asked when the server's chain
 * or its byte budget ends first.
 */
export interface BlockWithCommit {
  /** canonical tributary.core.Block */
  block: Uint8Array;
  /** canonical tributary.core.Commit: the certificate that decided it */
  commit: Uint8Array;
}

export interface SyncMessages {
  'tributary.p2p.Status': Status;
  'tributary.p2p.BlocksByRangeRequest': BlocksByRangeRequest;
  'tributary.p2p.BlockWithCommit': BlockWithCommit;
}
