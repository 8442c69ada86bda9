import type { KeeperSource } from '../../state/module.ts';
import type { AgentFlags, PaymentAgents } from '../expected.ts';
import { AgentCodec, PREFIX, idKey, save, writeId } from '../store.ts';
import { agentKey } from './keys.ts';

/* The agent module: what this module offers other modules (bound in src/modules.ts). */

/** An agent named by an `inference/pay` executed it (its own `agent/act` counts itself). */
export const paymentAgentsKeeper: KeeperSource<PaymentAgents> = {
  module: 'agent',
  create: ({ store }) => ({
    countExecuted(agent) {
      save(store, AgentCodec, agentKey(agent.id), { ...agent, payments_executed: agent.payments_executed + 1 });
    },
  }),
};

/** Agents flagged by an upheld dispute against one of their actions (src/attribution/dispute). */
export const agentFlagsKeeper: KeeperSource<AgentFlags> = {
  module: 'agent',
  create: ({ store }) => ({
    flag(agentId, disputeId) {
      writeId(store, idKey(PREFIX.agentFlag, agentId), disputeId);
    },
  }),
};
