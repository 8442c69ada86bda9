import { bytesEqual, compareBytes } from '../../crypto/hash.ts';
import type { Address } from '../../crypto/address.ts';
import { TributaryError } from '../../errors.ts';
import type { BankTransfers } from '../bank/keeper.ts';
import { minAmount } from '../math.ts';
import { latestScheduledValidators } from '../chainconfig/keeper.ts';
import type { EventSink, KeeperSource } from '../module.ts';
import type { ModuleStore } from '../module-store.ts';
import { STAKE_ROLES, type StakeKeeper, type StakeRole } from './api.ts';
import { stakeBondedEvent, stakeMaturedEvent, stakeSlashedEvent, stakeUnbondingEvent } from './events.ts';
import type { StakingParams } from './params.ts';
import type { MaturityBucket, StakeRecord } from './staking.pb.ts';
import {
  MaturityBucketCodec,
  STAKING_POOL,
  StakeRecordCodec,
  StakeTotalsCodec,
  TOTALS_KEY,
  maturityKey,
  readStake,
  readTotals,
  roleAt,
  roleIndex,
  stakeKey,
  stakeValue,
} from './store.ts';

export type StakingErrorCode =
  | 'staking/invalid'
  | 'staking/invalid_role'
  | 'staking/invalid_amount'
  | 'staking/below_min_bond'
  | 'staking/insufficient_stake'
  | 'staking/too_many_unbonding'
  | 'staking/validator_in_set'
  | 'staking/not_jailed'
  | 'staking/jail_not_expired'
  | 'staking/tombstoned'
  | 'staking/corrupt';

/*
 * The stake ledger over the staking module's own store: every movement of stake, each one a bank
 * transfer to or from the staking pool of the same amount as the record change, so the pool always
 * holds exactly the sum of all records (the module's invariant). Transactions, block hooks and the
 * keeper other modules get all go through it.
 */
export class StakeLedger implements StakeKeeper {
  private readonly store: ModuleStore;
  private readonly bank: BankTransfers;
  private readonly events: EventSink;

  constructor(store: ModuleStore, bank: BankTransfers, events: EventSink) {
    this.store = store;
    this.bank = bank;
    this.events = events;
  }

  bonded(account: Address, role: StakeRole): Promise<bigint> {
    return readStake(this.store, account, role).then((r) => r.bonded);
  }

  async bondedTotal(account: Address): Promise<bigint> {
    let sum = 0n;
    for (const role of STAKE_ROLES) sum += await this.bonded(account, role);
    return sum;
  }

  async totalBonded(role?: StakeRole): Promise<bigint> {
    const t = await readTotals(this.store);
    if (role !== undefined) return t.bonded[roleIndex(role)]!;
    return t.bonded.reduce((a, b) => a + b, 0n);
  }

  record(account: Address, role: StakeRole): Promise<StakeRecord> {
    return readStake(this.store, account, role);
  }

  /** Moves `amount` of `account`'s balance into its `role` stake. */
  async bond(account: Address, role: StakeRole, amount: bigint, params: StakingParams): Promise<void> {
    positive(amount);
    const record = await readStake(this.store, account, role);
    const min = params.minBond[role];
    if (record.bonded === 0n && amount < min)
      throw new TributaryError('staking/below_min_bond', `a first ${role} bond must be at least ${min}`, {
        minimum: min.toString(),
      });
    await this.bank.transfer(account, STAKING_POOL, amount);
    record.bonded += amount;
    this.writeStake(account, role, record);
    await this.changeTotals(role, amount, 0n);
    stakeBondedEvent.emit(this.events, { account, role, amount, bonded: record.bonded });
  }

  /**
   * Moves `amount` of bonded stake into an unbonding entry that matures at `height` +
   * unbondingBlocks. A validator in the (latest scheduled) set keeps at least the minimum bond:
   * it leaves the set first (governance), so the set never holds an unbonded validator.
   */
  async unbond(
    account: Address,
    role: StakeRole,
    amount: bigint,
    height: number,
    params: StakingParams,
  ): Promise<number> {
    positive(amount);
    const record = await readStake(this.store, account, role);
    if (amount > record.bonded)
      throw new TributaryError('staking/insufficient_stake', `bonded ${role} stake is ${record.bonded}`, {
        bonded: record.bonded.toString(),
      });
    const remaining = record.bonded - amount;
    if (role === 'validator' && remaining < params.minBond.validator && (await this.inValidatorSet(account))) {
      throw new TributaryError(
        'staking/validator_in_set',
        `a validator in the set keeps at least ${params.minBond.validator} bonded; leave the set first`,
        { minimum: params.minBond.validator.toString() },
      );
    }
    const maturity = height + params.unbondingBlocks;
    const same = record.unbonding.find((e) => e.maturity_height === maturity);
    if (same) same.amount += amount;
    else {
      if (record.unbonding.length >= params.maxUnbondingEntries)
        throw new TributaryError(
          'staking/too_many_unbonding',
          `at most ${params.maxUnbondingEntries} unbonding entries per stake`,
          { maximum: params.maxUnbondingEntries },
        );
      record.unbonding.push({ amount, maturity_height: maturity });
      record.unbonding.sort((a, b) => a.maturity_height - b.maturity_height);
      await this.enqueue(maturity, account, role);
    }
    record.bonded = remaining;
    this.writeStake(account, role, record);
    await this.changeTotals(role, -amount, amount);
    stakeUnbondingEvent.emit(this.events, { account, role, amount, maturity_height: maturity });
    return maturity;
  }

  /** End of block `height`: pays back every unbonding entry maturing now (the queue's one bucket). */
  async matureAt(height: number): Promise<void> {
    const key = maturityKey(height);
    const bucket = await this.store.load(MaturityBucketCodec, key);
    if (!bucket) return;
    // Unbonding stake paid out per role, written to the totals record once for the bucket.
    const paidByRole = new Map<StakeRole, bigint>();
    for (const ref of bucket.refs) {
      const role = roleAt(ref.role);
      const record = await readStake(this.store, ref.account, role);
      let paid = 0n;
      record.unbonding = record.unbonding.filter((e) => {
        if (e.maturity_height > height) return true;
        paid += e.amount;
        return false;
      });
      // Slashing may have emptied the entry already.
      if (paid === 0n) continue;
      await this.bank.transfer(STAKING_POOL, ref.account, paid);
      this.writeStake(ref.account, role, record);
      paidByRole.set(role, (paidByRole.get(role) ?? 0n) + paid);
      stakeMaturedEvent.emit(this.events, { account: ref.account, role, amount: paid });
    }
    for (const [role, paid] of paidByRole) await this.changeTotals(role, 0n, -paid);
    this.store.delete(key);
  }

  async slash(account: Address, role: StakeRole, amount: bigint, recipient: Address, reason: string): Promise<bigint> {
    if (amount <= 0n) return 0n;
    const record = await readStake(this.store, account, role);
    let left = amount;
    const fromBonded = minAmount(record.bonded, left);
    record.bonded -= fromBonded;
    left -= fromBonded;
    let fromUnbonding = 0n;
    // Newest first: the stake that left most recently was at risk most recently.
    for (let i = record.unbonding.length - 1; i >= 0 && left > 0n; i--) {
      const e = record.unbonding[i]!;
      const take = minAmount(e.amount, left);
      e.amount -= take;
      left -= take;
      fromUnbonding += take;
    }
    record.unbonding = record.unbonding.filter((e) => e.amount > 0n);
    const taken = fromBonded + fromUnbonding;
    if (taken === 0n) return 0n;
    await this.bank.transfer(STAKING_POOL, recipient, taken);
    this.writeStake(account, role, record);
    await this.changeTotals(role, -fromBonded, -fromUnbonding);
    stakeSlashedEvent.emit(this.events, { account, role, amount: taken, recipient, reason: eventText(reason) });
    return taken;
  }

  /** Validator stake, bonded plus unbonding: what a validator punishment takes its share of. */
  async slashableValidatorStake(account: Address): Promise<bigint> {
    return stakeValue(await readStake(this.store, account, 'validator'));
  }

  private async inValidatorSet(account: Address): Promise<boolean> {
    return (await latestScheduledValidators(this.store)).some((v) => bytesEqual(v.address, account));
  }

  private writeStake(account: Address, role: StakeRole, record: StakeRecord): void {
    const key = stakeKey(account, role);
    if (record.bonded === 0n && record.unbonding.length === 0) this.store.delete(key);
    else this.store.set(key, StakeRecordCodec.encode(record));
  }

  private async changeTotals(role: StakeRole, bondedDelta: bigint, unbondingDelta: bigint): Promise<void> {
    const t = await readTotals(this.store);
    t.bonded[roleIndex(role)]! += bondedDelta;
    t.unbonding += unbondingDelta;
    this.store.set(TOTALS_KEY, StakeTotalsCodec.encode(t));
  }

  private async enqueue(maturity: number, account: Address, role: StakeRole): Promise<void> {
    const key = maturityKey(maturity);
    const bucket: MaturityBucket = (await this.store.load(MaturityBucketCodec, key)) ?? { refs: [] };
    const r = roleIndex(role);
    if (bucket.refs.some((ref) => ref.role === r && bytesEqual(ref.account, account))) return;
    bucket.refs.push({ account, role: r });
    // Canonical order, so the bucket's bytes do not depend on the order of the unbonds.
    bucket.refs.sort((a, b) => compareBytes(a.account, b.account) || a.role - b.role);
    this.store.save(MaturityBucketCodec, key, bucket);
  }
}

/** Stake amounts are positive (the keeper's calls and the transactions' checks). */
export function positive(amount: bigint): void {
  if (amount <= 0n) throw new TributaryError('staking/invalid_amount', 'amount must be positive');
}

/** Event string attributes hold no commas (see EventFieldKind); a reason is free text from a caller. */
function eventText(reason: string): string {
  return reason.replaceAll(',', ';') || 'unspecified';
}

/** The keeper other modules get (`STAKE`, bound in src/modules.ts). */
export const stakeKeeper: KeeperSource<StakeKeeper> = {
  module: 'staking',
  create: ({ store, bank, emit }) => new StakeLedger(store, bank, { emit }),
};
