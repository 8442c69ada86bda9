import type { JsonValue } from '../../codec/json.ts';
import { formatAddress } from '../../crypto/address.ts';
import { hexOrNull } from '../common.ts';
import type { Dispute } from '../store.ts';
import { DISPUTE_REASON_NAMES, DISPUTE_STATUS_NAMES, DISPUTE_TARGET_NAMES, DisputeTarget } from './keys.ts';

/* The dispute module: JSON views of records. */

export function disputeView(d: Dispute): JsonValue {
  return {
    id: d.id,
    target: {
      kind: DISPUTE_TARGET_NAMES[d.target_kind] ?? d.target_kind,
      id: d.target_id,
      ...(d.target_kind === DisputeTarget.agentAction ? { seq: d.target_seq } : {}),
    },
    reason: DISPUTE_REASON_NAMES[d.reason] ?? d.reason,
    status: DISPUTE_STATUS_NAMES[d.status] ?? d.status,
    challenger: formatAddress(d.challenger),
    respondent: formatAddress(d.respondent),
    evidenceHash: hexOrNull(d.evidence_hash),
    bond: d.bond.toString(),
    responseHash: hexOrNull(d.response_hash),
    counterBond: d.counter_bond.toString(),
    answered: d.responded_height !== 0,
    openedHeight: d.opened_height,
    respondedHeight: d.responded_height === 0 ? null : d.responded_height,
    resolveHeight: d.resolve_height,
    datanetId: d.datanet_id === 0 ? null : d.datanet_id,
    votes: { uphold: d.votes_uphold, reject: d.votes_reject },
    held: d.held.toString(),
    stakeAtOpen: d.stake_at_open.toString(),
    slashed: d.slashed.toString(),
    clawedBack: d.clawed_back.toString(),
    toWinner: d.to_winner.toString(),
    toTreasury: d.to_treasury.toString(),
  };
}
