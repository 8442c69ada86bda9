import type { JsonValue } from '../codec/json.ts';
import { formatAddress, type Address } from '../crypto/address.ts';
import { bytesEqual, toHex } from '../crypto/hash.ts';
import { TributaryError } from '../errors.ts';
import { FEE_COLLECTOR } from '../state/bank/keeper.ts';
import { feesDistributedEvent } from '../state/bank/module.ts';
import { defineEvent, formatEventCursor, parseEventCursor } from '../state/events.ts';
import type { ChainEvent, EventValues, IndexReader, KeeperSlot, KeeperSource, Module, TxContext, TxDefinition } from '../state/module.ts';
import type { ModuleStore } from '../state/module-store.ts';
import { ATTRIBUTION_USE, CONTRIBUTION_CREDITS, EARNINGS, LINEAGE_DATANETS, MODEL_USAGE, PAYMENT_AGENTS, type Payments } from './expected.ts';
import { hexOrNull, paramAddress, paramId, requireHash } from './common.ts';
import { contributionKey } from './datanet.ts';
import { flushPaymentCredits, queuePaymentCredits } from './pending.ts';
import { versionKey } from './model.ts';
import { aiParams, parseAiParams } from './params.ts';
import { recordKey } from './record.ts';
import { splitPayment, type AcceptedContribution, type LineageView } from './split.ts';
import {
  AgentCodec,
  AncestorSetCodec,
  AttributionRecordCodec,
  ContributionCodec,
  ModelVersionCodec,
  NODE_KIND_NAMES,
  NodeKind,
  PREFIX,
  REWARDS_POOL,
  TREASURY,
  codec,
  idKey,
  lastId,
  load,
  loadCached,
  nextId,
  type Agent,
  type Contribution,
  type LegRole,
  type AncestorSet,
  type ModelVersion,
} from './store.ts';
import type { MsgPay } from './attribution.pb.ts';
export type { MsgPay } from './attribution.pb.ts';

/*
 * Inference payments. The payer's amount is split (src/attribution/split.ts) into legs:
 * validators, treasury, the agent's fee, the owners along the lineage and the datanet
 * contributions. The amount moves to the rewards pool in the transaction; at the end of the block
 * (pending.ts) the validators' and treasury's parts move on, and the earners' parts become
 * claimable (a contribution inside its challenge window: locked until it ends). Execution never
 * reads a payment back, so it is not state: the receipt carries it, legs included, as one typed
 * `inference_paid` event (provable through the results root), and `attribution_trace` reads it
 * from the chain index to explain each unit.
 * Metering: `feePerNode` per lineage node visited and `feePerContribution` per contribution paid.
 */

export type InferenceErrorCode =
  | 'inference/invalid'
  | 'inference/model_not_found'
  | 'inference/agent_not_found'
  | 'inference/not_found';

export interface PaymentRequest {
  payer: Address;
  versionId: number;
  amount: bigint;
  requestHash: Uint8Array;
  responseHash: Uint8Array;
  /** The agent that executed the inference (earns its fee); the caller counts the execution on it. */
  agent?: Agent;
  attributionId: number;
}

export function validatePaymentFields(amount: bigint, requestHash: Uint8Array, responseHash: Uint8Array): void {
  if (amount <= 0n) throw new TributaryError('inference/invalid', 'amount must be positive');
  requireHash('inference/invalid', requestHash, 'request_hash');
  requireHash('inference/invalid', responseHash, 'response_hash', true);
}

/*
 * A payment and all its legs in one event. The legs are parallel lists in split order (leg i is
 * leg_roles[i], leg_recipients[i], ...): a payment has a few dozen legs, and one event with a few
 * list fields costs a fraction of what a few dozen events cost in every receipt encoding (results
 * root, block store, index) of thousands of payments a block. A leg's node kind follows from its
 * role (ROLE_NODE_KIND); its node id is 0 for the validators' and the treasury's legs.
 */
export const inferencePaidEvent = defineEvent('inference_paid', 'an inference payment and its `legs` legs: who received what, as which role, through which lineage node', {
  payment_id: { kind: 'integer', indexed: true },
  version_id: { kind: 'integer', indexed: true },
  amount: { kind: 'amount' },
  legs: { kind: 'integer' },
  payer: { kind: 'address', indexed: true },
  request_hash: { kind: 'hash' },
  response_hash: { kind: 'hash' },
  agent_id: { kind: 'integer' },
  attribution_id: { kind: 'integer' },
  nodes_visited: { kind: 'integer' },
  /** validated, treasury, executed, refined, curated or contributed */
  leg_roles: { kind: 'string', list: true },
  leg_recipients: { kind: 'address', list: true, indexed: true },
  leg_amounts: { kind: 'amount', list: true },
  leg_node_ids: { kind: 'integer', list: true },
});

/** The lineage node a leg of each role is paid through (the split never pairs them otherwise). */
export const ROLE_NODE_KIND: Readonly<Record<LegRole, number>> = {
  validated: NodeKind.none,
  treasury: NodeKind.none,
  executed: NodeKind.agent,
  refined: NodeKind.modelVersion,
  curated: NodeKind.datanet,
  contributed: NodeKind.contribution,
};

type PaidValues = EventValues<typeof inferencePaidEvent.fields>;

interface PaymentLeg {
  role: string;
  recipient: Address;
  amount: bigint;
  node_id: number;
}

export interface PaymentOutcome {
  id: number;
  /** Queue the earners' credits for the end of the block: call as the transaction's last step. */
  queueCredits(): void;
}

/** What a payment runs against: the inference store and the keepers inference expects. */
interface PaymentEnv {
  readonly store: ModuleStore;
  keeper<K>(slot: KeeperSlot<K>): K;
}

/*
 * Model versions and ancestor sets are immutable and a version id is never written twice, so once
 * a committed one is read it stays valid for the working state's whole life: memoised by id in
 * the inference store's scratch.
 */
async function lineageVersion(store: ModuleStore, id: number): Promise<{ version: ModelVersion; ancestors: AncestorSet } | undefined> {
  const memo = store.scratch('versions', () => new Map<number, { version: ModelVersion; ancestors: AncestorSet }>());
  const hit = memo.get(id);
  if (hit) return hit;
  const version = await loadCached(store, versionKey(id), ModelVersionCodec.decodeStored);
  if (!version) return undefined;
  const ancestors = (await loadCached(store, idKey(PREFIX.ancestors, id), AncestorSetCodec.decodeStored)) ?? { models: [], datanets: [] };
  const entry = { version, ancestors };
  if (!store.hasWrite(versionKey(id))) memo.set(id, entry);
  return entry;
}

/** Runs one payment inside the current transaction; shared by `inference/pay` and `agent/act`. */
async function executePayment(ctx: TxContext, env: PaymentEnv, req: PaymentRequest): Promise<PaymentOutcome> {
  const params = aiParams(ctx.params).inference;
  const store = env.store;
  const datanets = env.keeper(LINEAGE_DATANETS);
  const paid = await lineageVersion(store, req.versionId);
  if (!paid) throw new TributaryError('inference/model_not_found', `model version ${req.versionId} does not exist`);
  const version = paid.version;

  let recordWeights;
  let record;
  if (req.attributionId !== 0) {
    record = await loadCached(store, recordKey(req.attributionId), AttributionRecordCodec.decodeStored);
    if (!record) throw new TributaryError('attribution/not_found', `attribution record ${req.attributionId} does not exist`);
    if (record.model_version_id !== version.id) {
      throw new TributaryError('attribution/wrong_model', `record ${record.id} attributes version ${record.model_version_id}, not ${version.id}`);
    }
    if (record.request_hash.length > 0) {
      if (!bytesEqual(record.request_hash, req.requestHash)) {
        throw new TributaryError('attribution/request_mismatch', `record ${record.id} is for another request`);
      }
      if (record.used_by_payment !== 0) {
        throw new TributaryError('attribution/already_used', `record ${record.id} was used by payment ${record.used_by_payment}`);
      }
    }
    recordWeights = record.weights;
  }

  // Read-only here: contribution records change at review, vesting and the end-of-block credit.
  const contribution = async (id: number): Promise<Contribution> =>
    (await loadCached(store, contributionKey(id), ContributionCodec.decodeStored))!;
  const asAccepted = (c: Contribution): AcceptedContribution => ({ id: c.id, contributor: c.contributor, size: c.size });
  const view: LineageView = {
    async version(id) {
      return id === version.id ? version : (await lineageVersion(store, id))!.version;
    },
    async datanet(id) {
      return datanets.forSplit(id);
    },
    async contribution(id) {
      return asAccepted(await contribution(id));
    },
    visit(what, count) {
      if (what === 'node') ctx.requireFee(params.feePerNode * BigInt(count), 'lineage node');
      else ctx.requireFee(params.feePerContribution * BigInt(count), 'contributions paid');
    },
  };
  const ancestors = paid.ancestors;
  const agent = req.agent;
  const { legs, nodesVisited } = await splitPayment(
    {
      amount: req.amount,
      validatorBps: params.validatorBps,
      treasuryBps: params.treasuryBps,
      validatorsAccount: FEE_COLLECTOR,
      treasuryAccount: TREASURY,
      agent: agent ? { id: agent.id, account: agent.account, feeBps: agent.fee_bps } : undefined,
      versionId: version.id,
      ancestorVersionIds: ancestors.models,
      recordWeights,
    },
    view,
  );

  // The whole amount moves to the rewards pool in one transfer. At the end of the block the
  // validators' and the treasury's parts of the block's payments leave the pool for the fee
  // collector (which the bank pays out right after) and the treasury.
  await ctx.bank.transfer(req.payer, REWARDS_POOL, req.amount);

  const id = await nextId(store, PREFIX.paymentSeq);
  if (record && record.request_hash.length > 0) env.keeper(ATTRIBUTION_USE).markUsed(record, id);
  inferencePaidEvent.emit(ctx, {
    payment_id: id,
    version_id: version.id,
    amount: req.amount,
    legs: legs.length,
    payer: req.payer,
    request_hash: req.requestHash,
    response_hash: req.responseHash,
    agent_id: agent?.id ?? 0,
    attribution_id: req.attributionId,
    nodes_visited: nodesVisited,
    leg_roles: legs.map((l) => l.role),
    leg_recipients: legs.map((l) => l.recipient),
    leg_amounts: legs.map((l) => l.amount),
    leg_node_ids: legs.map((l) => l.node_id),
  });
  return { id, queueCredits: () => queuePaymentCredits(store, version.id, req.amount, legs) };
}

/** Payments for other modules (`agent/act`): run over the inference store, whoever's transaction it is. */
export const paymentsKeeper: KeeperSource<Payments> = {
  module: 'inference',
  create: (env) => ({ pay: (ctx, req) => executePayment(ctx, env, req) }),
};

// ------------------------------------------------------------------ inference/pay

export const payTx: TxDefinition<MsgPay> = {
  type: 'inference/pay',
  codec: codec('MsgPay'),
  validateBasic(m) {
    if (!Number.isSafeInteger(m.model_version_id) || m.model_version_id < 1) throw new TributaryError('inference/invalid', 'model_version_id');
    validatePaymentFields(m.amount, m.request_hash, m.response_hash);
  },
  async execute(ctx, m) {
    let agent: Agent | undefined;
    if (m.agent_id !== 0) {
      agent = await load(ctx.store, AgentCodec, idKey(PREFIX.agent, m.agent_id));
      if (!agent) throw new TributaryError('inference/agent_not_found', `agent ${m.agent_id} does not exist`);
    }
    const outcome = await executePayment(ctx, ctx, {
      payer: ctx.sender,
      versionId: m.model_version_id,
      amount: m.amount,
      requestHash: m.request_hash,
      responseHash: m.response_hash,
      agent,
      attributionId: m.attribution_id,
    });
    if (agent) ctx.keeper(PAYMENT_AGENTS).countExecuted(agent);
    outcome.queueCredits();
  },
  view(m) {
    return {
      modelVersionId: m.model_version_id,
      amount: m.amount.toString(),
      requestHash: hexOrNull(m.request_hash),
      responseHash: hexOrNull(m.response_hash),
      agentId: m.agent_id || null,
      attributionId: m.attribution_id || null,
    };
  },
};

// ------------------------------------------------------------------ trace and usage

const ROLE_WHY: Record<string, string> = {
  validated: 'validators\' share of the payment (paid out by the bank at the end of the block)',
  treasury: 'treasury share of the payment',
  executed: 'fee of the agent that executed the inference',
  refined: 'owner share of a model version in the lineage',
  curated: 'datanet share that reached a datanet with no accepted contributions (goes to its owner)',
  contributed: 'datanet share credited to an accepted contribution',
};

/** A payment as the index holds it: its `inference_paid` event, its place, and its legs in split order. */
export interface IndexedPayment {
  at: ChainEvent;
  paid: PaidValues;
  legs: PaymentLeg[];
}

function paymentAt(at: ChainEvent): IndexedPayment {
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
  for await (const at of index.events({ type: inferencePaidEvent.type, attribute: { key: 'payment_id', value: String(id) } })) {
    return paymentAt(at);
  }
  return undefined;
}

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

async function requirePayment(index: IndexReader, id: number): Promise<IndexedPayment> {
  const payment = await findPayment(index, id);
  if (!payment) throw new TributaryError('inference/not_found', `payment ${id} does not exist`);
  return payment;
}

/**
 * Payments by payer, model version or earner (any leg's recipient), in chain order, a page at a
 * time. An earner's page lists each payment once, with what the earner received in it.
 */
async function listPayments(index: IndexReader, p: Record<string, unknown>): Promise<JsonValue> {
  if (p.by !== 'payer' && p.by !== 'model' && p.by !== 'earner') throw new TributaryError('rpc/invalid_params', 'by is "payer", "model" or "earner"');
  const limit = p.limit === undefined || p.limit === null ? 50 : Math.min(500, Math.max(1, paramId(p.limit, 'limit')));
  const range = {
    fromHeight: p.fromHeight === undefined || p.fromHeight === null ? undefined : paramId(p.fromHeight, 'fromHeight'),
    toHeight: p.toHeight === undefined || p.toHeight === null ? undefined : paramId(p.toHeight, 'toHeight'),
    after: typeof p.cursor === 'string' ? parseEventCursor(p.cursor) : undefined,
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
  return { payments, next: more && last ? formatEventCursor(last) : null };
}

export const inferenceModule: Module = {
  name: 'inference',
  keepers: [paymentsKeeper],
  expects: [CONTRIBUTION_CREDITS, LINEAGE_DATANETS, MODEL_USAGE, ATTRIBUTION_USE, PAYMENT_AGENTS, EARNINGS],
  txs: [payTx],
  // The AI-economy sections are checked together: the payment split ties several of them.
  validateParams: (params) => void parseAiParams(params),
  events: [inferencePaidEvent],
  queries: [
    {
      method: 'attribution_trace',
      description: 'every leg of an inference payment: who received what and why (contributed, refined, executed, validated, ...)',
      params: [{ name: 'paymentId', kind: 'integer' }],
      cli: 'trace',
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
      async handler(q, p) {
        return paymentView(await requirePayment(q.chain.index, paramId(p.id)));
      },
    },
    {
      method: 'inference_listPayments',
      description: 'payments by payer, by model version or by earner (a leg\'s recipient), in chain order, paginated by cursor',
      params: [
        { name: 'by', kind: 'string', description: '"payer", "model" or "earner"' },
        { name: 'id', kind: 'json', description: 'the payer\'s or earner\'s address (trib1...), or the model version id' },
        { name: 'fromHeight', kind: 'integer', optional: true },
        { name: 'toHeight', kind: 'integer', optional: true, description: 'inclusive' },
        { name: 'cursor', kind: 'string', optional: true, description: '`next` of the previous page' },
        { name: 'limit', kind: 'integer', optional: true, description: 'payments per page, default 50, at most 500' },
      ],
      cli: 'payments',
      async handler(q, p) {
        return listPayments(q.chain.index, p);
      },
    },
    {
      method: 'usage_summary',
      description: 'chain-wide counters: payments, attribution records, datanets, contributions, model versions, agents',
      params: [],
      cli: 'usage',
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
      description: 'fees paid to validators at the end of each block in a height range (from the bank\'s fees_distributed events)',
      params: [
        { name: 'fromHeight', kind: 'integer' },
        { name: 'toHeight', kind: 'integer', optional: true, description: 'inclusive; default fromHeight; at most 1000 blocks' },
      ],
      cli: 'fees-distributed',
      async handler(q, p) {
        const from = paramId(p.fromHeight, 'fromHeight');
        const to = Math.min(p.toHeight === undefined || p.toHeight === null ? from : paramId(p.toHeight, 'toHeight'), from + 999, q.chain.latestHeight);
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
  ],
  async initGenesis(ctx) {
    aiParams(ctx.params);
  },
  /** The block's payment credits land in earnings, contributions and usage counters. */
  async endBlock(ctx) {
    await flushPaymentCredits(ctx, {
      earnings: ctx.keeper(EARNINGS),
      contributions: ctx.keeper(CONTRIBUTION_CREDITS),
      usage: ctx.keeper(MODEL_USAGE),
    });
  },
};
