import type { Address } from '../../crypto/address.ts';
import { bytesEqual } from '../../crypto/hash.ts';
import { TributaryError } from '../../errors.ts';
import { FEE_COLLECTOR } from '../../state/bank/keeper.ts';
import { defineEvent } from '../../state/events.ts';
import type { ModuleStore } from '../../state/module-store.ts';
import type { EventValues, KeeperSlot, TxContext, TxDefinition } from '../../state/module.ts';
import type { MsgPay } from '../attribution.pb.ts';
import { hexOrNull, requireHash } from '../common.ts';
import { contributionKey } from '../datanet/keys.ts';
import { DisputeTarget, openDisputeOn } from '../dispute/keys.ts';
import { readRecordFlag } from '../record/keys.ts';
import { ATTRIBUTION_USE, LINEAGE_DATANETS, PAYMENT_AGENTS } from '../expected.ts';
import { versionKey } from '../model/keys.ts';
import { aiParams } from '../params.ts';
import { recordKey } from '../record/keys.ts';
import { type AcceptedContribution, type LineageView, splitPayment } from '../split.ts';
import {
  type Agent,
  AgentCodec,
  type AncestorSet,
  AncestorSetCodec,
  type AttributionRecord,
  AttributionRecordCodec,
  type Contribution,
  ContributionCodec,
  type LegRole,
  type ModelVersion,
  ModelVersionCodec,
  NodeKind,
  PREFIX,
  REWARDS_POOL,
  TREASURY,
  codec,
  idKey,
  load,
  loadCached,
  nextId,
} from '../store.ts';
import { queuePaymentCredits } from './credits.ts';

/* The inference module: its transactions and the events they emit (the rules). */

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
export const inferencePaidEvent = defineEvent(
  'inference_paid',
  'an inference payment and its `legs` legs: who received what, as which role, through which lineage node',
  {
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
  },
);

/** The lineage node a leg of each role is paid through (the split never pairs them otherwise). */
export const ROLE_NODE_KIND: Readonly<Record<LegRole, number>> = {
  validated: NodeKind.none,
  treasury: NodeKind.none,
  executed: NodeKind.agent,
  refined: NodeKind.modelVersion,
  curated: NodeKind.datanet,
  contributed: NodeKind.contribution,
};

export type PaidValues = EventValues<typeof inferencePaidEvent.fields>;

export interface PaymentLeg {
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
export interface PaymentEnv {
  readonly store: ModuleStore;
  keeper<K>(slot: KeeperSlot<K>): K;
}

/*
 * Model versions and ancestor sets are immutable and a version id is never written twice, so once
 * a committed one is read it stays valid for the working state's whole life: memoised by id in
 * the inference store's scratch.
 */
export async function lineageVersion(
  store: ModuleStore,
  id: number,
): Promise<{ version: ModelVersion; ancestors: AncestorSet } | undefined> {
  const memo = store.scratch('versions', () => new Map<number, { version: ModelVersion; ancestors: AncestorSet }>());
  const hit = memo.get(id);
  if (hit) return hit;
  const version = await loadCached(store, versionKey(id), ModelVersionCodec.decodeStored);
  if (!version) return undefined;
  const ancestors = (await loadCached(store, idKey(PREFIX.ancestors, id), AncestorSetCodec.decodeStored)) ?? {
    models: [],
    datanets: [],
  };
  const entry = { version, ancestors };
  if (!store.hasWrite(versionKey(id))) memo.set(id, entry);
  return entry;
}

/** Runs one payment inside the current transaction; shared by `inference/pay` and `agent/act`. */
export async function executePayment(ctx: TxContext, env: PaymentEnv, req: PaymentRequest): Promise<PaymentOutcome> {
  const params = aiParams(ctx.params).inference;
  const store = env.store;
  const datanets = env.keeper(LINEAGE_DATANETS);
  const paid = await lineageVersion(store, req.versionId);
  if (!paid) throw new TributaryError('inference/model_not_found', `model version ${req.versionId} does not exist`);
  const version = paid.version;

  let recordWeights: AttributionRecord['weights'] | undefined;
  let record: AttributionRecord | undefined;
  if (req.attributionId !== 0) {
    record = await loadCached(store, recordKey(req.attributionId), AttributionRecordCodec.decodeStored);
    if (!record)
      throw new TributaryError('attribution/not_found', `attribution record ${req.attributionId} does not exist`);
    // Weights under dispute steer nothing until the dispute fails; upheld, never again.
    const flagged = await readRecordFlag(store, record.id);
    if (flagged !== undefined)
      throw new TributaryError('attribution/flagged', `record ${record.id} was flagged by dispute ${flagged}`);
    const disputed = await openDisputeOn(store, DisputeTarget.attributionRecord, record.id);
    if (disputed !== undefined)
      throw new TributaryError('attribution/disputed', `record ${record.id} is under dispute ${disputed}`);
    if (record.model_version_id !== version.id) {
      throw new TributaryError(
        'attribution/wrong_model',
        `record ${record.id} attributes version ${record.model_version_id}, not ${version.id}`,
      );
    }
    if (record.request_hash.length > 0) {
      if (!bytesEqual(record.request_hash, req.requestHash)) {
        throw new TributaryError('attribution/request_mismatch', `record ${record.id} is for another request`);
      }
      if (record.used_by_payment !== 0) {
        throw new TributaryError(
          'attribution/already_used',
          `record ${record.id} was used by payment ${record.used_by_payment}`,
        );
      }
    }
    recordWeights = record.weights;
  }

  // Read-only here: contribution records change at review, vesting and the end-of-block credit.
  const contribution = async (id: number): Promise<Contribution> =>
    (await loadCached(store, contributionKey(id), ContributionCodec.decodeStored))!;
  const asAccepted = (c: Contribution): AcceptedContribution => ({
    id: c.id,
    contributor: c.contributor,
    size: c.size,
  });
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

export const payTx: TxDefinition<MsgPay> = {
  type: 'inference/pay',
  codec: codec('MsgPay'),
  validateBasic(m) {
    if (!Number.isSafeInteger(m.model_version_id) || m.model_version_id < 1)
      throw new TributaryError('inference/invalid', 'model_version_id');
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
