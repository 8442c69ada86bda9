import type { KeeperSource } from '../../state/module.ts';
import type { DisputeHolds } from '../expected.ts';
import { DISPUTE_ESCROW, REWARDS_POOL } from '../store.ts';
import { DisputeTarget, openDisputeOn, readDispute, writeDispute } from './keys.ts';

/* The dispute module: what this module offers other modules (bound in src/modules.ts). */

/** Inference's end of block holds a disputed model version's owner earnings through this. */
export const disputeHoldsKeeper: KeeperSource<DisputeHolds> = {
  module: 'dispute',
  create: ({ store, bank }) => ({
    holding(target, id) {
      return openDisputeOn(store, target === 'agent' ? DisputeTarget.agentAction : DisputeTarget.modelVersion, id);
    },
    async hold(disputeId, amount) {
      const d = (await readDispute(store, disputeId))!;
      await bank.transfer(REWARDS_POOL, DISPUTE_ESCROW, amount);
      d.held += amount;
      writeDispute(store, d);
    },
  }),
};
