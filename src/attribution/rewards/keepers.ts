import type { Address } from '../../crypto/address.ts';
import { toHex } from '../../crypto/hash.ts';
import type { ModuleStore } from '../../state/module-store.ts';
import type { KeeperSource } from '../../state/module.ts';
import type { EarningsBooks, EarningsLedger } from '../expected.ts';
import type { Earnings, LegRole } from '../store.ts';
import { readEarnings, writeEarnings } from './keys.ts';

/* The rewards module: what this module offers other modules (bound in src/modules.ts). */

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
  async credit(
    address: Address,
    role: Exclude<LegRole, 'validated' | 'treasury'>,
    amount: bigint,
    claimable: boolean,
  ): Promise<void> {
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
