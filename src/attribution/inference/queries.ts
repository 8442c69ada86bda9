import type { JsonValue } from '../../codec/json.ts';
import { formatAddress } from '../../crypto/address.ts';
import { bytesEqual } from '../../crypto/hash.ts';
import { TributaryError } from '../../errors.ts';
import { feesDistributedEvent } from '../../state/bank/module.ts';
import { decodeEventCursor, encodeEventCursor, indexRangeAfter, positionAfter } from '../../rpc/cursor.ts';
import type { ChainEvent, IndexReader, QueryDefinition } from '../../state/module.ts';
import { pageLimit, paramAddress, paramId } from '../common.ts';
import { PREFIX, lastId } from '../store.ts';
import { type PaidValues, type PaymentLeg, inferencePaidEvent } from './txs.ts';
import { schema as s } from '../../state/json-schema.ts';
import { LEG_ROLES, LEG_SCHEMA, PAYMENT_PROPERTIES, PAYMENT_SCHEMA, legView, paymentView } from './views.ts';

/* The inference module: queries and state-key kinds for proofs. */

/** A payment as the index holds it: its `inference_paid` event, its place, and its legs in split order. */
export interface IndexedPayment {
  at: ChainEvent;
  paid: PaidValues;
  legs: PaymentLeg[];
}

export function paymentAt(at: ChainEvent): IndexedPayment {
  const paid = inferencePaidEvent.read(at.event);
  const legs = paid.leg_roles.map((role, i) => ({
    role,
    recipient: paid.leg_recipients[i]!,
    amount: paid.leg_amounts[i]!,
    node_id: paid.leg_node_ids[i]!,
  }));
  return { at, paid, legs };
}

export async function findPayment(index: IndexReader, id: number): Promise<IndexedPayment | undefined> {
  for await (const at of index.events({
    type: inferencePaidEvent.type,
    attribute: { key: 'payment_id', value: String(id) },
  })) {
    return paymentAt(at);
  }
  return undefined;
}

export async function requirePayment(index: IndexReader, id: number): Promise<IndexedPayment> {
  const payment = await findPayment(index, id);
  if (!payment) throw new TributaryError('inference/not_found', `payment ${id} does not exist`);
  return payment;
}

/**
 * Payments by payer, model version or earner (any leg's recipient), in chain order, a page at a
 * time. An earner's page lists each payment once, with what the earner received in it.
 */
export async function listPayments(index: IndexReader, p: Record<string, unknown>): Promise<JsonValue> {
  if (p.by !== 'payer' && p.by !== 'model' && p.by !== 'earner')
    throw new TributaryError('rpc/invalid_params', 'by is "payer", "model" or "earner"');
  const limit = pageLimit(p);
  const given = p.fromHeight === undefined || p.fromHeight === null ? undefined : paramId(p.fromHeight, 'fromHeight');
  // The API's one cursor (src/rpc/cursor.ts): a position in the event sequence, opaque to clients.
  const resume = p.cursor === undefined || p.cursor === null ? undefined : indexRangeAfter(decodeEventCursor(p.cursor));
  const range = {
    fromHeight: resume ? Math.max(given ?? 0, resume.fromHeight) : given,
    toHeight: p.toHeight === undefined || p.toHeight === null ? undefined : paramId(p.toHeight, 'toHeight'),
    after: resume?.after,
  };
  const earner = p.by === 'earner' ? paramAddress(p.id) : undefined;
  const attribute = earner
    ? { key: 'leg_recipients', value: formatAddress(earner) }
    : p.by === 'payer'
      ? { key: 'payer', value: formatAddress(paramAddress(p.id)) }
      : { key: 'version_id', value: String(paramId(p.id, 'id')) };
  const payments: JsonValue[] = [];
  let last: ChainEvent | undefined;
  let more = false;
  for await (const e of index.events({ type: inferencePaidEvent.type, attribute, ...range })) {
    if (payments.length === limit) {
      more = true;
      break;
    }
    last = e;
    const payment = paymentAt(e);
    if (!earner) {
      payments.push(paymentView(payment));
      continue;
    }
    const earned = payment.legs.filter((l) => bytesEqual(l.recipient, earner)).reduce((sum, l) => sum + l.amount, 0n);
    payments.push({ ...(paymentView(payment) as Record<string, JsonValue>), earned: earned.toString() });
  }
  return { payments, next: more && last ? encodeEventCursor(positionAfter(last)) : null };
}

export const inferenceQueries: QueryDefinition[] = [
  {
    method: 'attribution_trace',
    description:
      'every leg of an inference payment: who received what and why (contributed, refined, executed, validated, ...)',
    params: [{ name: 'paymentId', kind: 'integer' }],
    cli: 'trace',
    result: s.object({
      payment: PAYMENT_SCHEMA,
      legs: s.array(LEG_SCHEMA),
      totalsByRole: s.map(s.amount(), LEG_ROLES),
    }),
    async handler(q, p) {
      const payment = await requirePayment(q.chain.index, paramId(p.paymentId, 'paymentId'));
      const byRole: Record<string, string> = {};
      for (const leg of payment.legs) byRole[leg.role] = (BigInt(byRole[leg.role] ?? '0') + leg.amount).toString();
      return { payment: paymentView(payment), legs: payment.legs.map(legView), totalsByRole: byRole };
    },
  },
  {
    method: 'inference_getPayment',
    description: 'an inference payment without its legs',
    params: [{ name: 'id', kind: 'integer' }],
    cli: 'payment',
    result: PAYMENT_SCHEMA,
    async handler(q, p) {
      return paymentView(await requirePayment(q.chain.index, paramId(p.id)));
    },
  },
  {
    method: 'inference_listPayments',
    description:
      "payments by payer, by model version or by earner (a leg's recipient), in chain order, paginated by cursor",
    params: [
      { name: 'by', kind: 'string', description: '"payer", "model" or "earner"' },
      { name: 'id', kind: 'json', description: "the payer's or earner's address (trib1...), or the model version id" },
      { name: 'fromHeight', kind: 'integer', optional: true },
      { name: 'toHeight', kind: 'integer', optional: true, description: 'inclusive' },
      { name: 'cursor', kind: 'string', optional: true, description: '`next` of the previous page' },
      { name: 'limit', kind: 'integer', optional: true, description: 'payments per page, default 50, at most 500' },
    ],
    cli: 'payments',
    result: s.object({
      // By earner, each payment also says what the earner received in it.
      payments: s.array(s.object({ ...PAYMENT_PROPERTIES, earned: s.amount() }, ['earned'])),
      next: s.nullable(s.cursor('opaque; null once there are no more')),
    }),
    async handler(q, p) {
      return listPayments(q.chain.index, p);
    },
  },
  {
    method: 'usage_summary',
    description: 'chain-wide counters: payments, attribution records, datanets, contributions, model versions, agents',
    params: [],
    cli: 'usage',
    result: s.object({
      payments: s.integer(),
      attributionRecords: s.integer(),
      datanets: s.integer(),
      contributions: s.integer(),
      modelFamilies: s.integer(),
      modelVersions: s.integer(),
      agents: s.integer(),
      height: s.integer(),
    }),
    async handler(q) {
      return {
        payments: await lastId(q.state, PREFIX.paymentSeq),
        attributionRecords: await lastId(q.state, PREFIX.recordSeq),
        datanets: await lastId(q.state, PREFIX.datanetSeq),
        contributions: await lastId(q.state, PREFIX.contributionSeq),
        modelFamilies: await lastId(q.state, PREFIX.familySeq),
        modelVersions: await lastId(q.state, PREFIX.versionSeq),
        agents: await lastId(q.state, PREFIX.agentSeq),
        height: q.height,
      };
    },
  },
  {
    method: 'usage_feesDistributed',
    description:
      "fees paid to validators at the end of each block in a height range (from the bank's fees_distributed events)",
    params: [
      { name: 'fromHeight', kind: 'integer' },
      {
        name: 'toHeight',
        kind: 'integer',
        optional: true,
        description: 'inclusive; default fromHeight; at most 1000 blocks',
      },
    ],
    cli: 'fees-distributed',
    result: s.object({
      fromHeight: s.integer(),
      toHeight: s.integer('the last height counted (capped at the latest block)'),
      total: s.amount(),
      blocks: s.array(s.object({ height: s.positive(), amount: s.amount() })),
    }),
    async handler(q, p) {
      const from = paramId(p.fromHeight, 'fromHeight');
      const to = Math.min(
        p.toHeight === undefined || p.toHeight === null ? from : paramId(p.toHeight, 'toHeight'),
        from + 999,
        q.chain.latestHeight,
      );
      const byHeight = new Map<number, bigint>();
      for await (const e of q.chain.index.events({ type: feesDistributedEvent.type, fromHeight: from, toHeight: to })) {
        byHeight.set(e.height, (byHeight.get(e.height) ?? 0n) + feesDistributedEvent.read(e.event).amount);
      }
      const blocks: JsonValue[] = [];
      let total = 0n;
      for (let h = Math.max(from, 1); h <= to; h++) {
        const amount = byHeight.get(h) ?? 0n;
        total += amount;
        blocks.push({ height: h, amount: amount.toString() });
      }
      return { fromHeight: from, toHeight: to, total: total.toString(), blocks };
    },
  },
];
