import { readAccount } from '../../state/bank/keeper.ts';
import type { Invariant } from '../../state/module.ts';
import { ContributionCodec, EarningsCodec, PREFIX, REWARDS_POOL } from '../store.ts';

/* The rewards module: checks run after blocks in tests and by `tributary verify`. */

export const rewardsInvariants: Invariant[] = [
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
];
