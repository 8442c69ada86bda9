import { readAccount } from '../../state/bank/keeper.ts';
import type { Invariant } from '../../state/module.ts';
import { ContributionCodec, ContributionStatus, DATANET_ESCROW, PREFIX } from '../store.ts';

/* The datanet module: checks run after blocks in tests and by `tributary verify`. */

export const datanetInvariants: Invariant[] = [
  {
    name: 'escrow holds exactly the stakes of pending and unvested accepted contributions',
    async check(q) {
      let staked = 0n;
      for await (const [, v] of q.iterate(PREFIX.contribution)) {
        const c = ContributionCodec.decode(v);
        if (c.status === ContributionStatus.pending || (c.status === ContributionStatus.accepted && !c.vested))
          staked += c.stake;
      }
      const escrow = (await readAccount(q.state, DATANET_ESCROW)).balance;
      return escrow === staked ? undefined : `escrow ${escrow} != staked ${staked}`;
    },
  },
];
