// generated from gov.proto by `npm run proto`; do not edit

/**
 * What a proposal does. `kind` selects the fields that must be set; every other field stays at
 * its default (validateBasic checks it), so one content has one encoding.
 * 1 parameter change: params_json
 * 2 validator addition: public_key, power, name
 * 3 validator removal: public_key
 * 4 treasury spend: recipient, amount
 */
export interface Content {
  kind: number;
  title: string;
  /** canonical JSON of a partial ChainParamsJson (a module section's fields are merged over the section in force) */
  params_json: string;
  /** Ed25519, 32 bytes */
  public_key: Uint8Array;
  power: number;
  name: string;
  recipient: Uint8Array;
  amount: bigint;
}

export interface MsgPropose {
  content: Content | undefined;
  initial_deposit: bigint;
}

export interface MsgDeposit {
  proposal_id: number;
  amount: bigint;
}

/** option: 1 yes, 2 no, 3 abstain. A later vote of the same voter replaces the earlier one. */
export interface MsgVote {
  proposal_id: number;
  option: number;
}

/** Key "gov/proposal/" ‖ id (u64 BE). */
export interface Proposal {
  id: number;
  content: Content | undefined;
  proposer: Uint8Array;
  /** see PROPOSAL_STATUS in src/state/gov/records.ts */
  status: number;
  submit_height: number;
  /** last height a deposit is accepted */
  deposit_end_height: number;
  total_deposit: bigint;
  /** first height a vote is accepted (0 until the minimum deposit is in) */
  voting_start_height: number;
  /** last height a vote is accepted; tallied at the end of this block */
  voting_end_height: number;
  /** executed at the end of this block (0 unless passed) */
  execute_height: number;
  /** tally: bonded stake, or validators for validator-set proposals */
  yes: bigint;
  no: bigint;
  abstain: bigint;
  /** what quorum is measured against: totalBonded() or the validator count */
  eligible: bigint;
  /** height of the final status */
  decided_height: number;
  /** executed: the height the change is in force from (execution + 2) */
  effective_height: number;
  /** failed: the coded error of the execution */
  error_code: string;
  error_message: string;
}

export interface DepositEntry {
  depositor: Uint8Array;
  amount: bigint;
}

/**
 * Key "gov/deposits/" ‖ id: the deposits still held for a proposal, by first deposit; deleted
 * when they are refunded or sent to the treasury.
 */
export interface Deposits {
  entries: DepositEntry[];
}

export interface VoteEntry {
  voter: Uint8Array;
  option: number;
}

/** Key "gov/votes/" ‖ id: each voter's latest vote, by first vote. */
export interface Votes {
  entries: VoteEntry[];
}

/** Key "gov/queue/" ‖ height (u64 BE): proposals with a step due at the end of that block, ascending. */
export interface ProposalQueue {
  ids: number[];
}

/** Key "gov/next_id": the id the next proposal gets. */
export interface NextId {
  id: number;
}

export interface GovMessages {
  'tributary.gov.Content': Content;
  'tributary.gov.MsgPropose': MsgPropose;
  'tributary.gov.MsgDeposit': MsgDeposit;
  'tributary.gov.MsgVote': MsgVote;
  'tributary.gov.Proposal': Proposal;
  'tributary.gov.DepositEntry': DepositEntry;
  'tributary.gov.Deposits': Deposits;
  'tributary.gov.VoteEntry': VoteEntry;
  'tributary.gov.Votes': Votes;
  'tributary.gov.ProposalQueue': ProposalQueue;
  'tributary.gov.NextId': NextId;
}
