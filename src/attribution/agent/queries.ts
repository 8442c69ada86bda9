import type { JsonValue } from '../../codec/json.ts';
import { formatAddress } from '../../crypto/address.ts';
import { toHex } from '../../crypto/hash.ts';
import { TributaryError } from '../../errors.ts';
import { readAccount } from '../../state/bank/keeper.ts';
import type { ChainEvent, QueryDefinition, StateKeyDefinition } from '../../state/module.ts';
import type { StateReader } from '../../state/working-state.ts';
import { PAGE_PARAMS, hexOrNull, page, paramId } from '../common.ts';
import { readEarnings } from '../rewards/keys.ts';
import { type Agent, type AgentAction, AgentCodec } from '../store.ts';
import { agentKey, readAgent, readAgentFlag } from './keys.ts';
import { agentActedEvent } from './txs.ts';
import { schema as s } from '../../state/json-schema.ts';
import { ACTION_SCHEMA, actionView } from './views.ts';

/* The agent module: queries and state-key kinds for proofs. */

/** The action record of an `agent_acted` event, as it was hashed. */
export function indexedAction(e: ChainEvent): AgentAction {
  const v = agentActedEvent.read(e.event);
  return {
    agent_id: v.agent_id,
    seq: v.seq,
    kind: v.kind,
    model_version_id: v.model_version_id,
    input_hash: v.input_hash,
    output_hash: v.output_hash,
    prev_action_hash: v.prev_action_hash,
    payment_id: v.payment_id,
    height: e.height,
    tx_hash: e.txHash!,
    action_hash: v.action_hash,
  };
}

export async function requireAgent(state: StateReader, id: number): Promise<Agent> {
  const a = await readAgent(state, id);
  if (!a) throw new TributaryError('agent/not_found', `agent ${id} does not exist`);
  return a;
}

export const agentStateKeys: StateKeyDefinition[] = [
  {
    kind: 'agent',
    description: 'an agent record (owner, controllers, fee, spend limit, last action hash)',
    id: { name: 'id', kind: 'integer' },
    key: (id) => agentKey(id as number),
    view: (value) => {
      const a = AgentCodec.decode(value);
      return {
        id: a.id,
        owner: formatAddress(a.owner),
        account: formatAddress(a.account),
        feeBps: a.fee_bps,
        spendLimit: a.spend_limit.toString(),
        spentInEpoch: a.spent_in_epoch.toString(),
        epoch: a.epoch,
        actions: a.actions,
        lastActionHash: hexOrNull(a.last_action_hash),
      };
    },
  },
];

export const agentQueries: QueryDefinition[] = [
  {
    method: 'agent_get',
    description:
      "an agent: owner, controllers, fee, spend limit and this epoch's spending, balance, earnings and counters",
    params: [{ name: 'id', kind: 'integer' }],
    cli: 'agent',
    result: s.object({
      id: s.id(),
      owner: s.address(),
      name: s.string(),
      account: s.address("the agent's own account"),
      flaggedByDispute: s.nullable(s.id('the upheld dispute against one of its actions')),
      balance: s.amount(),
      controllers: s.array(s.publicKey()),
      modelVersionId: s.id(),
      feeBps: s.bps(),
      spendLimit: s.amount('per epoch'),
      epoch: s.integer(),
      spentInEpoch: s.amount(),
      stake: s.amount(),
      actions: s.integer(),
      lastActionHash: s.nullable(s.hash()),
      paymentsMade: s.integer(),
      paymentsExecuted: s.integer(),
      earnedFees: s.amount(),
      claimable: s.amount(),
      height: s.integer(),
    }),
    async handler(q, p) {
      const a = await requireAgent(q.state, paramId(p.id));
      const earnings = await readEarnings(q.state, a.account);
      return {
        id: a.id,
        owner: formatAddress(a.owner),
        name: a.name,
        account: formatAddress(a.account),
        flaggedByDispute: (await readAgentFlag(q.state, a.id)) ?? null,
        balance: (await readAccount(q.state, a.account)).balance.toString(),
        controllers: a.controllers.map((k) => '0x' + toHex(k)),
        modelVersionId: a.model_version_id,
        feeBps: a.fee_bps,
        spendLimit: a.spend_limit.toString(),
        epoch: a.epoch,
        spentInEpoch: a.spent_in_epoch.toString(),
        stake: a.stake.toString(),
        actions: a.actions,
        lastActionHash: hexOrNull(a.last_action_hash),
        paymentsMade: a.payments_made,
        paymentsExecuted: a.payments_executed,
        earnedFees: earnings.executed.toString(),
        claimable: earnings.claimable.toString(),
        height: a.height,
      };
    },
  },
  {
    method: 'agent_getActions',
    description: "an agent's actions in order (a hash chain: each names the previous action's hash), paginated",
    params: [{ name: 'id', kind: 'integer' }, ...PAGE_PARAMS],
    cli: 'agent-actions',
    result: s.object({
      agentId: s.id(),
      total: s.integer(),
      offset: s.integer(),
      limit: s.positive(),
      actions: s.array(ACTION_SCHEMA),
    }),
    async handler(q, p) {
      const a = await requireAgent(q.state, paramId(p.id));
      const { offset, limit } = page(p);
      const actions: JsonValue[] = [];
      // The agent's `agent_acted` events are its actions in sequence order: the n-th is seq n.
      const filter = { type: agentActedEvent.type, attribute: { key: 'agent_id', value: String(a.id) }, skip: offset };
      for await (const e of q.chain.index.events(filter)) {
        if (actions.length === limit) break;
        actions.push(actionView(indexedAction(e)));
      }
      return { agentId: a.id, total: a.actions, offset, limit, actions };
    },
  },
];
