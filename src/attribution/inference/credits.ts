import type { Address } from '../../crypto/address.ts';
import { FEE_COLLECTOR } from '../../state/bank/keeper.ts';
import { toHex } from '../../crypto/hash.ts';
import type { BlockContext } from '../../state/module.ts';
import type { ModuleStore } from '../../state/module-store.ts';
import type { ContributionCredits, DisputeHolds, EarningsBooks, EpochCaps, ModelUsageBook } from '../expected.ts';
import { aiParams } from '../params.ts';
import { NodeKind, REWARDS_POOL, TREASURY, type Leg } from '../store.ts';

/*
 * Payment credits of one block, applied to state once at the end of the block. The value itself
 * leaves the payer for the rewards pool inside each payment transaction; what is batched is the
 * bookkeeping of who may claim it, and the validators' and treasury's parts moving from the pool
 * to the fee collector and the treasury, so a block of thousands of payments over the same
 * lineage writes each earner's and each contribution's record once instead of once per payment.
 * Consequence, documented: a payment's credits become claimable (or locked) at the end of its
 * block, so a claim in the same block does not see them yet.
 *
 * The queue is the inference store's block-scoped scratch, outside the working state's
 * checkpoints. That is safe because a transaction queues its credits only as its very last step
 * (`PaymentOutcome.queueCredits`), when nothing can fail and revert it any more; a revert would not
 * undo the queue. The end-of-block flush visits everything in sorted order and writes the other
 * modules' records through their keepers (expected.ts).
 *
 * A model version under an open dispute earns into the dispute escrow instead: its owner's legs
 * (including what its derivatives pass to it through their parent edges, which reach it as its
 * owner leg) are held by the dispute until it resolves (src/attribution/dispute).
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
  /** Each version's owner legs (role `refined`), so a disputed version's can be held. */
  versionOwners: Map<number, { earner: string; amount: bigint }>;
  /** Each agent's fee legs (role `executed`), so a disputed agent's can be held. */
  agentFees: Map<number, { earner: string; amount: bigint }>;
}

const SCRATCH = 'credits';

function emptyCredits(): BlockCredits {
  return {
    validators: 0n,
    treasury: 0n,
    earners: new Map(),
    contributions: new Map(),
    usage: new Map(),
    versionOwners: new Map(),
    agentFees: new Map(),
  };
}

export function queuePaymentCredits(store: ModuleStore, versionId: number, amount: bigint, legs: readonly Leg[]): void {
  const credits = store.scratch(SCRATCH, emptyCredits);
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
    if (leg.role === 'refined' && leg.node_kind === NodeKind.modelVersion) {
      const v = credits.versionOwners.get(leg.node_id) ?? { earner: id, amount: 0n };
      v.amount += leg.amount;
      credits.versionOwners.set(leg.node_id, v);
    }
    if (leg.role === 'executed' && leg.node_kind === NodeKind.agent) {
      const a = credits.agentFees.get(leg.node_id) ?? { earner: id, amount: 0n };
      a.amount += leg.amount;
      credits.agentFees.set(leg.node_id, a);
    }
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
export async function flushPaymentCredits(
  ctx: BlockContext,
  keepers: { earnings: EarningsBooks; contributions: ContributionCredits; usage: ModelUsageBook; holds: DisputeHolds },
): Promise<void> {
  const credits = ctx.store.takeScratch<BlockCredits>(SCRATCH);
  if (!credits) return;
  for (const versionId of [...credits.versionOwners.keys()].sort((a, b) => a - b)) {
    const disputeId = await keepers.holds.holding('model_version', versionId);
    if (disputeId === undefined) continue;
    const owner = credits.versionOwners.get(versionId)!;
    credits.earners.get(owner.earner)!.refined -= owner.amount;
    await keepers.holds.hold(disputeId, owner.amount);
  }
  for (const agentId of [...credits.agentFees.keys()].sort((a, b) => a - b)) {
    const disputeId = await keepers.holds.holding('agent', agentId);
    if (disputeId === undefined) continue;
    const fee = credits.agentFees.get(agentId)!;
    credits.earners.get(fee.earner)!.executed -= fee.amount;
    await keepers.holds.hold(disputeId, fee.amount);
  }
  await ctx.bank.transfer(REWARDS_POOL, FEE_COLLECTOR, credits.validators);
  await ctx.bank.transfer(REWARDS_POOL, TREASURY, credits.treasury);
  const book = keepers.earnings.book();
  for (const id of [...credits.earners.keys()].sort()) {
    const e = credits.earners.get(id)!;
    if (e.executed > 0n) await book.credit(e.address, 'executed', e.executed, true);
    if (e.refined > 0n) await book.credit(e.address, 'refined', e.refined, true);
    if (e.curated > 0n) await book.credit(e.address, 'curated', e.curated, true);
    await book.countPayments(e.address, e.payments, 0);
  }
  const dn = aiParams(ctx.params).datanet;
  const caps: EpochCaps = {
    epoch: Math.floor(ctx.height / dn.epochBlocks),
    datanetEpochCap: dn.datanetEpochCap,
    contributorCapPerStakeBps: dn.contributorCapPerStakeBps,
  };
  let overCap = 0n;
  for (const id of [...credits.contributions.keys()].sort((a, b) => a - b)) {
    const credit = credits.contributions.get(id)!;
    const { contributor, vested, credited } = await keepers.contributions.credit(
      id,
      credit.amount,
      credit.payments,
      caps,
    );
    if (credited > 0n) await book.credit(contributor, 'contributed', credited, vested);
    await book.countPayments(contributor, 0, credit.payments);
    overCap += credit.amount - credited;
  }
  book.flush();
  // What the epoch caps cut leaves the pool for the treasury: nothing is burned.
  await ctx.bank.transfer(REWARDS_POOL, TREASURY, overCap);
  for (const id of [...credits.usage.keys()].sort((a, b) => a - b)) {
    const add = credits.usage.get(id)!;
    await keepers.usage.addUsage(id, add.count, add.amount);
  }
}
