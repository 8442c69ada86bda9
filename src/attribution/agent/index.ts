import type { Module } from '../../state/module.ts';
import { PAYMENTS } from '../expected.ts';
import { aiParams } from '../params.ts';
import { AGENT_STAKE } from '../store.ts';
import { agentInvariants } from './invariants.ts';
import { agentFlagsKeeper, paymentAgentsKeeper } from './keepers.ts';
import { agentQueries, agentStateKeys } from './queries.ts';
import { actTx, agentActedEvent, agentRegisteredEvent, registerAgentTx } from './txs.ts';

/*
 * Agents. An agent is registered by its owner with controller keys, the model version it runs,
 * a fee (bps of each payment it executes, capped by `maxFeeBps`), a spend limit per epoch
 * (`epochBlocks` blocks, epoch = floor(height / epochBlocks)) and a stake escrowed in the agent
 * stake account. It has its own account (derived from its id, no private key): others fund it
 * with bank transfers, its fees accrue to it as rewards, and only `agent/act` spends from it,
 * within the limit. Every action names the hash of the agent's previous action, so the history
 * is a hash chain anyone can verify from `agent_getActions`.
 */

export const agentModule: Module = {
  name: 'agent',
  // Each agent's own account (`moduleAddress("agent/<id>")`, agent_get shows it) is per agent, not listed here.
  moduleAccounts: [
    { name: 'agent_stake', address: AGENT_STAKE, description: 'agent stakes, escrowed while the agent exists' },
  ],
  keepers: [paymentAgentsKeeper, agentFlagsKeeper],
  expects: [PAYMENTS],
  txs: [registerAgentTx, actTx],
  stateKeys: agentStateKeys,
  queries: agentQueries,
  invariants: agentInvariants,
  events: [agentRegisteredEvent, agentActedEvent],
  async initGenesis(ctx) {
    aiParams(ctx.params);
  },
};
