import type { MsgClaim } from '../../attribution/store.ts';
import { cliInt } from './parse.ts';
import { txCliSpec, type TxCliSpecs } from './types.ts';

/** `tributary tx` commands of the rewards module, keyed by transaction type. */
export const rewardsCliSpecs: TxCliSpecs = {
  'rewards/claim': txCliSpec<MsgClaim>({
    name: 'claim',
    description: "move your claimable rewards (or an agent's, as its owner or controller) to the spendable balance",
    options: [{ flags: '--agent <id>', description: 'claim for this agent instead of yourself' }],
    build(o) {
      return { agent_id: cliInt(o.agent, 'agent') };
    },
  }),
};
