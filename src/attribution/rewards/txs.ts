import { viewOf } from '../../codec/view.ts';
import { toHex } from '../../crypto/hash.ts';
import { TributaryError } from '../../errors.ts';
import { defineEvent } from '../../state/events.ts';
import type { TxDefinition } from '../../state/module.ts';
import type { MsgClaim } from '../attribution.pb.ts';
import { AgentCodec, PREFIX, REWARDS_POOL, codec, idKey, load } from '../store.ts';
import { readEarnings, writeEarnings } from './keys.ts';

/* The rewards module: its transactions and the events they emit (the rules). */

export type RewardsErrorCode =
  | 'rewards/nothing_to_claim'
  | 'rewards/unauthorized'
  | 'rewards/invalid'
  | 'rewards/not_found';

export const rewardsClaimedEvent = defineEvent(
  'rewards_claimed',
  "claimable rewards moved from the pool to the earner's balance",
  {
    account: { kind: 'address', indexed: true },
    amount: { kind: 'amount' },
    agent_id: { kind: 'integer' },
  },
);

export const claimTx: TxDefinition<MsgClaim> = {
  type: 'rewards/claim',
  codec: codec('MsgClaim'),
  validateBasic(m) {
    if (!Number.isSafeInteger(m.agent_id) || m.agent_id < 0)
      throw new TributaryError('rewards/invalid', 'agent_id must be an id or 0');
  },
  async execute(ctx, m) {
    let earner = ctx.sender;
    if (m.agent_id !== 0) {
      const agent = await load(ctx.store, AgentCodec, idKey(PREFIX.agent, m.agent_id));
      if (!agent)
        throw new TributaryError('rewards/not_found', `agent ${m.agent_id} does not exist`, { agentId: m.agent_id });
      const isController = agent.controllers.some((k) => toHex(k) === toHex(ctx.senderPublicKey));
      if (toHex(agent.owner) !== toHex(ctx.sender) && !isController) {
        throw new TributaryError('rewards/unauthorized', 'only the agent owner or a controller claims for an agent');
      }
      earner = agent.account;
    }
    const earnings = await readEarnings(ctx.store, earner);
    if (earnings.claimable === 0n) throw new TributaryError('rewards/nothing_to_claim', 'no claimable rewards');
    const amount = earnings.claimable;
    await ctx.bank.transfer(REWARDS_POOL, earner, amount);
    earnings.claimable = 0n;
    earnings.claimed += amount;
    writeEarnings(ctx.store, earner, earnings);
    rewardsClaimedEvent.emit(ctx, { account: earner, amount, agent_id: m.agent_id });
  },
  view(m) {
    return viewOf(claimTx.codec, m);
  },
};
