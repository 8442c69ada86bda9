import { readAccount } from '../../state/bank/keeper.ts';
import type { Invariant } from '../../state/module.ts';
import { DISPUTE_ESCROW, DisputeCodec, PREFIX } from '../store.ts';
import { DisputeStatus } from './keys.ts';

/* The dispute module: checks run after blocks in tests and by `tributary verify`. */

export const disputeInvariants: Invariant[] = [
  {
    name: 'dispute escrow holds exactly the bonds, counter-bonds and held rewards of open disputes',
    async check(q) {
      let held = 0n;
      for await (const [, v] of q.iterate(PREFIX.dispute)) {
        const d = DisputeCodec.decode(v);
        if (d.status === DisputeStatus.open) held += d.bond + d.counter_bond + d.held;
      }
      const escrow = (await readAccount(q.state, DISPUTE_ESCROW)).balance;
      return escrow === held ? undefined : `dispute escrow ${escrow} != held ${held}`;
    },
  },
];
