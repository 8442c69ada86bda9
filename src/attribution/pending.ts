import type { Address } from '../crypto/address.ts';
import { FEE_COLLECTOR } from '../state/bank/keeper.ts';
import { toHex } from '../crypto/hash.ts';
import type { BlockContext } from '../state/module.ts';
import type { WorkingState } from '../state/working-state.ts';
import { readContribution, writeContribution } from './datanet.ts';
import { readUsage } from './model.ts';
import { EarningsBook } from './rewards.ts';
import { ModelUsageCodec, PREFIX, REWARDS_POOL, TREASURY, idKey, save, type Leg } from './store.ts';

/*
 * Payment credits of one block, applied to state once at the end of the block. The value itself
 * leaves the payer for the rewards pool inside each payment transaction; what is batched is the
 * bookkeeping of who may claim it, and the validators' and treasury's parts moving from the pool
 * to the fee collector and the treasury, so a block of thousands of payments over the same
 * lineage writes each earner's and each contribution's record once instead of once per payment.
 * Consequence, documented: a payment's credits become claimable (or locked) at the end of its
 * block, so a claim in the same block does not see them yet.
 *
 * The queue lives beside the block's working state, outside its checkpoints, so a transaction may
 * queue its credits only as its very last step, when nothing can fail and revert it any more
 * (`PaymentOutcome.queueCredits`). The end-of-block flush visits everything in sorted order.
 */

interface EarnerCredit {
  address: Address;
  executed: bigint;
  refined: bigint;
  curated: bigint;
  payments: number;
}

interface ContributionCredit {
  amount: bigint;
  payments: number;
}

interface BlockCredits {
  validators: bigint;
  treasury: bigint;
  earners: Map<string, EarnerCredit>;
  contributions: Map<number, ContributionCredit>;
  usage: Map<number, { count: number; amount: bigint }>;
}

const queued = new WeakMap<WorkingState, BlockCredits>();

export function queuePaymentCredits(state: WorkingState, versionId: number, amount: bigint, legs: readonly Leg[]): void {
  let credits = queued.get(state);
  if (!credits) {
    credits = { validators: 0n, treasury: 0n, earners: new Map(), contributions: new Map(), usage: new Map() };
    queued.set(state, credits);
  }
  const seenEarners = new Set<string>();
  for (const leg of legs) {
    if (leg.role === 'contributed') {
      const c = credits.contributions.get(leg.node_id) ?? { amount: 0n, payments: 0 };
      // One payment credits a contribution at most once (legs are merged per node).
      c.amount += leg.amount;
      c.payments += 1;
      credits.contributions.set(leg.node_id, c);
      continue;
    }
    if (leg.role === 'validated') credits.validators += leg.amount;
    if (leg.role === 'treasury') credits.treasury += leg.amount;
    if (leg.role !== 'executed' && leg.role !== 'refined' && leg.role !== 'curated') continue;
    const id = toHex(leg.recipient);
    let e = credits.earners.get(id);
    if (!e) {
      e = { address: leg.recipient, executed: 0n, refined: 0n, curated: 0n, payments: 0 };
      credits.earners.set(id, e);
    }
    e[leg.role] += leg.amount;
    if (!seenEarners.has(id)) {
      seenEarners.add(id);
      e.payments += 1;
    }
  }
  const u = credits.usage.get(versionId) ?? { count: 0, amount: 0n };
  u.count += 1;
  u.amount += amount;
  credits.usage.set(versionId, u);
}

/** End of block: write the queued credits (sorted by address, contribution id, version id). */
export async function flushPaymentCredits(ctx: BlockContext): Promise<void> {
  const credits = queued.get(ctx.state);
  if (!credits) return;
  queued.delete(ctx.state);
  await ctx.bank.transfer(REWARDS_POOL, FEE_COLLECTOR, credits.validators);
  await ctx.bank.transfer(REWARDS_POOL, TREASURY, credits.treasury);
  const book = new EarningsBook(ctx.state);
  for (const id of [...credits.earners.keys()].sort()) {
    const e = credits.earners.get(id)!;
    if (e.executed > 0n) await book.credit(e.address, 'executed', e.executed, true);
    if (e.refined > 0n) await book.credit(e.address, 'refined', e.refined, true);
    if (e.curated > 0n) await book.credit(e.address, 'curated', e.curated, true);
    await book.countPayments(e.address, e.payments, 0);
  }
  for (const id of [...credits.contributions.keys()].sort((a, b) => a - b)) {
    const credit = credits.contributions.get(id)!;
    const c = (await readContribution(ctx.state, id))!;
    c.earned += credit.amount;
    c.paid_count += credit.payments;
    // Inside the challenge window the reward is locked on the contribution; vesting releases it.
    if (!c.vested) c.locked += credit.amount;
    await book.credit(c.contributor, 'contributed', credit.amount, c.vested);
    await book.countPayments(c.contributor, 0, credit.payments);
    writeContribution(ctx.state, c);
  }
  book.flush();
  for (const id of [...credits.usage.keys()].sort((a, b) => a - b)) {
    const add = credits.usage.get(id)!;
    const usage = await readUsage(ctx.state, id);
    usage.paid_count += add.count;
    usage.paid_amount += add.amount;
    save(ctx.state, ModelUsageCodec, idKey(PREFIX.usage, id), usage);
  }
}
