import type { Address } from '../crypto/address.ts';
import { expectKeeper, type TxContext } from '../state/module.ts';
import type { PaymentOutcome, PaymentRequest } from './inference/txs.ts';
import type { LineageDatanet } from './split.ts';
import type { Agent, AttributionRecord, LegRole } from './store.ts';

/*
 * What the AI-economy modules need from one another (Cosmos `expected_keepers`): each an interface
 * and a slot, declared by the consumer, implemented by the provider's keeper, bound in the module
 * list (src/modules.ts). A module changes another module's records only through these; reading
 * another module's records needs no keeper (reads are not guarded).
 */

/** Earnings records (rewards), buffered so each address is read and written once. */
export interface EarningsLedger {
  credit(
    address: Address,
    role: Exclude<LegRole, 'validated' | 'treasury'>,
    amount: bigint,
    claimable: boolean,
  ): Promise<void>;
  countPayments(address: Address, payments: number, contributorPayments: number): Promise<void>;
  /** Moves an amount that was locked on a contribution (already in the pool) to claimable. */
  release(address: Address, amount: bigint): Promise<void>;
  /** Writes every touched record, in address order. */
  flush(): void;
}

export interface EarningsBooks {
  book(): EarningsLedger;
}

/** Used by datanet (vesting releases locked rewards) and inference (the block's payment credits). */
export const EARNINGS = expectKeeper<EarningsBooks>('earnings');

/** The anti-sybil caps in force for a block's contribution credits (datanet parameters). */
export interface EpochCaps {
  epoch: number;
  /** 0n: no cap. */
  datanetEpochCap: bigint;
  /** 0: no cap. */
  contributorCapPerStakeBps: number;
}

/** Contribution records (datanet): what a block's payments credited to each contribution. */
export interface ContributionCredits {
  /**
   * Adds earnings (locked while the contribution is inside its challenge window), up to the
   * epoch caps; says who earns, whether it vested and how much was credited (the rest is over a
   * cap and the caller sends it to the treasury).
   */
  credit(
    contributionId: number,
    amount: bigint,
    payments: number,
    caps: EpochCaps,
  ): Promise<{ contributor: Address; vested: boolean; credited: bigint }>;
}

export const CONTRIBUTION_CREDITS = expectKeeper<ContributionCredits>('contribution credits');

/** A datanet as the payment split sees it (datanet), derived from its records and kept until they change. */
export interface LineageDatanets {
  forSplit(datanetId: number): Promise<LineageDatanet>;
}

export const LINEAGE_DATANETS = expectKeeper<LineageDatanets>('lineage datanets');

/** Usage counters of model versions (model). */
export interface ModelUsageBook {
  addUsage(versionId: number, payments: number, amount: bigint): Promise<void>;
}

export const MODEL_USAGE = expectKeeper<ModelUsageBook>('model usage');

/** Attribution records (attribution): a request-bound record is used by one payment. */
export interface AttributionRecordUse {
  markUsed(record: AttributionRecord, paymentId: number): void;
}

export const ATTRIBUTION_USE = expectKeeper<AttributionRecordUse>('attribution record use');

/** Agent records (agent): an agent named by an `inference/pay` executed it. */
export interface PaymentAgents {
  countExecuted(agent: Agent): void;
}

export const PAYMENT_AGENTS = expectKeeper<PaymentAgents>('payment agents');

/** Inference payments (inference), for `agent/act`. */
export interface Payments {
  pay(ctx: TxContext, request: PaymentRequest): Promise<PaymentOutcome>;
}

export const PAYMENTS = expectKeeper<Payments>('payments');

/** Contributions under dispute (datanet). */
export interface ContributionDisputes {
  /** A dispute opened against the contribution: its vesting waits (its rewards stay locked) until resolution. */
  hold(contributionId: number, disputeId: number): Promise<void>;
  /** The dispute failed: the hold ends, and a contribution whose window already ended vests now. */
  release(contributionId: number, height: number): Promise<void>;
  /**
   * The dispute was upheld: the contribution is struck (out of its datanet's split from now on) and
   * its stake (datanet escrow) and locked rewards (rewards pool) move to `to`. Returns both amounts.
   */
  strike(contributionId: number, to: Address): Promise<{ stake: bigint; locked: bigint }>;
}

export const CONTRIBUTION_DISPUTES = expectKeeper<ContributionDisputes>('contribution disputes');

/** Model versions (model): an upheld lineage dispute flags a version. */
export interface ModelVersionFlags {
  flag(versionId: number, disputeId: number): void;
}

export const MODEL_FLAGS = expectKeeper<ModelVersionFlags>('model version flags');

/** Rewards held while a target is disputed (dispute), for inference's end-of-block credits. */
export interface DisputeHolds {
  /**
   * The open dispute holding the earnings of a model version (its owner's legs) or of an agent (its
   * fee legs, a dispute against one of its actions); undefined when none.
   */
  holding(target: 'model_version' | 'agent', id: number): Promise<number | undefined>;
  /** Moves `amount` from the rewards pool into the dispute escrow, held for the dispute. */
  hold(disputeId: number, amount: bigint): Promise<void>;
}

export const DISPUTE_HOLDS = expectKeeper<DisputeHolds>('dispute holds');

/** Attribution records (attribution): an upheld dispute flags a record. */
export interface RecordFlags {
  flag(recordId: number, disputeId: number): void;
}

export const RECORD_FLAGS = expectKeeper<RecordFlags>('attribution record flags');

/** Agents (agent): an upheld dispute against one of an agent's actions flags the agent. */
export interface AgentFlags {
  flag(agentId: number, disputeId: number): void;
}

export const AGENT_FLAGS = expectKeeper<AgentFlags>('agent flags');
