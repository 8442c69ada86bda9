import { formatAddress, type Address } from '../crypto/address.ts';
import { viewOf } from '../codec/view.ts';
import { toHex } from '../crypto/hash.ts';
import { TributaryError } from '../errors.ts';
import { readAccount } from '../state/bank/keeper.ts';
import { defineEvent } from '../state/events.ts';
import type { KeeperSource, Module, QueryContext, TxDefinition } from '../state/module.ts';
import type { ModuleStore } from '../state/module-store.ts';
import type { StateReader } from '../state/working-state.ts';
import type { EarningsBooks, EarningsLedger } from './expected.ts';
import { paramAddress } from './common.ts';
import { contributionSubmittedEvent } from './datanet.ts';
import {
  AgentCodec,
  ContributionCodec,
  EarningsCodec,
  PREFIX,
  REWARDS_POOL,
  codec,
  bytesKey,
  idKey,
  load,
  save,
  type Earnings,
  type LegRole,
} from './store.ts';
import type { MsgClaim } from './attribution.pb.ts';
export type { MsgClaim } from './attribution.pb.ts';

/*
 * Rewards. A payment moves every earner's credit into the rewards pool (one module account) and
 * adds it to the earner's claimable balance, or, for a contribution still inside its challenge
 * window, to the contribution's locked amount; the datanet module releases locked amounts into
 * claimable balances when the window ends. `rewards/claim` moves a claimable balance from the pool
 * to the earner's spendable balance. So the pool always holds exactly the claimable plus locked
 * amounts (the invariant below).
 */

export type RewardsErrorCode = 'rewards/nothing_to_claim' | 'rewards/unauthorized' | 'rewards/invalid' | 'rewards/not_found';

export function emptyEarnings(): Earnings {
  return { claimable: 0n, contributed: 0n, refined: 0n, executed: 0n, curated: 0n, claimed: 0n, payments: 0, contributor_payments: 0 };
}

export function earningsKey(address: Address): Uint8Array {
  return bytesKey(PREFIX.earnings, address);
}

export async function readEarnings(state: StateReader, address: Address): Promise<Earnings> {
  return (await load(state, EarningsCodec, earningsKey(address))) ?? emptyEarnings();
}

export function writeEarnings(state: ModuleStore, address: Address, e: Earnings): void {
  save(state, EarningsCodec, earningsKey(address), e);
}

/**
 * Buffer of earnings updates: each address is read once and written once however many credits
 * it receives.
 */
export class EarningsBook implements EarningsLedger {
  private readonly state: ModuleStore;
  private readonly entries = new Map<string, { address: Address; earnings: Earnings }>();

  constructor(state: ModuleStore) {
    this.state = state;
  }

  private async entry(address: Address): Promise<Earnings> {
    const id = toHex(address);
    let e = this.entries.get(id);
    if (!e) {
      e = { address, earnings: await readEarnings(this.state, address) };
      this.entries.set(id, e);
    }
    return e.earnings;
  }

  /** Records an earning by source; `claimable` says whether it is spendable now or locked on a contribution. */
  async credit(address: Address, role: Exclude<LegRole, 'validated' | 'treasury'>, amount: bigint, claimable: boolean): Promise<void> {
    const e = await this.entry(address);
    e[role] += amount;
    if (claimable) e.claimable += amount;
  }

  async countPayments(address: Address, payments: number, contributorPayments: number): Promise<void> {
    const e = await this.entry(address);
    e.payments += payments;
    e.contributor_payments += contributorPayments;
  }

  /** Moves an amount that was locked (already in the pool) into the claimable balance. */
  async release(address: Address, amount: bigint): Promise<void> {
    const e = await this.entry(address);
    e.claimable += amount;
  }

  /** Writes every touched record, in address order. */
  flush(): void {
    for (const id of [...this.entries.keys()].sort()) {
      const { address, earnings } = this.entries.get(id)!;
      writeEarnings(this.state, address, earnings);
    }
    this.entries.clear();
  }
}

/** The rewards module's keeper: earnings books over its own store (datanet and inference credit through it). */
export const earningsKeeper: KeeperSource<EarningsBooks> = {
  module: 'rewards',
  create: ({ store }) => ({ book: () => new EarningsBook(store) }),
};

// ------------------------------------------------------------------ rewards/claim

export const rewardsClaimedEvent = defineEvent('rewards_claimed', 'claimable rewards moved from the pool to the earner\'s balance', {
  account: { kind: 'address', indexed: true },
  amount: { kind: 'amount' },
  agent_id: { kind: 'integer' },
});

export const claimTx: TxDefinition<MsgClaim> = {
  type: 'rewards/claim',
  codec: codec('MsgClaim'),
  validateBasic(m) {
    if (!Number.isSafeInteger(m.agent_id) || m.agent_id < 0) throw new TributaryError('rewards/invalid', 'agent_id must be an id or 0');
  },
  async execute(ctx, m) {
    let earner = ctx.sender;
    if (m.agent_id !== 0) {
      const agent = await load(ctx.store, AgentCodec, idKey(PREFIX.agent, m.agent_id));
      if (!agent) throw new TributaryError('rewards/not_found', `agent ${m.agent_id} does not exist`, { agentId: m.agent_id });
      const isController = agent.controllers.some((k) => toHex(k) === toHex(ctx.senderPublicKey));
      if (toHex(agent.owner) !== toHex(ctx.sender) && !isController) {
        throw new TributaryError('rewards/unauthorized', 'only the agent owner or a controller claims for an agent');
      }
      earner = agent.account;
    }
    const earnings = await readEarnings(ctx.store, earner);
    if (earnings.claimable === 0n) throw new TributaryError('rewards/nothing_to_claim', 'no claimable rewards');
    const amount = earnings.claimable;
    await ctx.bank.transfer(REWARDS_POOL, earner, amount);
    earnings.claimable = 0n;
    earnings.claimed += amount;
    writeEarnings(ctx.store, earner, earnings);
    rewardsClaimedEvent.emit(ctx, { account: earner, amount, agent_id: m.agent_id });
  },
  view(m) {
    return viewOf(claimTx.codec, m);
  },
};

export async function earningsView(q: QueryContext, address: Address) {
  const state = q.state;
  const e = await readEarnings(state, address);
  // Locked amounts live on the address's contributions until their windows end; the index knows
  // which contributions are the address's (their `contribution_submitted` events).
  let locked = 0n;
  const lockedByContribution: { contributionId: number; locked: string; vestHeight: number }[] = [];
  const submitted = { type: contributionSubmittedEvent.type, attribute: { key: 'contributor', value: formatAddress(address) } };
  for await (const ev of q.chain.index.events(submitted)) {
    const id = contributionSubmittedEvent.read(ev.event).contribution_id;
    const c = await load(state, ContributionCodec, idKey(PREFIX.contribution, id));
    if (c && c.locked > 0n) {
      locked += c.locked;
      lockedByContribution.push({ contributionId: id, locked: c.locked.toString(), vestHeight: c.vest_height });
    }
  }
  const total = e.contributed + e.refined + e.executed + e.curated;
  return {
    address: formatAddress(address),
    total: total.toString(),
    bySource: {
      contributed: e.contributed.toString(),
      refined: e.refined.toString(),
      executed: e.executed.toString(),
      curated: e.curated.toString(),
    },
    claimable: e.claimable.toString(),
    locked: locked.toString(),
    lockedByContribution,
    claimed: e.claimed.toString(),
    payments: e.payments,
    contributorPayments: e.contributor_payments,
  };
}

export const rewardsModule: Module = {
  name: 'rewards',
  keepers: [earningsKeeper],
  txs: [claimTx],
  events: [rewardsClaimedEvent],
  stateKeys: [
    {
      kind: 'earnings',
      description: 'rewards of an address: claimable, earned by source, claimed, counters',
      id: { name: 'address', kind: 'address' },
      key: (id) => earningsKey(id as Address),
      view: (value) => viewOf(EarningsCodec, EarningsCodec.decode(value)),
    },
  ],
  queries: [
    {
      method: 'account_getEarnings',
      description: 'earnings of an address by source (contributed, refined, executed, curated), claimable, locked and claimed',
      params: [{ name: 'address', kind: 'address' }],
      cli: 'earnings',
      async handler(q, p) {
        return earningsView(q, paramAddress(p.address));
      },
    },
  ],
  invariants: [
    {
      name: 'rewards pool holds exactly the claimable and locked rewards',
      async check(q) {
        let owed = 0n;
        for await (const [, v] of q.iterate(PREFIX.earnings)) owed += EarningsCodec.decode(v).claimable;
        for await (const [, v] of q.iterate(PREFIX.contribution)) owed += ContributionCodec.decode(v).locked;
        const pool = (await readAccount(q.state, REWARDS_POOL)).balance;
        return pool === owed ? undefined : `pool ${pool} != claimable + locked ${owed}`;
      },
    },
  ],
};
