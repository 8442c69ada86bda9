import { readAccount } from '../../state/bank/keeper.ts';
import type { Invariant } from '../../state/module.ts';
import { AGENT_STAKE, AgentCodec, PREFIX } from '../store.ts';

/* The agent module: checks run after blocks in tests and by `tributary verify`. */

export const agentInvariants: Invariant[] = [
  {
    name: "agent stake account holds exactly the agents' stakes",
    async check(q) {
      let staked = 0n;
      for await (const [, v] of q.iterate(PREFIX.agent)) staked += AgentCodec.decode(v).stake;
      const held = (await readAccount(q.state, AGENT_STAKE)).balance;
      return held === staked ? undefined : `agent stake account ${held} != stakes ${staked}`;
    },
  },
];
