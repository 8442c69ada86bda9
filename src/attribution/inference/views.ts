import type { JsonValue } from '../../codec/json.ts';
import { formatAddress } from '../../crypto/address.ts';
import { toHex } from '../../crypto/hash.ts';
import { type JsonSchema, schema as s } from '../../state/json-schema.ts';
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

/** Every leg role, in the order ROLE_WHY explains them. */
export const LEG_ROLES: readonly string[] = Object.keys(ROLE_WHY);

export const LEG_SCHEMA: JsonSchema = s.object({
  role: s.enum(...LEG_ROLES),
  recipient: s.address(),
  amount: s.amount(),
  // The lineage node paid through; null for the validators' and the treasury's legs.
  node: s.nullable(
    s.object({ kind: s.enum(...Object.values(NODE_KIND_NAMES).filter((n) => n !== 'none')), id: s.id() }),
  ),
  why: s.string(),
});

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

export const PAYMENT_PROPERTIES: Record<string, JsonSchema> = {
  id: s.id(),
  payer: s.address(),
  modelVersionId: s.id(),
  amount: s.amount(),
  requestHash: s.nullable(s.hash()),
  responseHash: s.nullable(s.hash()),
  agentId: s.nullable(s.id('the agent that executed it')),
  attributionId: s.nullable(s.id()),
  height: s.integer(),
  txHash: s.hash(),
  nodesVisited: s.integer(),
};
/** `paymentView`'s answer. */
export const PAYMENT_SCHEMA: JsonSchema = s.object(PAYMENT_PROPERTIES);

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
