import type { JsonValue } from '../../codec/json.ts';
import { formatAddress } from '../../crypto/address.ts';
import { type JsonSchema, schema as s } from '../../state/json-schema.ts';
import { hexOrNull } from '../common.ts';
import type { Dispute } from '../store.ts';
import { DISPUTE_REASON_NAMES, DISPUTE_STATUS_NAMES, DISPUTE_TARGET_NAMES, DisputeTarget } from './keys.ts';

/* The dispute module: JSON views of records. */

const AGENT_ACTION = DISPUTE_TARGET_NAMES[DisputeTarget.agentAction]!;

export const DISPUTE_SCHEMA: JsonSchema = s.object({
  id: s.id(),
  // An agent action is named by its agent (id) and the action's seq.
  target: s.oneOf(
    s.object({ kind: s.const(AGENT_ACTION), id: s.id(), seq: s.integer() }),
    s.object({ kind: s.enum(...Object.values(DISPUTE_TARGET_NAMES).filter((n) => n !== AGENT_ACTION)), id: s.id() }),
  ),
  reason: s.names(DISPUTE_REASON_NAMES),
  status: s.names(DISPUTE_STATUS_NAMES),
  challenger: s.address(),
  respondent: s.address(),
  evidenceHash: s.nullable(s.hash()),
  bond: s.amount(),
  responseHash: s.nullable(s.hash()),
  counterBond: s.amount(),
  answered: s.boolean(),
  openedHeight: s.integer(),
  respondedHeight: s.nullable(s.integer()),
  resolveHeight: s.integer(),
  datanetId: s.nullable(s.id('contribution disputes: the datanet whose reviewers vote')),
  votes: s.object({ uphold: s.integer(), reject: s.integer() }),
  held: s.amount(),
  stakeAtOpen: s.amount(),
  slashed: s.amount(),
  clawedBack: s.amount(),
  toWinner: s.amount(),
  toTreasury: s.amount(),
});

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
