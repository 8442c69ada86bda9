import type { Module } from '../../state/module.ts';
import { REWARDS_POOL } from '../store.ts';
import { rewardsInvariants } from './invariants.ts';
import { earningsKeeper } from './keepers.ts';
import { rewardsQueries, rewardsStateKeys } from './queries.ts';
import { claimTx, rewardsClaimedEvent } from './txs.ts';

/*
 * Rewards. A payment moves every earner's credit into the rewards pool (one module account) and
 * adds it to the earner's claimable balance, or, for a contribution still inside its challenge
 * window, to the contribution's locked amount; the datanet module releases locked amounts into
 * claimable balances when the window ends. `rewards/claim` moves a claimable balance from the pool
 * to the earner's spendable balance. So the pool always holds exactly the claimable plus locked
 * amounts (the invariant below).
 */

export const rewardsModule: Module = {
  name: 'rewards',
  moduleAccounts: [
    {
      name: 'rewards_pool',
      address: REWARDS_POOL,
      description: 'every inference payment until its credits are claimed (claimable and still locked alike)',
    },
  ],
  keepers: [earningsKeeper],
  txs: [claimTx],
  stateKeys: rewardsStateKeys,
  queries: rewardsQueries,
  invariants: rewardsInvariants,
  events: [rewardsClaimedEvent],
};
