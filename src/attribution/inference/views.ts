import type { JsonValue } from '../../codec/json.ts';
import { formatAddress } from '../../crypto/address.ts';
import { toHex } from '../../crypto/hash.ts';
import { hexOrNull } from '../common.ts';
import { type LegRole, NODE_KIND_NAMES, NodeKind } from '../store.ts';
import type { IndexedPayment } from './queries.ts';
import { type PaymentLeg, ROLE_NODE_KIND } from './txs.ts';

/* The inference module: JSON views of records (where a view adds meaning to the schema). */

export const ROLE_WHY: Record<string, string> = {
  validated: "validators' share of the payment (paid out by the bank at the end of the block)",
  treasury: 'treasury share of the payment',
  executed: 'fee of the agent that executed the inference',
  refined: 'owner share of a model version in the lineage',
  curated:
    "datanet share kept by the datanet's owner: all of it when no contribution is accepted, else the units its size split leaves over",
  contributed: 'datanet share credited to an accepted contribution',
};

export function legView(leg: PaymentLeg): JsonValue {
  const kind = ROLE_NODE_KIND[leg.role as LegRole];
  return {
    role: leg.role,
    recipient: formatAddress(leg.recipient),
    amount: leg.amount.toString(),
    node: kind === NodeKind.none || kind === undefined ? null : { kind: NODE_KIND_NAMES[kind]!, id: leg.node_id },
    why: ROLE_WHY[leg.role] ?? leg.role,
  };
}

export function paymentView(p: IndexedPayment): JsonValue {
  return {
    id: p.paid.payment_id,
    payer: formatAddress(p.paid.payer),
    modelVersionId: p.paid.version_id,
    amount: p.paid.amount.toString(),
    requestHash: hexOrNull(p.paid.request_hash),
    responseHash: hexOrNull(p.paid.response_hash),
    agentId: p.paid.agent_id || null,
    attributionId: p.paid.attribution_id || null,
    height: p.at.height,
    txHash: '0x' + toHex(p.at.txHash!),
    nodesVisited: p.paid.nodes_visited,
  };
}
