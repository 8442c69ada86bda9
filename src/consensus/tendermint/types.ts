/*
 * Inputs and outputs of the Tendermint state machine ("The latest gossip on BFT consensus",
 * Buchman, Kwon, Milosevic, arXiv 1807.04938). The machine is pure: the driver turns network
 * messages, timer expiries and the application's answers into inputs, and carries out the outputs
 * (send, arm a timer, fetch a value, commit a block). Signatures are the driver's business: an
 * input here is already authenticated as coming from its `proposer` / `validator`.
 */

/** A proposed value: the hash of a block. Compared by bytes (the machine keys it by hex). */
export type Value = Uint8Array;

/** A member of the height's validator set; `Validator` from the state records fits this shape. */
export interface ValidatorInfo {
  /** 20 bytes (see crypto/address.ts). */
  readonly address: Uint8Array;
  /** Positive safe integer; the set's total must stay a safe integer. */
  readonly power: number;
}

export type VoteType = 'prevote' | 'precommit';
export type RoundStep = 'propose' | 'prevote' | 'precommit';

/** Calls `ValidatorSet.proposer(height, round).address` in the node; any pure function in tests. */
export type ProposerFn = (height: number, round: number) => Uint8Array;

/**
 * Timeouts grow linearly with the round so that, after GST, some round is long enough for every
 * honest message to arrive: duration = min(base + round * deltaMs, maxMs), all integers.
 */
export interface TimeoutConfig {
  readonly proposeMs: number;
  readonly prevoteMs: number;
  readonly precommitMs: number;
  readonly deltaMs: number;
  readonly maxMs: number;
}

// ---- Inputs ----

/** PROPOSAL(h, r, v, polRound) from `proposer`; `valid` is the application's processProposal verdict. */
export interface ProposalInput {
  readonly kind: 'proposal';
  readonly height: number;
  readonly round: number;
  /** The proof-of-lock round of the proposed value, -1 for none (the paper's validRound). */
  readonly polRound: number;
  readonly valueId: Value;
  readonly valid: boolean;
  readonly proposer: Uint8Array;
}

/** PREVOTE / PRECOMMIT(h, r, id(v) or nil) from `validator`. */
export interface VoteInput {
  readonly kind: 'vote';
  readonly type: VoteType;
  readonly height: number;
  readonly round: number;
  /** null is nil. */
  readonly valueId: Value | null;
  readonly validator: Uint8Array;
}

/** A timer armed by a `schedule_timeout` output has expired. */
export interface TimeoutInput {
  readonly kind: 'timeout';
  readonly step: RoundStep;
  readonly height: number;
  readonly round: number;
}

/** Start (or move to) a height with its validator set: runs StartRound(0). */
export interface StartHeightInput {
  readonly kind: 'start_height';
  readonly height: number;
  readonly validators: readonly ValidatorInfo[];
}

/** The answer to `get_value`: the block this node proposes (already built, so valid). */
export interface ProposalValueInput {
  readonly kind: 'proposal_value';
  readonly height: number;
  readonly round: number;
  readonly valueId: Value;
}

export type Input = ProposalInput | VoteInput | TimeoutInput | StartHeightInput | ProposalValueInput;

// ---- Outputs ----

/** Sign and gossip our proposal (the machine has already counted it for itself). */
export interface BroadcastProposalOutput {
  readonly kind: 'broadcast_proposal';
  readonly height: number;
  readonly round: number;
  readonly polRound: number;
  readonly valueId: Value;
}

/** Sign and gossip our vote (the machine has already counted it for itself). */
export interface BroadcastVoteOutput {
  readonly kind: 'broadcast_vote';
  readonly type: VoteType;
  readonly height: number;
  readonly round: number;
  readonly valueId: Value | null;
}

/** Arm a timer; on expiry feed back `{kind: 'timeout', step, height, round}`. */
export interface ScheduleTimeoutOutput {
  readonly kind: 'schedule_timeout';
  readonly step: RoundStep;
  readonly height: number;
  readonly round: number;
  readonly durationMs: number;
}

/** We propose in this round and hold no valid value: build a block and answer with `proposal_value`. */
export interface GetValueOutput {
  readonly kind: 'get_value';
  readonly height: number;
  readonly round: number;
}

/**
 * The height is decided: `valueId` got precommits of more than 2/3 of the power in `round`.
 * `commit` lists those precommitters sorted by address, so the driver can assemble the
 * certificate from the signatures it holds.
 */
export interface DecideOutput {
  readonly kind: 'decide';
  readonly height: number;
  readonly round: number;
  readonly valueId: Value;
  readonly commit: readonly Uint8Array[];
}

/** Two different votes by one validator for one height, round and type: evidence to report. */
export interface EquivocationOutput {
  readonly kind: 'equivocation';
  readonly validator: Uint8Array;
  readonly type: VoteType;
  readonly height: number;
  readonly round: number;
  readonly first: Value | null;
  readonly second: Value | null;
}

export type Output =
  | BroadcastProposalOutput
  | BroadcastVoteOutput
  | ScheduleTimeoutOutput
  | GetValueOutput
  | DecideOutput
  | EquivocationOutput;
