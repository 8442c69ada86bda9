// generated from evidence.proto by `npm run proto`; do not edit

export interface MsgSubmitEvidence {
  /** who signed both votes */
  validator: Uint8Array;
  /** canonical tributary.core.Vote */
  first_vote: Uint8Array;
  /** over voteSignBytes of first_vote */
  first_signature: Uint8Array;
  /** same chain, height, round and type; another block hash */
  second_vote: Uint8Array;
  second_signature: Uint8Array;
}

/** Key "evidence/" ‖ validator (20) ‖ height (u64 BE) ‖ round (u32 BE) ‖ vote type (1 byte). */
export interface EvidenceRecord {
  height: number;
  round: number;
  vote_type: number;
  /** height of the block that recorded it */
  included_at: number;
  first_block_hash: Uint8Array;
  second_block_hash: Uint8Array;
}

export interface EvidenceMessages {
  'tributary.evidence.MsgSubmitEvidence': MsgSubmitEvidence;
  'tributary.evidence.EvidenceRecord': EvidenceRecord;
}
