import { addressFromPublicKey, type Address } from '../../crypto/address.ts';
import { bytesEqual } from '../../crypto/hash.ts';
import { TREASURY } from '../../attribution/store.ts';
import { TributaryError, isTributaryError } from '../../errors.ts';
import { latestScheduledParams, latestScheduledValidators } from '../chainconfig/keeper.ts';
import type { BlockContext, TxContext } from '../module.ts';
import type { ChainParamsJson } from '../params.ts';
import { STAKE } from '../staking/api.ts';
import { stakingParams } from '../staking/params.ts';
import {
  depositSettledEvent,
  depositedEvent,
  executedEvent,
  executionFailedEvent,
  expiredEvent,
  talliedEvent,
  votingScheduledEvent,
} from './events.ts';
import { type GovParams, govParams } from './params.ts';
import {
  CONTENT_KIND_NAMES,
  ContentKind,
  DepositsCodec,
  GOV_DEPOSITS,
  type Proposal,
  ProposalStatus,
  STATUS_NAMES,
  VoteOption,
  dequeue,
  depositsKey,
  enqueue,
  isValidatorSetKind,
  readDeposits,
  readProposal,
  readVotes,
  takeDue,
  votesKey,
  writeProposal,
} from './records.ts';

/*
 * A proposal's life, in blocks (params.ts has the parameters, taken from the block that acts):
 *
 *   submitted at S      deposits accepted at S .. S + depositPeriodBlocks - 1 (deposit_end)
 *   minimum reached at A  votes accepted at A + votingDelayBlocks (voting_start) for votingPeriodBlocks
 *   tally at the end of voting_end; passed: executed at the end of voting_end + executionDelayBlocks
 *   executed at E        a parameter or validator-set change is in force from E + 2 (UPDATE_DELAY);
 *                        a treasury spend is paid in E
 *
 * Each proposal with a step ahead sits in exactly one queue record, keyed by the height of that
 * step, so the end-of-block hook reads one key per block and never scans. Due proposals are taken
 * in ascending id order.
 *
 * Deposits sit in the GOV_DEPOSITS module account. They are refunded to their depositors when the
 * deposit period ends below the minimum (nobody voted, so nothing is held against them) and when a
 * tally reaches quorum (passed, rejected, later executed or failed alike); when a tally misses
 * quorum they go to the treasury, the price of taking the chain's attention for nothing. Nothing
 * is burned.
 */

/** Adds a deposit (the proposer's initial one too) and opens the vote when the minimum is in. */
export async function addDeposit(ctx: TxContext, p: Proposal, depositor: Address, amount: bigint): Promise<void> {
  await ctx.bank.transfer(depositor, GOV_DEPOSITS, amount);
  const deposits = await readDeposits(ctx.store, p.id);
  const mine = deposits.entries.find((d) => bytesEqual(d.depositor, depositor));
  if (mine) mine.amount += amount;
  else deposits.entries.push({ depositor, amount });
  ctx.store.save(DepositsCodec, depositsKey(p.id), deposits);
  p.total_deposit += amount;
  depositedEvent.emit(ctx, { proposal_id: p.id, depositor, amount, total: p.total_deposit });
  const gp = govParams(ctx.params);
  if (p.total_deposit >= gp.minDeposit) {
    await dequeue(ctx.store, p.deposit_end_height, p.id);
    p.status = ProposalStatus.voting;
    p.voting_start_height = ctx.height + gp.votingDelayBlocks;
    p.voting_end_height = p.voting_start_height + gp.votingPeriodBlocks - 1;
    await enqueue(ctx.store, p.voting_end_height, p.id);
    votingScheduledEvent.emit(ctx, {
      proposal_id: p.id,
      voting_start_height: p.voting_start_height,
      voting_end_height: p.voting_end_height,
    });
  }
  writeProposal(ctx.store, p);
}

/** End of block: every proposal with a step due at this height, by id. */
export async function govEndBlock(ctx: BlockContext): Promise<void> {
  const gp = govParams(ctx.params);
  for (const id of await takeDue(ctx.store, ctx.height)) {
    const p = await readProposal(ctx.store, id);
    if (!p) throw new TributaryError('gov/not_found', `queued proposal ${id} does not exist`);
    if (p.status === ProposalStatus.deposit && p.deposit_end_height === ctx.height) {
      p.status = ProposalStatus.expired;
      p.decided_height = ctx.height;
      expiredEvent.emit(ctx, { proposal_id: id, total: p.total_deposit });
      await settleDeposits(ctx, id, 'refund');
    } else if (p.status === ProposalStatus.voting && p.voting_end_height === ctx.height) {
      if ((await tally(ctx, gp, p)) === ProposalStatus.passed) {
        if (p.execute_height === ctx.height) await execute(ctx, p);
        else await enqueue(ctx.store, p.execute_height, id);
      }
    } else if (p.status === ProposalStatus.passed && p.execute_height === ctx.height) {
      await execute(ctx, p);
    }
    writeProposal(ctx.store, p);
  }
}

/**
 * Counts the votes with the weights of this block: bonded stake (every role; a unit of stake is in
 * one record only, so it counts once, and reading it now means stake moved after voting cannot
 * vote again under another account) for parameter and treasury proposals, one per validator of
 * the set signing this block for validator-set proposals (a validator who left counts no more).
 */
async function tally(ctx: BlockContext, gp: GovParams, p: Proposal): Promise<number> {
  const votes = (await readVotes(ctx.store, p.id)).entries;
  const sums = { [VoteOption.yes]: 0n, [VoteOption.no]: 0n, [VoteOption.abstain]: 0n } as Record<number, bigint>;
  let eligible: bigint;
  if (isValidatorSetKind(p.content!.kind)) {
    eligible = BigInt(ctx.validators.length);
    for (const v of votes) if (ctx.validators.some((val) => bytesEqual(val.address, v.voter))) sums[v.option]! += 1n;
  } else {
    const stake = ctx.keeper(STAKE);
    eligible = await stake.totalBonded();
    for (const v of votes) sums[v.option]! += await stake.bondedTotal(v.voter);
  }
  p.yes = sums[VoteOption.yes]!;
  p.no = sums[VoteOption.no]!;
  p.abstain = sums[VoteOption.abstain]!;
  p.eligible = eligible;
  ctx.store.delete(votesKey(p.id));
  const turnout = p.yes + p.no + p.abstain;
  const quorum = eligible > 0n && turnout * 10_000n >= BigInt(gp.quorumBps) * eligible;
  const passes = p.yes * 10_000n > BigInt(gp.thresholdBps) * (p.yes + p.no);
  if (!quorum) p.status = ProposalStatus.noQuorum;
  else if (passes) p.status = ProposalStatus.passed;
  else p.status = ProposalStatus.rejected;
  if (p.status === ProposalStatus.passed) p.execute_height = ctx.height + gp.executionDelayBlocks;
  else p.decided_height = ctx.height;
  talliedEvent.emit(ctx, {
    proposal_id: p.id,
    status: STATUS_NAMES[p.status]!,
    yes: p.yes,
    no: p.no,
    abstain: p.abstain,
    eligible,
  });
  await settleDeposits(ctx, p.id, quorum ? 'refund' : 'treasury');
  return p.status;
}

/** Empties the proposal's deposits out of the gov account, each to its depositor or all to the treasury. */
async function settleDeposits(ctx: BlockContext, id: number, rule: 'refund' | 'treasury'): Promise<void> {
  for (const d of (await readDeposits(ctx.store, id)).entries) {
    const to = rule === 'refund' ? d.depositor : TREASURY;
    await ctx.bank.transfer(GOV_DEPOSITS, to, d.amount);
    depositSettledEvent.emit(ctx, { proposal_id: id, depositor: d.depositor, amount: d.amount, to });
  }
  ctx.store.delete(depositsKey(id));
}

/**
 * Runs a passed proposal through the typed path of its kind. Each kind is one call that checks
 * everything before it writes anything (ChainConfigKeeper validates the merged parameters or the
 * new set first; a bank transfer checks the balance first) and the gov checks come before it, so
 * a failure leaves state as it was: the proposal is marked failed with the coded error.
 */
async function execute(ctx: BlockContext, p: Proposal): Promise<void> {
  const c = p.content!;
  const kind = CONTENT_KIND_NAMES[c.kind]!;
  p.decided_height = ctx.height;
  try {
    p.effective_height = await apply(ctx, p);
    p.status = ProposalStatus.executed;
    executedEvent.emit(ctx, { proposal_id: p.id, kind, effective_height: p.effective_height });
  } catch (e) {
    const err = isTributaryError(e) ? e : new TributaryError('gov/execution_failed', String(e));
    p.status = ProposalStatus.failed;
    p.error_code = err.code;
    p.error_message = err.message;
    executionFailedEvent.emit(ctx, { proposal_id: p.id, kind, error_code: err.code, error_message: err.message });
  }
}

/**
 * The keeper replaces a module section a change names as a whole; a proposal names only the
 * fields it changes, so each section it names is first merged field by field over that section in
 * the latest scheduled parameters (what the keeper merges into). Nested values (staking's
 * `minBond`) are replaced whole, like any other field.
 */
async function withSectionsMerged(ctx: BlockContext, change: ChainParamsJson): Promise<ChainParamsJson> {
  if (!change.modules) return change;
  const latest = (await latestScheduledParams(ctx.store)).modules;
  const modules: Record<string, unknown> = {};
  for (const [name, section] of Object.entries(change.modules)) {
    const current = latest[name];
    const base = typeof current === 'object' && current !== null && !Array.isArray(current) ? current : {};
    modules[name] = { ...base, ...(section as Record<string, unknown>) };
  }
  return { ...change, modules };
}

/** The change itself; returns the height it is in force from. */
async function apply(ctx: BlockContext, p: Proposal): Promise<number> {
  const c = p.content!;
  switch (c.kind) {
    case ContentKind.paramChange:
      return ctx.chainConfig.scheduleParamChange(
        await withSectionsMerged(ctx, JSON.parse(c.params_json) as ChainParamsJson),
      );
    case ContentKind.validatorAddition: {
      const candidate = addressFromPublicKey(c.public_key);
      const latest = await latestScheduledValidators(ctx.store);
      if (latest.some((v) => bytesEqual(v.publicKey, c.public_key)))
        throw new TributaryError('gov/already_validator', 'the candidate is already in the validator set');
      const bonded = await ctx.keeper(STAKE).bonded(candidate, 'validator');
      const needed = stakingParams(ctx.params).minBond.validator;
      if (bonded < needed) {
        throw new TributaryError(
          'gov/insufficient_bond',
          `the candidate has ${bonded} bonded as validator, needs ${needed}`,
          {
            bonded: bonded.toString(),
            needed: needed.toString(),
          },
        );
      }
      return ctx.chainConfig.scheduleValidatorUpdates([
        { publicKey: c.public_key, power: c.power, ...(c.name ? { name: c.name } : {}) },
      ]);
    }
    case ContentKind.validatorRemoval:
      return ctx.chainConfig.scheduleValidatorUpdates([{ publicKey: c.public_key, power: 0 }]);
    case ContentKind.treasurySpend:
      await ctx.bank.transfer(TREASURY, c.recipient, c.amount);
      return ctx.height;
    default:
      throw new TributaryError('gov/invalid', `unknown content kind ${c.kind}`);
  }
}
