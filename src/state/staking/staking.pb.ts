// generated from staking.proto by `npm run proto`; do not edit

export interface UnbondingEntry {
  amount: bigint;
  /** paid back in the end-block hook of this height */
  maturity_height: number;
}

/** Key "staking/stake/" ‖ account (20) ‖ role index (1 byte, STAKE_ROLES order). */
export interface StakeRecord {
  bonded: bigint;
  /** ascending maturity, one entry per maturity height */
  unbonding: UnbondingEntry[];
}

/** Key "staking/mature/" ‖ height (u64 BE): the records holding an entry that matures then. */
export interface MaturityBucket {
  /** sorted by account, then role; unique */
  refs: MaturityRef[];
}

export interface MaturityRef {
  account: Uint8Array;
  role: number;
}

/** Key "staking/totals": bonded stake per role (STAKE_ROLES order) and all unbonding stake. */
export interface StakeTotals {
  bonded: bigint[];
  unbonding: bigint;
}

/**
 * Key "staking/signing/" ‖ validator address (20): liveness and punishment of one validator.
 * Written only when something changes (a missed block, a miss leaving the window, a jailing), so a
 * validator that signs every block costs no write per block.
 */
export interface SigningInfo {
  public_key: Uint8Array;
  /** signedBlocksWindow the bitmap was started with */
  window_size: number;
  /** bit (height mod window_size) set: block `height` was missed */
  missed_bitmap: Uint8Array;
  /** set bits in missed_bitmap */
  missed: number;
  /** the last block whose signature changed this record (0: none) */
  recorded_height: number;
  /** 0: not jailed; otherwise the first height stake/unjail may run */
  jailed_until: number;
  /** power to restore on unjail */
  jailed_power: number;
  /** double-signed: removed for good */
  tombstoned: boolean;
}

/** Transaction "stake/bond": moves `amount` from the sender's balance into its `role` stake. */
export interface MsgBond {
  role: string;
  amount: bigint;
}

/** Transaction "stake/unbond": moves `amount` of bonded stake into an unbonding entry. */
export interface MsgUnbond {
  role: string;
  amount: bigint;
}

/** Transaction "stake/unjail": a jailed validator asks for its power back. */
export interface MsgUnjail {
}

export interface StakingMessages {
  'tributary.staking.UnbondingEntry': UnbondingEntry;
  'tributary.staking.StakeRecord': StakeRecord;
  'tributary.staking.MaturityBucket': MaturityBucket;
  'tributary.staking.MaturityRef': MaturityRef;
  'tributary.staking.StakeTotals': StakeTotals;
  'tributary.staking.SigningInfo': SigningInfo;
  'tributary.staking.MsgBond': MsgBond;
  'tributary.staking.MsgUnbond': MsgUnbond;
  'tributary.staking.MsgUnjail': MsgUnjail;
}
