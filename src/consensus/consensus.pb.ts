// generated from consensus.proto by `npm run proto`; do not edit

/**
 * PROPOSAL(height, round, block, polRound) of the paper. The block itself travels by hash: the
 * receiver fetches it with BlockByHashRequest (a block may be 16 MiB, a gossip message 1 MiB).
 */
export interface Proposal {
  chain_id: string;
  height: number;
  round: number;
  /**
   * The proof-of-lock round plus one: 0 is the paper's -1 (no proof of lock), n + 1 is round n.
   * The canonical codec has no negative numbers, and a shifted count keeps 0 as the default.
   */
  pol_round_plus_one: number;
  /** header hash of the proposed block, 32 bytes */
  block_hash: Uint8Array;
}

/** Signed by the round's scheduled proposer over proposalSignBytes (domain-separated). */
export interface SignedProposal {
  /** canonical Proposal bytes */
  proposal: Uint8Array;
  /** Ed25519, 64 bytes */
  signature: Uint8Array;
}

/**
 * A prevote or precommit: the canonical tributary.core.Vote bytes and the signature over
 * voteSignBytes of the same fields; `validator` names the signer (20-byte address).
 */
export interface SignedVote {
  vote: Uint8Array;
  validator: Uint8Array;
  signature: Uint8Array;
}

/**
 * Gossip envelopes. `resend` is not signed and means nothing: a node that re-broadcasts its own
 * message (to a peer that reconnected, or when a round stalls) bumps it, because gossipsub drops
 * bytes it has seen in the last two minutes.
 */
export interface ProposalMessage {
  proposal: SignedProposal | undefined;
  resend: number;
}

export interface VoteMessage {
  vote: SignedVote | undefined;
  resend: number;
}

/** Two signed votes of one validator for the same height, round and type but different blocks. */
export interface Evidence {
  first: SignedVote | undefined;
  second: SignedVote | undefined;
}

/** Request/response: the block a proposal names. The response is the canonical tributary.core.Block. */
export interface BlockByHashRequest {
  height: number;
  block_hash: Uint8Array;
}

/**
 * One record of the write-ahead log of a height, appended (and fsync'd) before the engine acts
 * on it. kind: 1 a proposal received or sent (proposal, block, valid), 2 a vote received or sent
 * (vote), 3 a timeout that fired (timeout_step, round), 4 the block this node built to propose
 * (block, round).
 */
export interface WalRecord {
  kind: number;
  proposal: SignedProposal | undefined;
  /** canonical tributary.core.Block */
  block: Uint8Array;
  /** the verdict given to the machine for that proposal */
  valid: boolean;
  vote: SignedVote | undefined;
  /** 1 propose, 2 prevote, 3 precommit */
  timeout_step: number;
  round: number;
}

/**
 * The tx topic's payload: transactions admitted by the sender's mempool, batched for up to a few
 * milliseconds (one gossip message per transaction costs more than verifying it).
 */
export interface TxBatch {
  /** canonical SignedTx bytes */
  txs: Uint8Array[];
}

export interface ConsensusMessages {
  'tributary.consensus.Proposal': Proposal;
  'tributary.consensus.SignedProposal': SignedProposal;
  'tributary.consensus.SignedVote': SignedVote;
  'tributary.consensus.ProposalMessage': ProposalMessage;
  'tributary.consensus.VoteMessage': VoteMessage;
  'tributary.consensus.Evidence': Evidence;
  'tributary.consensus.BlockByHashRequest': BlockByHashRequest;
  'tributary.consensus.WalRecord': WalRecord;
  'tributary.consensus.TxBatch': TxBatch;
}
