import { messageCodec } from '../codec/canonical.ts';
import type { JsonValue } from '../codec/json.ts';
import { formatAddress, type Address } from '../crypto/address.ts';
import { bytesEqual, readU64be, toHex } from '../crypto/hash.ts';
import { TributaryError } from '../errors.ts';
import { FEE_COLLECTOR } from '../state/bank/keeper.ts';
import { defineEvent } from '../state/events.ts';
import type { Module, TxContext, TxDefinition } from '../state/module.ts';
import type { StateReader, WorkingState } from '../state/working-state.ts';
import { cliAmount, cliHex, cliInt, hexOrNull, paramId, requireHash } from './common.ts';
import { contributionKey, datanetKey, readContribution, readDatanet } from './datanet.ts';
import { flushPaymentCredits, queuePaymentCredits } from './pending.ts';
import { readVersion, versionKey } from './model.ts';
import { aiParams } from './params.ts';
import { recordKey } from './record.ts';
import { splitPayment, type AcceptedContribution, type LineageDatanet, type LineageView } from './split.ts';
import {
  AgentCodec,
  AncestorSetCodec,
  AttributionRecordCodec,
  ContributionCodec,
  DatanetCodec,
  ModelVersionCodec,
  LEG_ROLES,
  NODE_KIND_NAMES,
  NodeKind,
  PREFIX,
  PaymentCodec,
  REWARDS_POOL,
  TREASURY,
  agentAccount,
  attributionSchema,
  idKey,
  legRoleCode,
  lastId,
  load,
  datanetWriteCount,
  loadCached,
  wasWritten,
  nextId,
  put,
  save,
  type Agent,
  type Contribution,
  type AncestorSet,
  type Leg,
  type ModelVersion,
  type Payment,
} from './store.ts';

/*
 * Inference payments. The payer's amount is split (src/attribution/split.ts) into legs:
 * validators, treasury, the agent's fee, the owners along the lineage and the datanet
 * contributions. The amount moves to the rewards pool in the transaction; at the end of the block
 * (pending.ts) the validators' and treasury's parts move on, and the earners' parts become
 * claimable (a contribution inside its challenge window: locked until it ends). The payment record
 * keeps every leg, so `attribution_trace` explains each unit.
 * Metering: `feePerNode` per lineage node visited and `feePerContribution` per contribution paid.
 */

export type InferenceErrorCode =
  | 'inference/invalid'
  | 'inference/model_not_found'
  | 'inference/agent_not_found'
  | 'inference/not_found';

export interface MsgPay {
  model_version_id: number;
  amount: bigint;
  request_hash: Uint8Array;
  response_hash: Uint8Array;
  agent_id: number;
  attribution_id: number;
}

export interface PaymentRequest {
  payer: Address;
  versionId: number;
  amount: bigint;
  requestHash: Uint8Array;
  responseHash: Uint8Array;
  /** The agent that executed the inference (earns its fee); the caller saves it afterwards. */
  agent?: Agent;
  attributionId: number;
}

export function paymentKey(id: number): Uint8Array {
  return idKey(PREFIX.payment, id);
}

export async function readPayment(state: StateReader, id: number): Promise<Payment | undefined> {
  return load(state, PaymentCodec, paymentKey(id));
}

export function validatePaymentFields(amount: bigint, requestHash: Uint8Array, responseHash: Uint8Array): void {
  if (amount <= 0n) throw new TributaryError('inference/invalid', 'amount must be positive');
  requireHash('inference/invalid', requestHash, 'request_hash');
  requireHash('inference/invalid', responseHash, 'response_hash', true);
}

export const inferencePaidEvent = defineEvent('inference_paid', 'an inference payment, split into `legs` legs', {
  payment_id: { kind: 'integer', indexed: true },
  version_id: { kind: 'integer', indexed: true },
  amount: { kind: 'amount' },
  legs: { kind: 'integer' },
});

export interface PaymentOutcome {
  payment: Payment;
  /** Queue the earners' credits for the end of the block: call as the transaction's last step. */
  queueCredits(): void;
}

/*
 * Model versions and ancestor sets are immutable and a version id is never written twice, so once
 * a committed one is read it stays valid for the working state's whole life: memoised by id.
 */
const versionMemo = new WeakMap<WorkingState, Map<number, { version: ModelVersion; ancestors: AncestorSet }>>();

async function lineageVersion(state: WorkingState, id: number): Promise<{ version: ModelVersion; ancestors: AncestorSet } | undefined> {
  let memo = versionMemo.get(state);
  const hit = memo?.get(id);
  if (hit) return hit;
  const version = await loadCached(state, versionKey(id), ModelVersionCodec.decodeStored);
  if (!version) return undefined;
  const ancestors = (await loadCached(state, idKey(PREFIX.ancestors, id), AncestorSetCodec.decodeStored)) ?? { models: [], datanets: [] };
  const entry = { version, ancestors };
  if (!wasWritten(state, versionKey(id))) {
    if (!memo) {
      memo = new Map();
      versionMemo.set(state, memo);
    }
    memo.set(id, entry);
  }
  return entry;
}

/*
 * A datanet as the split sees it: owner and accepted contributions (id, contributor, size), all
 * fixed once accepted. Kept per working state, so a block of payments builds each list once: only
 * when built from the committed record (the record never written in this working state), and only
 * until the next datanet-record write there (an acceptance writes one).
 */
const datanetMemo = new WeakMap<WorkingState, Map<number, { writes: number; value: LineageDatanet }>>();

async function lineageDatanet(state: WorkingState, id: number): Promise<LineageDatanet> {
  const writes = datanetWriteCount(state);
  let memo = datanetMemo.get(state);
  const hit = memo?.get(id);
  if (hit && hit.writes === writes) return hit.value;
  const d = (await loadCached(state, datanetKey(id), DatanetCodec.decodeStored))!;
  const accepted: AcceptedContribution[] = [];
  for (let i = 0; i < d.version; i++) {
    const cid = (await loadCached(state, idKey(PREFIX.accepted, d.id, i), (raw) => readU64be(raw)))!;
    const c = (await loadCached(state, contributionKey(cid), ContributionCodec.decodeStored))!;
    accepted.push({ id: c.id, contributor: c.contributor, size: c.size });
  }
  const value = { owner: d.owner, accepted };
  if (!wasWritten(state, datanetKey(id))) {
    if (!memo) {
      memo = new Map();
      datanetMemo.set(state, memo);
    }
    memo.set(id, { writes, value });
  }
  return value;
}

/** Runs one payment inside the current transaction; shared by `inference/pay` and `agent/act`. */
export async function executePayment(ctx: TxContext, req: PaymentRequest): Promise<PaymentOutcome> {
  const params = aiParams(ctx.params).inference;
  const paid = await lineageVersion(ctx.state, req.versionId);
  if (!paid) throw new TributaryError('inference/model_not_found', `model version ${req.versionId} does not exist`);
  const version = paid.version;

  let recordWeights;
  let record;
  if (req.attributionId !== 0) {
    record = await loadCached(ctx.state, recordKey(req.attributionId), AttributionRecordCodec.decodeStored);
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
    (await loadCached(ctx.state, contributionKey(id), ContributionCodec.decodeStored))!;
  const asAccepted = (c: Contribution): AcceptedContribution => ({ id: c.id, contributor: c.contributor, size: c.size });
  const view: LineageView = {
    async version(id) {
      return id === version.id ? version : (await lineageVersion(ctx.state, id))!.version;
    },
    async datanet(id) {
      return lineageDatanet(ctx.state, id);
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

  const id = await nextId(ctx.state, PREFIX.paymentSeq);
  if (record && record.request_hash.length > 0) {
    // A copy: the record read above may be a shared cached object.
    save(ctx.state, AttributionRecordCodec, recordKey(record.id), { ...record, used_by_payment: id });
  }
  if (agent) agent.payments_executed += 1;
  const payment: Payment = {
    id,
    payer: req.payer,
    model_version_id: version.id,
    amount: req.amount,
    request_hash: req.requestHash,
    response_hash: req.responseHash,
    agent_id: agent?.id ?? 0,
    attribution_id: req.attributionId,
    height: ctx.height,
    tx_hash: ctx.txHash,
    nodes_visited: nodesVisited,
    leg_roles: legs.map((l) => legRoleCode(l.role)),
    leg_node_kinds: legs.map((l) => l.node_kind),
    leg_node_ids: legs.map((l) => l.node_id),
    leg_amounts: legs.map((l) => l.amount),
  };
  // Written once and not read again in the block: no decoded-value memo (see store.ts `save`).
  put(ctx.state, paymentKey(id), PaymentCodec.encode(payment));
  // Kept small: every attribute is in the receipt of every payment. The legs are in the state.
  inferencePaidEvent.emit(ctx, { payment_id: id, version_id: version.id, amount: req.amount, legs: legs.length });
  return { payment, queueCredits: () => queuePaymentCredits(ctx.state, version.id, req.amount, legs) };
}

// ------------------------------------------------------------------ inference/pay

export const payTx: TxDefinition<MsgPay> = {
  type: 'inference/pay',
  codec: messageCodec<MsgPay>(attributionSchema, 'tributary.attribution.MsgPay'),
  validateBasic(m) {
    if (!Number.isSafeInteger(m.model_version_id) || m.model_version_id < 1) throw new TributaryError('inference/invalid', 'model_version_id');
    validatePaymentFields(m.amount, m.request_hash, m.response_hash);
  },
  async execute(ctx, m) {
    let agent: Agent | undefined;
    if (m.agent_id !== 0) {
      agent = await load(ctx.state, AgentCodec, idKey(PREFIX.agent, m.agent_id));
      if (!agent) throw new TributaryError('inference/agent_not_found', `agent ${m.agent_id} does not exist`);
    }
    const outcome = await executePayment(ctx, {
      payer: ctx.sender,
      versionId: m.model_version_id,
      amount: m.amount,
      requestHash: m.request_hash,
      responseHash: m.response_hash,
      agent,
      attributionId: m.attribution_id,
    });
    if (agent) save(ctx.state, AgentCodec, idKey(PREFIX.agent, agent.id), agent);
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
  cli: {
    name: 'pay',
    description: 'pay for an inference; the amount is split along the model\'s lineage',
    options: [
      { flags: '--model <versionId>', description: 'model version paid for', required: true },
      { flags: '--amount <baseUnits>', description: 'amount in base units', required: true },
      { flags: '--request-hash <hex>', description: '32-byte hash of the request', required: true },
      { flags: '--response-hash <hex>', description: '32-byte hash of the response' },
      { flags: '--agent <id>', description: 'agent that executed the inference (earns its fee)' },
      { flags: '--attribution <id>', description: 'attribution record that splits the datanet share' },
    ],
    build(o) {
      return {
        model_version_id: cliInt(o.model, 'model'),
        amount: cliAmount(o.amount, 'amount'),
        request_hash: cliHex(o.requestHash),
        response_hash: cliHex(o.responseHash),
        agent_id: cliInt(o.agent, 'agent'),
        attribution_id: cliInt(o.attribution, 'attribution'),
      };
    },
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

/** The stored legs with their recipients: each follows from the leg's node, or from its role. */
export async function paymentLegs(state: StateReader, p: Payment): Promise<Leg[]> {
  const legs: Leg[] = [];
  for (let i = 0; i < p.leg_roles.length; i++) {
    const role = LEG_ROLES[p.leg_roles[i]! - 1]!;
    const kind = p.leg_node_kinds[i]!;
    const id = p.leg_node_ids[i]!;
    let recipient: Address;
    if (kind === NodeKind.modelVersion) recipient = (await readVersion(state, id))!.owner;
    else if (kind === NodeKind.datanet) recipient = (await readDatanet(state, id))!.owner;
    else if (kind === NodeKind.contribution) recipient = (await readContribution(state, id))!.contributor;
    else if (kind === NodeKind.agent) recipient = agentAccount(id);
    else recipient = role === 'validated' ? FEE_COLLECTOR : TREASURY;
    legs.push({ role, recipient, amount: p.leg_amounts[i]!, node_kind: kind, node_id: id });
  }
  return legs;
}

export function legView(leg: Leg): JsonValue {
  const node = NODE_KIND_NAMES[leg.node_kind] ?? String(leg.node_kind);
  return {
    role: leg.role,
    recipient: formatAddress(leg.recipient),
    amount: leg.amount.toString(),
    node: leg.node_kind === NodeKind.none ? null : { kind: node, id: leg.node_id },
    why: ROLE_WHY[leg.role] ?? leg.role,
  };
}

export function paymentView(p: Payment): JsonValue {
  return {
    id: p.id,
    payer: formatAddress(p.payer),
    modelVersionId: p.model_version_id,
    amount: p.amount.toString(),
    requestHash: hexOrNull(p.request_hash),
    responseHash: hexOrNull(p.response_hash),
    agentId: p.agent_id || null,
    attributionId: p.attribution_id || null,
    height: p.height,
    txHash: '0x' + toHex(p.tx_hash),
    nodesVisited: p.nodes_visited,
  };
}

export const inferenceModule: Module = {
  name: 'inference',
  txs: [payTx],
  events: [inferencePaidEvent],
  stateKeys: [
    {
      kind: 'payment',
      description: 'an inference payment with its legs (roles, nodes, amounts)',
      id: { name: 'id', kind: 'integer' },
      key: (id) => paymentKey(id as number),
      view: (value) => {
        const p = PaymentCodec.decode(value);
        return {
          ...(paymentView(p) as Record<string, JsonValue>),
          legs: p.leg_roles.map((role, i) => ({
            role: LEG_ROLES[role - 1] ?? role,
            node: { kind: NODE_KIND_NAMES[p.leg_node_kinds[i]!] ?? p.leg_node_kinds[i]!, id: p.leg_node_ids[i]! },
            amount: p.leg_amounts[i]!.toString(),
          })),
        };
      },
    },
  ],
  queries: [
    {
      method: 'attribution_trace',
      description: 'every leg of an inference payment: who received what and why (contributed, refined, executed, validated, ...)',
      params: [{ name: 'paymentId', kind: 'integer' }],
      cli: 'trace',
      async handler(q, p) {
        const id = paramId(p.paymentId, 'paymentId');
        const payment = await readPayment(q.state, id);
        if (!payment) throw new TributaryError('inference/not_found', `payment ${id} does not exist`);
        const byRole: Record<string, string> = {};
        const legs = await paymentLegs(q.state, payment);
        for (const leg of legs) byRole[leg.role] = (BigInt(byRole[leg.role] ?? '0') + leg.amount).toString();
        return { payment: paymentView(payment), legs: legs.map(legView), totalsByRole: byRole };
      },
    },
    {
      method: 'inference_getPayment',
      description: 'an inference payment without its legs',
      params: [{ name: 'id', kind: 'integer' }],
      cli: 'payment',
      async handler(q, p) {
        const id = paramId(p.id);
        const payment = await readPayment(q.state, id);
        if (!payment) throw new TributaryError('inference/not_found', `payment ${id} does not exist`);
        return paymentView(payment);
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
        const blocks: JsonValue[] = [];
        let total = 0n;
        for (let h = Math.max(from, 1); h <= to; h++) {
          const receipts = await q.chain.getReceipts(h);
          let amount = 0n;
          for (const ev of receipts?.end_block_events ?? []) {
            if (ev.type !== 'fees_distributed') continue;
            const a = ev.attributes.find((x) => x.key === 'amount');
            if (a) amount += BigInt(a.value);
          }
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
    await flushPaymentCredits(ctx);
  },
};
