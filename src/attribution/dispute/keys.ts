import type { Address } from '../../crypto/address.ts';
import type { ModuleStore } from '../../state/module-store.ts';
import type { StateReader } from '../../state/working-state.ts';
import { type Dispute, DisputeCodec, PREFIX, bytesKey, idKey, load, readId, save } from '../store.ts';

/* The dispute module: names of its enum-like numbers, state keys and record access. */

/** What a dispute is against. */
export const DisputeTarget = { contribution: 1, modelVersion: 2, attributionRecord: 3, agentAction: 4 } as const;
export const DISPUTE_TARGET_NAMES: Record<number, string> = {
  1: 'contribution',
  2: 'model_version',
  3: 'attribution_record',
  4: 'agent_action',
};

export const DisputeReason = {
  duplicate: 1,
  nearDuplicate: 2,
  poisoned: 3,
  unlicensed: 4,
  falseLineage: 5,
  unsupportedWeights: 6,
  misconduct: 7,
} as const;
export const DISPUTE_REASON_NAMES: Record<number, string> = {
  1: 'duplicate',
  2: 'near_duplicate',
  3: 'poisoned',
  4: 'unlicensed',
  5: 'false_lineage',
  6: 'unsupported_weights',
  7: 'misconduct',
};

/** The reasons that make sense against each kind of target. */
export const REASONS_BY_TARGET: Record<number, readonly number[]> = {
  [DisputeTarget.contribution]: [
    DisputeReason.duplicate,
    DisputeReason.nearDuplicate,
    DisputeReason.poisoned,
    DisputeReason.unlicensed,
  ],
  [DisputeTarget.modelVersion]: [DisputeReason.falseLineage],
  [DisputeTarget.attributionRecord]: [DisputeReason.unsupportedWeights],
  [DisputeTarget.agentAction]: [DisputeReason.misconduct],
};

export const DisputeStatus = { open: 1, upheld: 2, rejected: 3 } as const;
export const DISPUTE_STATUS_NAMES: Record<number, string> = { 1: 'open', 2: 'upheld', 3: 'rejected' };

export function disputeKey(id: number): Uint8Array {
  return idKey(PREFIX.dispute, id);
}

export function targetKey(kind: number, id: number): Uint8Array {
  return idKey(PREFIX.disputeTarget, kind, id);
}

export function voteKey(disputeId: number, voter: Address): Uint8Array {
  return bytesKey(idKey(PREFIX.disputeVote, disputeId), voter);
}

export function queueKey(height: number): Uint8Array {
  return idKey(PREFIX.disputeQueue, height);
}

export async function readDispute(state: StateReader, id: number): Promise<Dispute | undefined> {
  return load(state, DisputeCodec, disputeKey(id));
}

export function writeDispute(store: ModuleStore, d: Dispute): void {
  save(store, DisputeCodec, disputeKey(d.id), d);
}

/** The open dispute against a target, if any. */
export async function openDisputeOn(state: StateReader, kind: number, id: number): Promise<number | undefined> {
  return readId(state, targetKey(kind, id));
}
