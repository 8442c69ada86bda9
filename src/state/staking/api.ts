import type { Address } from '../../crypto/address.ts';
import { expectKeeper } from '../module.ts';

/*
 * The staking module's contract with the modules that read or take stake (governance weighs votes
 * by it and checks a validator candidate's bond; disputes slash it; the validator slashing and
 * jailing rules take it). Stated before the module so that its consumers and its implementation
 * agree on one interface; the module list binds `STAKE` to the staking module's keeper.
 *
 * One record per (account, role). A role's stake is bonded or unbonding; unbonding entries mature
 * after the `staking.unbondingBlocks` parameter and stay slashable until they do. An amount is in
 * exactly one record at a time, so it is never counted for two roles or spent twice.
 */

export const STAKE_ROLES = ['validator', 'contributor', 'curator', 'agent'] as const;
export type StakeRole = (typeof STAKE_ROLES)[number];

export interface StakeKeeper {
  /** Bonded (not unbonding) stake of `account` in `role`; 0n when none. */
  bonded(account: Address, role: StakeRole): Promise<bigint>;
  /** Bonded stake of `account` over every role (each unit is in one role only). */
  bondedTotal(account: Address): Promise<bigint>;
  /** Bonded stake of every account in `role`, or over every role when `role` is omitted. */
  totalBonded(role?: StakeRole): Promise<bigint>;
  /**
   * Takes up to `amount` of `account`'s stake in `role`, bonded first, then unbonding entries
   * newest first, and transfers it to `recipient` (a module account: treasury, dispute escrow...).
   * Returns what was taken (less than `amount` when the stake is smaller). Never fails for lack of
   * stake; emits the staking module's slash event.
   */
  slash(account: Address, role: StakeRole, amount: bigint, recipient: Address, reason: string): Promise<bigint>;
}

/** Bound in src/modules.ts to the staking module's keeper. */
export const STAKE = expectKeeper<StakeKeeper>('stake');
