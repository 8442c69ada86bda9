// generated from chainconfig.proto by `npm run proto`; do not edit

export interface ValidatorRecord {
  /** Ed25519, 32 bytes; the address is derived from it */
  public_key: Uint8Array;
  power: number;
  name: string;
}

export interface ValidatorSetRecord {
  /** sorted by address, no duplicates, power > 0 */
  validators: ValidatorRecord[];
}

export interface ScheduledValidatorSet {
  from_height: number;
  set: ValidatorSetRecord | undefined;
}

/**
 * Key "chainconfig/validators". Entries sorted by from_height; the first is in force, later ones are
 * scheduled. The module's begin-block hook drops an entry once a later one is in force.
 */
export interface ValidatorSchedule {
  entries: ScheduledValidatorSet[];
}

export interface ParamsRecord {
  min_fee: bigint;
  max_tx_bytes: number;
  max_block_txs: number;
  max_block_bytes: number;
  block_interval_ms: number;
  /**
   * Module sections as canonical JSON (keys sorted, no whitespace); each module parses and
   * validates its own section (src/state/params.ts).
   */
  modules_json: string;
  /** How far a proposed header's time may be ahead of a validator's clock for it to prevote. */
  max_clock_drift_ms: number;
}

export interface ScheduledParams {
  from_height: number;
  params: ParamsRecord | undefined;
}

/** Key "chainconfig/params", laid out like the validator schedule. */
export interface ParamsSchedule {
  entries: ScheduledParams[];
}

export interface ChainconfigMessages {
  'tributary.chainconfig.ValidatorRecord': ValidatorRecord;
  'tributary.chainconfig.ValidatorSetRecord': ValidatorSetRecord;
  'tributary.chainconfig.ScheduledValidatorSet': ScheduledValidatorSet;
  'tributary.chainconfig.ValidatorSchedule': ValidatorSchedule;
  'tributary.chainconfig.ParamsRecord': ParamsRecord;
  'tributary.chainconfig.ScheduledParams': ScheduledParams;
  'tributary.chainconfig.ParamsSchedule': ParamsSchedule;
}
