import { viewOf } from '../../codec/view.ts';
import type { Address } from '../../crypto/address.ts';
import { PUBLIC_KEY_LENGTH } from '../../crypto/ed25519.ts';
import { bytesEqual, toHex } from '../../crypto/hash.ts';
import { TributaryError } from '../../errors.ts';
import { defineEvent } from '../../state/events.ts';
import type { TxDefinition } from '../../state/module.ts';
import type { MsgAct, MsgRegisterAgent } from '../attribution.pb.ts';
import { hexOrNull, requireHash, requireId, requireText, sortedUniqueBytes } from '../common.ts';
import { PAYMENTS } from '../expected.ts';
import { validatePaymentFields } from '../inference/txs.ts';
import { readVersion } from '../model/keys.ts';
import { aiParams } from '../params.ts';
import {
  AGENT_STAKE,
  type Agent,
  type AgentAction,
  AgentCodec,
  PREFIX,
  agentAccount,
  codec,
  nextId,
  save,
} from '../store.ts';
import { MAX_CONTROLLERS, actionHash, agentKey, readAgent } from './keys.ts';

/* The agent module: its transactions and the events they emit (the rules). */

export type AgentErrorCode =
  | 'agent/invalid'
  | 'agent/not_found'
  | 'agent/model_not_found'
  | 'agent/fee_over_cap'
  | 'agent/stake_too_low'
  | 'agent/unauthorized'
  | 'agent/spend_limit'
  | 'agent/broken_chain';

export function mayControl(agent: Agent, sender: Address, senderKey: Uint8Array): boolean {
  return bytesEqual(agent.owner, sender) || agent.controllers.some((k) => bytesEqual(k, senderKey));
}

export const agentRegisteredEvent = defineEvent('agent_registered', 'an agent was registered with its own account', {
  agent_id: { kind: 'integer' },
  owner: { kind: 'address', indexed: true },
  account: { kind: 'address' },
  fee_bps: { kind: 'integer' },
});

/**
 * An agent action. The action record is not state: this event carries every field of it, and with
 * the block height and tx hash of its place it is the preimage of `action_hash` (`actionHash`).
 */
export const agentActedEvent = defineEvent('agent_acted', 'an agent action, linked to the previous one by hash', {
  agent_id: { kind: 'integer', indexed: true },
  seq: { kind: 'integer' },
  kind: { kind: 'string' },
  action_hash: { kind: 'hash' },
  payment_id: { kind: 'integer' },
  model_version_id: { kind: 'integer' },
  input_hash: { kind: 'hash' },
  output_hash: { kind: 'hash' },
  prev_action_hash: { kind: 'hash' },
});

export const registerAgentTx: TxDefinition<MsgRegisterAgent> = {
  type: 'agent/register',
  codec: codec('MsgRegisterAgent'),
  validateBasic(m) {
    requireText('agent/invalid', m.name, 'name', 128, true);
    if (m.controllers.length > MAX_CONTROLLERS)
      throw new TributaryError('agent/invalid', `at most ${MAX_CONTROLLERS} controllers`);
    for (const k of m.controllers) {
      if (k.length !== PUBLIC_KEY_LENGTH)
        throw new TributaryError('agent/invalid', 'controller keys are 32-byte Ed25519 public keys');
    }
    sortedUniqueBytes('agent/invalid', m.controllers, 'controllers');
    requireId('agent/invalid', m.model_version_id, 'model_version_id');
    if (!Number.isSafeInteger(m.fee_bps) || m.fee_bps < 0 || m.fee_bps > 10_000)
      throw new TributaryError('agent/invalid', 'fee_bps is 0..10000');
  },
  async execute(ctx, m) {
    const params = aiParams(ctx.params).agent;
    if (m.fee_bps > params.maxFeeBps) {
      throw new TributaryError('agent/fee_over_cap', `fee ${m.fee_bps} bps is above the cap ${params.maxFeeBps}`, {
        cap: params.maxFeeBps,
      });
    }
    if (m.stake < params.minStake) {
      throw new TributaryError('agent/stake_too_low', `stake ${m.stake} is below the minimum ${params.minStake}`, {
        minStake: params.minStake.toString(),
      });
    }
    if (!(await readVersion(ctx.store, m.model_version_id))) {
      throw new TributaryError('agent/model_not_found', `model version ${m.model_version_id} does not exist`);
    }
    await ctx.bank.transfer(ctx.sender, AGENT_STAKE, m.stake);
    const id = await nextId(ctx.store, PREFIX.agentSeq);
    const agent: Agent = {
      id,
      owner: ctx.sender,
      name: m.name,
      controllers: sortedUniqueBytes('agent/invalid', m.controllers, 'controllers'),
      model_version_id: m.model_version_id,
      fee_bps: m.fee_bps,
      spend_limit: m.spend_limit,
      stake: m.stake,
      account: agentAccount(id),
      epoch: Math.floor(ctx.height / params.epochBlocks),
      spent_in_epoch: 0n,
      actions: 0,
      last_action_hash: new Uint8Array(0),
      payments_made: 0,
      payments_executed: 0,
      height: ctx.height,
    };
    save(ctx.store, AgentCodec, agentKey(id), agent);
    agentRegisteredEvent.emit(ctx, { agent_id: id, owner: ctx.sender, account: agent.account, fee_bps: m.fee_bps });
  },
  view(m) {
    return viewOf(registerAgentTx.codec, m);
  },
};

export const actTx: TxDefinition<MsgAct> = {
  type: 'agent/act',
  codec: codec('MsgAct'),
  validateBasic(m) {
    requireId('agent/invalid', m.agent_id, 'agent_id');
    requireText('agent/invalid', m.kind, 'kind', 64, true);
    requireId('agent/invalid', m.model_version_id, 'model_version_id');
    requireHash('agent/invalid', m.input_hash, 'input_hash');
    requireHash('agent/invalid', m.output_hash, 'output_hash', true);
    requireHash('agent/invalid', m.prev_action_hash, 'prev_action_hash', true);
    if (m.payment) validatePaymentFields(m.payment.amount, m.payment.request_hash, m.payment.response_hash);
  },
  async execute(ctx, m) {
    const params = aiParams(ctx.params).agent;
    const agent = await readAgent(ctx.store, m.agent_id);
    if (!agent) throw new TributaryError('agent/not_found', `agent ${m.agent_id} does not exist`);
    if (!mayControl(agent, ctx.sender, ctx.senderPublicKey)) {
      throw new TributaryError('agent/unauthorized', 'only the agent owner or a controller acts for it');
    }
    if (!bytesEqual(agent.last_action_hash, m.prev_action_hash)) {
      throw new TributaryError('agent/broken_chain', "prev_action_hash is not the agent's last action", {
        expected: agent.last_action_hash.length ? '0x' + toHex(agent.last_action_hash) : null,
      });
    }
    let paymentId = 0;
    let queueCredits = (): void => {};
    if (m.payment) {
      const epoch = Math.floor(ctx.height / params.epochBlocks);
      if (epoch !== agent.epoch) {
        agent.epoch = epoch;
        agent.spent_in_epoch = 0n;
      }
      if (agent.spent_in_epoch + m.payment.amount > agent.spend_limit) {
        throw new TributaryError(
          'agent/spend_limit',
          `spending ${m.payment.amount} would exceed the limit ${agent.spend_limit} of epoch ${epoch}`,
          {
            spent: agent.spent_in_epoch.toString(),
            limit: agent.spend_limit.toString(),
          },
        );
      }
      agent.spent_in_epoch += m.payment.amount;
      const outcome = await ctx.keeper(PAYMENTS).pay(ctx, {
        payer: agent.account,
        versionId: m.model_version_id,
        amount: m.payment.amount,
        requestHash: m.payment.request_hash,
        responseHash: m.payment.response_hash,
        agent,
        attributionId: m.payment.attribution_id,
      });
      paymentId = outcome.id;
      queueCredits = outcome.queueCredits;
      agent.payments_made += 1;
      agent.payments_executed += 1;
    } else if (!(await readVersion(ctx.store, m.model_version_id))) {
      throw new TributaryError('agent/model_not_found', `model version ${m.model_version_id} does not exist`);
    }
    const action: AgentAction = {
      agent_id: agent.id,
      seq: agent.actions,
      kind: m.kind,
      model_version_id: m.model_version_id,
      input_hash: m.input_hash,
      output_hash: m.output_hash,
      prev_action_hash: m.prev_action_hash,
      payment_id: paymentId,
      height: ctx.height,
      tx_hash: ctx.txHash,
      action_hash: new Uint8Array(0),
    };
    action.action_hash = actionHash(action);
    agent.actions += 1;
    agent.last_action_hash = action.action_hash;
    save(ctx.store, AgentCodec, agentKey(agent.id), agent);
    agentActedEvent.emit(ctx, {
      agent_id: agent.id,
      seq: action.seq,
      kind: m.kind,
      action_hash: action.action_hash,
      payment_id: paymentId,
      model_version_id: m.model_version_id,
      input_hash: m.input_hash,
      output_hash: m.output_hash,
      prev_action_hash: m.prev_action_hash,
    });
    queueCredits();
  },
  view(m) {
    return {
      agentId: m.agent_id,
      kind: m.kind,
      modelVersionId: m.model_version_id,
      inputHash: hexOrNull(m.input_hash),
      outputHash: hexOrNull(m.output_hash),
      prevActionHash: hexOrNull(m.prev_action_hash),
      payment: m.payment
        ? {
            amount: m.payment.amount.toString(),
            requestHash: hexOrNull(m.payment.request_hash),
            responseHash: hexOrNull(m.payment.response_hash),
            attributionId: m.payment.attribution_id || null,
          }
        : null,
    };
  },
};
