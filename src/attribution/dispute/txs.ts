import { viewOf } from '../../codec/view.ts';
import type { Address } from '../../crypto/address.ts';
import { bytesEqual } from '../../crypto/hash.ts';
import { TributaryError } from '../../errors.ts';
import type { BankTransfers } from '../../state/bank/keeper.ts';
import { validatorsAt } from '../../state/chainconfig/keeper.ts';
import { defineEvent } from '../../state/events.ts';
import { bpsOf } from '../../state/math.ts';
import type { ModuleStore } from '../../state/module-store.ts';
import type { EventSink, KeeperSlot, TxDefinition } from '../../state/module.ts';
import type { ChainParams } from '../../state/params.ts';
import { STAKE, type StakeRole } from '../../state/staking/api.ts';
import type { MsgOpenDispute, MsgRespondDispute, MsgVoteDispute } from '../attribution.pb.ts';
import { requireHash, requireId } from '../common.ts';
import { readContribution, readDatanet } from '../datanet/keys.ts';
import { isCuratorOrOwner } from '../datanet/txs.ts';
import { readAgent } from '../agent/keys.ts';
import { AGENT_FLAGS, CONTRIBUTION_DISPUTES, EARNINGS, MODEL_FLAGS, RECORD_FLAGS } from '../expected.ts';
import { readVersion, readVersionFlag } from '../model/keys.ts';
import { readRecord, readRecordFlag } from '../record/keys.ts';
import { aiParams } from '../params.ts';
import {
  ContributionStatus,
  DISPUTE_ESCROW,
  type Dispute,
  IdListCodec,
  PREFIX,
  REWARDS_POOL,
  TREASURY,
  agentAccount,
  codec,
  load,
  nextId,
  put,
  remove,
  save,
  writeId,
} from '../store.ts';
import {
  DISPUTE_REASON_NAMES,
  DISPUTE_STATUS_NAMES,
  DISPUTE_TARGET_NAMES,
  DisputeStatus,
  DisputeTarget,
  REASONS_BY_TARGET,
  openDisputeOn,
  queueKey,
  readDispute,
  targetKey,
  voteKey,
  writeDispute,
} from './keys.ts';

/* The dispute module: its transactions, the resolution at the end of the voting window, and the events. */

export type DisputeErrorCode =
  | 'dispute/invalid'
  | 'dispute/target_not_found'
  | 'dispute/not_disputable'
  | 'dispute/already_open'
  | 'dispute/self_dispute'
  | 'dispute/bond_too_low'
  | 'dispute/not_found'
  | 'dispute/closed'
  | 'dispute/unauthorized'
  | 'dispute/already_answered'
  | 'dispute/not_voter'
  | 'dispute/conflicted'
  | 'dispute/already_voted';

export const disputeOpenedEvent = defineEvent('dispute_opened', 'a dispute was opened with its bond', {
  dispute_id: { kind: 'integer', indexed: true },
  target_kind: { kind: 'string' },
  target_id: { kind: 'integer' },
  reason: { kind: 'string' },
  challenger: { kind: 'address', indexed: true },
  respondent: { kind: 'address', indexed: true },
  evidence_hash: { kind: 'hash' },
  bond: { kind: 'amount' },
  resolve_height: { kind: 'integer' },
});

export const disputeAnsweredEvent = defineEvent('dispute_answered', "the target's owner answered with a counter-bond", {
  dispute_id: { kind: 'integer', indexed: true },
  evidence_hash: { kind: 'hash' },
  counter_bond: { kind: 'amount' },
});

export const disputeVotedEvent = defineEvent('dispute_voted', 'a voter decided on a dispute', {
  dispute_id: { kind: 'integer', indexed: true },
  voter: { kind: 'address', indexed: true },
  uphold: { kind: 'boolean' },
});

export const disputeResolvedEvent = defineEvent(
  'dispute_resolved',
  'end of block: a dispute was decided by its votes and the bonds, stake and held rewards paid out',
  {
    dispute_id: { kind: 'integer', indexed: true },
    status: { kind: 'string' },
    votes_uphold: { kind: 'integer' },
    votes_reject: { kind: 'integer' },
    winner: { kind: 'address', indexed: true },
    slashed: { kind: 'amount' },
    clawed_back: { kind: 'amount' },
    released: { kind: 'amount' },
    to_winner: { kind: 'amount' },
    to_treasury: { kind: 'amount' },
  },
);

/**
 * The staking role an upheld dispute slashes, by target kind. A model version's owner holds no
 * staking role of its own (the staking contract has validator, contributor, curator, agent), so a
 * version's owner risks its counter-bond and its held earnings, not stake.
 */
const SLASHED_ROLE: Record<number, StakeRole | undefined> = {
  [DisputeTarget.contribution]: 'contributor',
  [DisputeTarget.agentAction]: 'agent',
};

export const openDisputeTx: TxDefinition<MsgOpenDispute> = {
  type: 'dispute/open',
  codec: codec('MsgOpenDispute'),
  validateBasic(m) {
    const reasons = REASONS_BY_TARGET[m.target_kind];
    if (!reasons) throw new TributaryError('dispute/invalid', `unknown target kind ${m.target_kind}`);
    requireId('dispute/invalid', m.target_id, 'target_id');
    if (!reasons.includes(m.reason)) {
      throw new TributaryError(
        'dispute/invalid',
        `reason ${DISPUTE_REASON_NAMES[m.reason] ?? m.reason} does not apply to a ${DISPUTE_TARGET_NAMES[m.target_kind]}`,
        { field: 'reason' },
      );
    }
    requireHash('dispute/invalid', m.evidence_hash, 'evidence_hash');
    if (m.target_kind !== DisputeTarget.agentAction && m.target_seq !== 0)
      throw new TributaryError('dispute/invalid', 'target_seq is for agent actions only', { field: 'target_seq' });
  },
  async execute(ctx, m) {
    const params = aiParams(ctx.params).dispute;
    if (m.bond < params.minBond) {
      throw new TributaryError('dispute/bond_too_low', `bond ${m.bond} is below the minimum ${params.minBond}`, {
        minBond: params.minBond.toString(),
      });
    }
    const existing = await openDisputeOn(ctx.store, m.target_kind, m.target_id);
    if (existing !== undefined) {
      throw new TributaryError('dispute/already_open', `dispute ${existing} is already open against this target`, {
        disputeId: existing,
      });
    }
    const target = await disputedTarget(ctx.store, m.target_kind, m.target_id, m.target_seq);
    if (bytesEqual(target.respondent, ctx.sender))
      throw new TributaryError('dispute/self_dispute', 'a dispute against your own target');
    const role = SLASHED_ROLE[m.target_kind];
    // The slash base is fixed now, so unbonding after the dispute opened does not shrink it.
    const stakeAtOpen = role ? await ctx.keeper(STAKE).bonded(target.respondent, role) : 0n;
    await ctx.bank.transfer(ctx.sender, DISPUTE_ESCROW, m.bond);
    const id = await nextId(ctx.store, PREFIX.disputeSeq);
    const resolveHeight = ctx.height + params.votingBlocks;
    const dispute: Dispute = {
      id,
      target_kind: m.target_kind,
      target_id: m.target_id,
      reason: m.reason,
      challenger: ctx.sender,
      evidence_hash: m.evidence_hash,
      bond: m.bond,
      respondent: target.respondent,
      response_hash: new Uint8Array(0),
      counter_bond: 0n,
      status: DisputeStatus.open,
      opened_height: ctx.height,
      responded_height: 0,
      resolve_height: resolveHeight,
      datanet_id: target.datanetId,
      votes_uphold: 0,
      votes_reject: 0,
      held: 0n,
      slashed: 0n,
      clawed_back: 0n,
      to_winner: 0n,
      to_treasury: 0n,
      stake_at_open: stakeAtOpen,
      target_seq: m.target_seq,
    };
    writeDispute(ctx.store, dispute);
    writeId(ctx.store, targetKey(m.target_kind, m.target_id), id);
    const queue = (await load(ctx.store, IdListCodec, queueKey(resolveHeight))) ?? { ids: [] };
    queue.ids.push(id);
    save(ctx.store, IdListCodec, queueKey(resolveHeight), queue);
    if (m.target_kind === DisputeTarget.contribution) await ctx.keeper(CONTRIBUTION_DISPUTES).hold(m.target_id, id);
    disputeOpenedEvent.emit(ctx, {
      dispute_id: id,
      target_kind: DISPUTE_TARGET_NAMES[m.target_kind]!,
      target_id: m.target_id,
      reason: DISPUTE_REASON_NAMES[m.reason]!,
      challenger: ctx.sender,
      respondent: target.respondent,
      evidence_hash: m.evidence_hash,
      bond: m.bond,
      resolve_height: resolveHeight,
    });
  },
  view(m) {
    return viewOf(openDisputeTx.codec, m);
  },
};

/** Who answers for a target and, for a contribution, whose reviewers vote. Refuses what cannot be disputed. */
async function disputedTarget(
  store: ModuleStore,
  kind: number,
  id: number,
  seq: number,
): Promise<{ respondent: Address; datanetId: number }> {
  if (kind === DisputeTarget.agentAction) {
    const agent = await readAgent(store, id);
    if (!agent) throw new TributaryError('dispute/target_not_found', `agent ${id} does not exist`);
    if (seq >= agent.actions) throw new TributaryError('dispute/target_not_found', `agent ${id} has no action ${seq}`);
    return { respondent: agent.owner, datanetId: 0 };
  }
  if (kind === DisputeTarget.contribution) {
    const c = await readContribution(store, id);
    if (!c) throw new TributaryError('dispute/target_not_found', `contribution ${id} does not exist`);
    // Only inside its challenge window: after vesting its stake is back and its rewards are paid.
    if (c.status !== ContributionStatus.accepted || c.vested) {
      throw new TributaryError(
        'dispute/not_disputable',
        `contribution ${id} is not an accepted contribution inside its challenge window`,
      );
    }
    return { respondent: c.contributor, datanetId: c.datanet_id };
  }
  if (kind === DisputeTarget.attributionRecord) {
    const r = await readRecord(store, id);
    if (!r) throw new TributaryError('dispute/target_not_found', `attribution record ${id} does not exist`);
    const flagged = await readRecordFlag(store, id);
    if (flagged !== undefined) {
      throw new TributaryError('dispute/not_disputable', `record ${id} was already flagged by dispute ${flagged}`);
    }
    return { respondent: r.author, datanetId: 0 };
  }
  const v = await readVersion(store, id);
  if (!v) throw new TributaryError('dispute/target_not_found', `model version ${id} does not exist`);
  const flagged = await readVersionFlag(store, id);
  if (flagged !== undefined) {
    throw new TributaryError('dispute/not_disputable', `model version ${id} was already flagged by dispute ${flagged}`);
  }
  return { respondent: v.owner, datanetId: 0 };
}

async function requireOpen(store: ModuleStore, id: number): Promise<Dispute> {
  const d = await readDispute(store, id);
  if (!d) throw new TributaryError('dispute/not_found', `dispute ${id} does not exist`);
  if (d.status !== DisputeStatus.open)
    throw new TributaryError('dispute/closed', `dispute ${id} is ${DISPUTE_STATUS_NAMES[d.status]}`);
  return d;
}

export const respondDisputeTx: TxDefinition<MsgRespondDispute> = {
  type: 'dispute/respond',
  codec: codec('MsgRespondDispute'),
  validateBasic(m) {
    requireId('dispute/invalid', m.dispute_id, 'dispute_id');
    requireHash('dispute/invalid', m.evidence_hash, 'evidence_hash');
  },
  async execute(ctx, m) {
    const d = await requireOpen(ctx.store, m.dispute_id);
    if (!bytesEqual(d.respondent, ctx.sender))
      throw new TributaryError('dispute/unauthorized', "only the target's owner answers a dispute");
    if (d.responded_height !== 0)
      throw new TributaryError('dispute/already_answered', `dispute ${d.id} was answered at ${d.responded_height}`);
    const params = aiParams(ctx.params).dispute;
    if (m.counter_bond < params.minBond) {
      throw new TributaryError(
        'dispute/bond_too_low',
        `counter-bond ${m.counter_bond} is below the minimum ${params.minBond}`,
        { minBond: params.minBond.toString() },
      );
    }
    await ctx.bank.transfer(ctx.sender, DISPUTE_ESCROW, m.counter_bond);
    d.response_hash = m.evidence_hash;
    d.counter_bond = m.counter_bond;
    d.responded_height = ctx.height;
    writeDispute(ctx.store, d);
    disputeAnsweredEvent.emit(ctx, { dispute_id: d.id, evidence_hash: m.evidence_hash, counter_bond: m.counter_bond });
  },
  view(m) {
    return viewOf(respondDisputeTx.codec, m);
  },
};

/**
 * Who may vote: for a contribution, its datanet's reviewers (owner and curators, the accounts that
 * may accept contributions there); for anything else, the validators signing this block. Neither
 * party votes on its own dispute.
 */
async function mayVote(store: ModuleStore, height: number, d: Dispute, voter: Address): Promise<boolean> {
  if (d.target_kind === DisputeTarget.contribution) {
    const datanet = (await readDatanet(store, d.datanet_id))!;
    return isCuratorOrOwner(datanet, voter);
  }
  return (await validatorsAt(store, height)).some((v) => bytesEqual(v.address, voter));
}

export const voteDisputeTx: TxDefinition<MsgVoteDispute> = {
  type: 'dispute/vote',
  codec: codec('MsgVoteDispute'),
  validateBasic(m) {
    requireId('dispute/invalid', m.dispute_id, 'dispute_id');
  },
  async execute(ctx, m) {
    const d = await requireOpen(ctx.store, m.dispute_id);
    if (!(await mayVote(ctx.store, ctx.height, d, ctx.sender))) {
      throw new TributaryError(
        'dispute/not_voter',
        d.target_kind === DisputeTarget.contribution
          ? "only the datanet's owner and curators vote on a contribution dispute"
          : 'only validators vote on this dispute',
      );
    }
    if (bytesEqual(ctx.sender, d.challenger) || bytesEqual(ctx.sender, d.respondent))
      throw new TributaryError('dispute/conflicted', 'a party to a dispute does not vote on it');
    const key = voteKey(d.id, ctx.sender);
    if (await ctx.store.get(key)) throw new TributaryError('dispute/already_voted', `already voted on dispute ${d.id}`);
    put(ctx.store, key, Uint8Array.of(m.uphold ? 1 : 0));
    if (m.uphold) d.votes_uphold += 1;
    else d.votes_reject += 1;
    writeDispute(ctx.store, d);
    disputeVotedEvent.emit(ctx, { dispute_id: d.id, voter: ctx.sender, uphold: m.uphold });
  },
  view(m) {
    return viewOf(voteDisputeTx.codec, m);
  },
};

// ------------------------------------------------------------------ resolution

/** What resolution needs of a block context. */
export interface ResolveContext extends EventSink {
  readonly height: number;
  readonly store: ModuleStore;
  readonly bank: BankTransfers;
  readonly params: ChainParams;
  keeper<K>(slot: KeeperSlot<K>): K;
}

/**
 * Takes `slashBps` of the respondent's stake at opening from its stake in the target's role (bonded
 * first, then unbonding entries, which stay slashable) into the escrow; returns what was taken.
 */
async function slashRespondent(ctx: ResolveContext, d: Dispute): Promise<bigint> {
  const role = SLASHED_ROLE[d.target_kind];
  if (!role) return 0n;
  const amount = bpsOf(d.stake_at_open, aiParams(ctx.params).dispute.slashBps);
  return ctx.keeper(STAKE).slash(d.respondent, role, amount, DISPUTE_ESCROW, `dispute ${d.id} upheld`);
}

/**
 * Decides a dispute at the end of its voting window. Upheld when more voters upheld it than
 * rejected it; a tie or no vote at all keeps the status quo (rejected). Everything the loser
 * forfeits passes through the escrow and is split winner / treasury by `winnerShareBps`, floored
 * for the winner, so every unit lands somewhere.
 */
export async function resolveDispute(ctx: ResolveContext, d: Dispute): Promise<void> {
  const params = aiParams(ctx.params).dispute;
  const upheld = d.votes_uphold > d.votes_reject;
  const winner = upheld ? d.challenger : d.respondent;
  let forfeited: bigint;
  let released = 0n;
  if (upheld) {
    await ctx.bank.transfer(DISPUTE_ESCROW, d.challenger, d.bond);
    forfeited = d.counter_bond;
    if (d.target_kind === DisputeTarget.contribution) {
      const taken = await ctx.keeper(CONTRIBUTION_DISPUTES).strike(d.target_id, DISPUTE_ESCROW);
      d.slashed += taken.stake;
      d.clawed_back += taken.locked;
    } else if (d.target_kind === DisputeTarget.modelVersion) {
      d.clawed_back += d.held;
      ctx.keeper(MODEL_FLAGS).flag(d.target_id, d.id);
    } else if (d.target_kind === DisputeTarget.agentAction) {
      d.clawed_back += d.held;
      ctx.keeper(AGENT_FLAGS).flag(d.target_id, d.id);
    } else {
      ctx.keeper(RECORD_FLAGS).flag(d.target_id, d.id);
    }
    d.slashed += await slashRespondent(ctx, d);
    forfeited += d.slashed + d.clawed_back;
  } else {
    await ctx.bank.transfer(DISPUTE_ESCROW, d.respondent, d.counter_bond);
    forfeited = d.bond;
    if (d.target_kind === DisputeTarget.contribution) {
      await ctx.keeper(CONTRIBUTION_DISPUTES).release(d.target_id, ctx.height);
    } else if (d.held > 0n) {
      // Held earnings go back to the pool as the earner's claimable rewards: a version's owner's,
      // or an agent's own (its account; its owner or a controller claims them).
      released = d.held;
      await ctx.bank.transfer(DISPUTE_ESCROW, REWARDS_POOL, released);
      const earnings = ctx.keeper(EARNINGS).book();
      if (d.target_kind === DisputeTarget.agentAction)
        await earnings.credit(agentAccount(d.target_id), 'executed', released, true);
      else await earnings.credit(d.respondent, 'refined', released, true);
      earnings.flush();
    }
  }
  d.to_winner = bpsOf(forfeited, params.winnerShareBps);
  d.to_treasury = forfeited - d.to_winner;
  await ctx.bank.transfer(DISPUTE_ESCROW, winner, d.to_winner);
  await ctx.bank.transfer(DISPUTE_ESCROW, TREASURY, d.to_treasury);
  d.status = upheld ? DisputeStatus.upheld : DisputeStatus.rejected;
  writeDispute(ctx.store, d);
  remove(ctx.store, targetKey(d.target_kind, d.target_id));
  disputeResolvedEvent.emit(ctx, {
    dispute_id: d.id,
    status: DISPUTE_STATUS_NAMES[d.status]!,
    votes_uphold: d.votes_uphold,
    votes_reject: d.votes_reject,
    winner,
    slashed: d.slashed,
    clawed_back: d.clawed_back,
    released,
    to_winner: d.to_winner,
    to_treasury: d.to_treasury,
  });
}

/** End of block: every dispute whose window ends with this block, in id order. */
export async function resolveDue(ctx: ResolveContext): Promise<void> {
  const key = queueKey(ctx.height);
  const queue = await load(ctx.store, IdListCodec, key);
  if (!queue) return;
  for (const id of queue.ids) await resolveDispute(ctx, (await readDispute(ctx.store, id))!);
  remove(ctx.store, key);
}
