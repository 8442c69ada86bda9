// generated from attribution.proto by `npm run proto`; do not edit

export interface IdList {
  ids: number[];
}

/** State: "datanet/d/" ‖ id. */
export interface Datanet {
  id: number;
  owner: Uint8Array;
  name: string;
  metadata_hash: Uint8Array;
  licence: string;
  /** sorted, unique */
  curators: Uint8Array[];
  min_stake: bigint;
  /** blocks between acceptance and vesting */
  challenge_window: number;
  /** number of accepted contributions (the leaf count) */
  version: number;
  /** Merkle root over accepted contributions */
  contributions_root: Uint8Array;
  /** entry i: root of a complete subtree of 2^i leaves, or empty */
  frontier: Uint8Array[];
  accepted_size: number;
  /** contributions submitted (any status) */
  submitted: number;
  created_height: number;
}

/** State: "datanet/c/" ‖ id. */
export interface Contribution {
  id: number;
  datanet_id: number;
  contributor: Uint8Array;
  content_hash: Uint8Array;
  size: number;
  uri: string;
  stake: bigint;
  /** 1 pending, 2 accepted, 3 rejected, 4 struck (an upheld dispute) */
  status: number;
  submitted_height: number;
  reviewed_height: number;
  reviewer: Uint8Array;
  /** position in the datanet's accumulator (accepted only) */
  leaf_index: number;
  /** reviewed_height + challenge_window (accepted only) */
  vest_height: number;
  /** stake returned and locked rewards released */
  vested: boolean;
  /** all rewards ever credited to this contribution */
  earned: bigint;
  /** credited before vesting, held in the rewards pool */
  locked: bigint;
  /** payments that credited this contribution */
  paid_count: number;
  /** the open dispute against it (vesting waits), 0 for none */
  dispute_id: number;
}

/**
 * State: "datanet/ec/" ‖ datanet id and "datanet/ep/" ‖ contributor address: what contributions
 * were credited in the current reward epoch (anti-sybil caps); replaced when the epoch changes.
 */
export interface EpochCredit {
  epoch: number;
  credited: bigint;
}

/** The accumulator leaf of an accepted contribution. */
export interface ContributionLeaf {
  datanet_id: number;
  contribution_id: number;
  content_hash: Uint8Array;
  size: number;
  contributor: Uint8Array;
}

export interface MsgCreateDatanet {
  name: string;
  metadata_hash: Uint8Array;
  licence: string;
  curators: Uint8Array[];
  min_stake: bigint;
  challenge_window: number;
}

export interface MsgContribute {
  datanet_id: number;
  content_hash: Uint8Array;
  size: number;
  uri: string;
  stake: bigint;
}

export interface MsgReview {
  contribution_id: number;
  accept: boolean;
}

/** State: "model/f/" ‖ id. */
export interface ModelFamily {
  id: number;
  owner: Uint8Array;
  name: string;
  metadata_hash: Uint8Array;
  versions: number;
  created_height: number;
}

/** kind: 1 model version, 2 datanet. */
export interface ParentEdge {
  kind: number;
  id: number;
  share_bps: number;
}

/** State: "model/v/" ‖ id. Immutable once published. */
export interface ModelVersion {
  id: number;
  family_id: number;
  owner: Uint8Array;
  weights_hash: Uint8Array;
  config_hash: Uint8Array;
  recipe_hash: Uint8Array;
  /** 1 base, 2 finetune, 3 adapter, 4 merge, 5 quantize, 6 distill */
  relation: number;
  /** sorted by (kind, id) */
  parents: ParentEdge[];
  height: number;
  /** 1, 2, ... within the family */
  family_seq: number;
}

/** State: "model/anc/" ‖ id. Every ancestor of a version, both sorted ascending. */
export interface AncestorSet {
  models: number[];
  datanets: number[];
}

/** State: "model/u/" ‖ id. */
export interface ModelUsage {
  paid_count: number;
  paid_amount: bigint;
}

export interface MsgRegisterModel {
  name: string;
  metadata_hash: Uint8Array;
}

export interface MsgPublishModel {
  family_id: number;
  weights_hash: Uint8Array;
  config_hash: Uint8Array;
  recipe_hash: Uint8Array;
  relation: number;
  parents: ParentEdge[];
}

/** kind: 1 contribution, 2 datanet. */
export interface Weight {
  kind: number;
  id: number;
  bps: number;
}

/** State: "attribution/r/" ‖ id. */
export interface AttributionRecord {
  id: number;
  author: Uint8Array;
  model_version_id: number;
  /** empty: for the model version; set: for one payment */
  request_hash: Uint8Array;
  /** 1 declared, 2 infini-gram, 3 TRAK, 4 influence, 5 Data Shapley */
  method: number;
  weights_hash: Uint8Array;
  index_root: Uint8Array;
  output_hash: Uint8Array;
  seed: Uint8Array;
  /** sorted by (kind, id), summing to 10,000 */
  weights: Weight[];
  height: number;
  /** payment-scoped records: the payment that used it */
  used_by_payment: number;
}

export interface MsgRecordAttribution {
  model_version_id: number;
  request_hash: Uint8Array;
  method: number;
  weights_hash: Uint8Array;
  index_root: Uint8Array;
  output_hash: Uint8Array;
  seed: Uint8Array;
  weights: Weight[];
}

export interface MsgPay {
  model_version_id: number;
  amount: bigint;
  request_hash: Uint8Array;
  response_hash: Uint8Array;
  agent_id: number;
  attribution_id: number;
}

/** State: "rewards/a/" ‖ address. Earned amounts by source are totals ever credited. */
export interface Earnings {
  claimable: bigint;
  contributed: bigint;
  refined: bigint;
  executed: bigint;
  curated: bigint;
  claimed: bigint;
  /** payments that credited it as model owner, agent or curator */
  payments: number;
  /** contribution credits: one per contribution per payment */
  contributor_payments: number;
}

export interface MsgClaim {
  /** 0: the sender's own rewards */
  agent_id: number;
}

/** State: "agent/g/" ‖ id. */
export interface Agent {
  id: number;
  owner: Uint8Array;
  name: string;
  /** Ed25519 public keys, sorted, unique */
  controllers: Uint8Array[];
  model_version_id: number;
  fee_bps: number;
  /** per epoch */
  spend_limit: bigint;
  stake: bigint;
  account: Uint8Array;
  epoch: number;
  spent_in_epoch: bigint;
  actions: number;
  last_action_hash: Uint8Array;
  payments_made: number;
  /** payments that named this agent (its fee) */
  payments_executed: number;
  height: number;
}

/**
 * Not stored: the preimage of an action's hash (`action_hash` empty), whose fields are the
 * `agent_acted` event's plus the block height and tx hash. The agent record keeps the last hash.
 */
export interface AgentAction {
  agent_id: number;
  seq: number;
  kind: string;
  model_version_id: number;
  input_hash: Uint8Array;
  output_hash: Uint8Array;
  prev_action_hash: Uint8Array;
  payment_id: number;
  height: number;
  tx_hash: Uint8Array;
  /** hash of this record with action_hash empty */
  action_hash: Uint8Array;
}

export interface MsgRegisterAgent {
  name: string;
  controllers: Uint8Array[];
  model_version_id: number;
  fee_bps: number;
  spend_limit: bigint;
  stake: bigint;
}

export interface ActPayment {
  amount: bigint;
  request_hash: Uint8Array;
  response_hash: Uint8Array;
  attribution_id: number;
}

export interface MsgAct {
  agent_id: number;
  kind: string;
  model_version_id: number;
  input_hash: Uint8Array;
  output_hash: Uint8Array;
  prev_action_hash: Uint8Array;
  payment: ActPayment | undefined;
}

/** State: "dispute/d/" ‖ id. */
export interface Dispute {
  id: number;
  /** 1 contribution, 2 model_version, 3 attribution_record, 4 agent_action */
  target_kind: number;
  target_id: number;
  /** see dispute/keys.ts DisputeReason */
  reason: number;
  challenger: Uint8Array;
  evidence_hash: Uint8Array;
  bond: bigint;
  /** the target's owner when the dispute opened */
  respondent: Uint8Array;
  /** empty until answered */
  response_hash: Uint8Array;
  counter_bond: bigint;
  /** 1 open, 2 upheld, 3 rejected */
  status: number;
  opened_height: number;
  responded_height: number;
  /** resolved at the end of this block */
  resolve_height: number;
  /** contribution disputes: the datanet whose reviewers vote */
  datanet_id: number;
  votes_uphold: number;
  votes_reject: number;
  /** rewards held in the dispute escrow while open (model versions) */
  held: bigint;
  /** stake taken on resolution (staking role stake + contribution stake) */
  slashed: bigint;
  /** held or locked rewards taken from the target on resolution */
  clawed_back: bigint;
  /** everything the winner received beyond their own bond */
  to_winner: bigint;
  to_treasury: bigint;
  /** respondent's bonded stake in the target's role at opening */
  stake_at_open: bigint;
  /** agent actions: the action's seq (target_id is the agent) */
  target_seq: number;
}

export interface MsgOpenDispute {
  target_kind: number;
  target_id: number;
  reason: number;
  evidence_hash: Uint8Array;
  bond: bigint;
  /** agent actions only: the action's seq (target_id: the agent) */
  target_seq: number;
}

export interface MsgRespondDispute {
  dispute_id: number;
  evidence_hash: Uint8Array;
  counter_bond: bigint;
}

export interface MsgVoteDispute {
  dispute_id: number;
  uphold: boolean;
}

export interface AttributionMessages {
  'tributary.attribution.IdList': IdList;
  'tributary.attribution.Datanet': Datanet;
  'tributary.attribution.Contribution': Contribution;
  'tributary.attribution.EpochCredit': EpochCredit;
  'tributary.attribution.ContributionLeaf': ContributionLeaf;
  'tributary.attribution.MsgCreateDatanet': MsgCreateDatanet;
  'tributary.attribution.MsgContribute': MsgContribute;
  'tributary.attribution.MsgReview': MsgReview;
  'tributary.attribution.ModelFamily': ModelFamily;
  'tributary.attribution.ParentEdge': ParentEdge;
  'tributary.attribution.ModelVersion': ModelVersion;
  'tributary.attribution.AncestorSet': AncestorSet;
  'tributary.attribution.ModelUsage': ModelUsage;
  'tributary.attribution.MsgRegisterModel': MsgRegisterModel;
  'tributary.attribution.MsgPublishModel': MsgPublishModel;
  'tributary.attribution.Weight': Weight;
  'tributary.attribution.AttributionRecord': AttributionRecord;
  'tributary.attribution.MsgRecordAttribution': MsgRecordAttribution;
  'tributary.attribution.MsgPay': MsgPay;
  'tributary.attribution.Earnings': Earnings;
  'tributary.attribution.MsgClaim': MsgClaim;
  'tributary.attribution.Agent': Agent;
  'tributary.attribution.AgentAction': AgentAction;
  'tributary.attribution.MsgRegisterAgent': MsgRegisterAgent;
  'tributary.attribution.ActPayment': ActPayment;
  'tributary.attribution.MsgAct': MsgAct;
  'tributary.attribution.Dispute': Dispute;
  'tributary.attribution.MsgOpenDispute': MsgOpenDispute;
  'tributary.attribution.MsgRespondDispute': MsgRespondDispute;
  'tributary.attribution.MsgVoteDispute': MsgVoteDispute;
}
