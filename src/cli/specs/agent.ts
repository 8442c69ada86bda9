import type { MsgAct, MsgRegisterAgent } from '../../attribution/store.ts';
import { fromHex } from '../../crypto/hash.ts';
import { cliAmount, cliHex, cliInt, cliList, cliString } from './parse.ts';
import { txCliSpec, type TxCliSpecs } from './types.ts';

/** `tributary tx` commands of the agent module, keyed by transaction type. */
export const agentCliSpecs: TxCliSpecs = {
  'agent/register': txCliSpec<MsgRegisterAgent>({
    name: 'agent-register',
    description: 'register an agent you own; fund its account with a bank transfer',
    options: [
      { flags: '--name <text>', description: 'agent name', required: true },
      { flags: '--model <versionId>', description: 'model version the agent runs', required: true },
      { flags: '--controllers <hexKeys>', description: 'comma-separated Ed25519 public keys allowed to act for it' },
      { flags: '--fee-bps <bps>', description: 'fee the agent earns on payments it executes', defaultValue: '0' },
      { flags: '--spend-limit <baseUnits>', description: 'most the agent may pay per epoch', defaultValue: '0' },
      { flags: '--stake <baseUnits>', description: 'stake escrowed while the agent exists', defaultValue: '0' },
    ],
    build(o) {
      return {
        name: cliString(o.name),
        controllers: cliList(o.controllers).map((k) => fromHex(k)),
        model_version_id: cliInt(o.model, 'model'),
        fee_bps: cliInt(o.feeBps, 'fee-bps'),
        spend_limit: cliAmount(o.spendLimit, 'spend-limit'),
        stake: cliAmount(o.stake, 'stake'),
      };
    },
  }),
  'agent/act': txCliSpec<MsgAct>({
    name: 'agent-act',
    description:
      "record an agent action (owner or controller), optionally paying for an inference from the agent's account",
    options: [
      { flags: '--agent <id>', description: 'agent id', required: true },
      { flags: '--kind <text>', description: 'kind of action, e.g. "inference"', required: true },
      { flags: '--model <versionId>', description: 'model version used', required: true },
      { flags: '--input-hash <hex>', description: '32-byte hash of the input', required: true },
      { flags: '--output-hash <hex>', description: '32-byte hash of the output' },
      { flags: '--prev <hex>', description: "hash of the agent's previous action (omit for the first)" },
      { flags: '--pay <baseUnits>', description: "pay this amount for the inference from the agent's account" },
      { flags: '--request-hash <hex>', description: 'request hash of the payment (default: the input hash)' },
      { flags: '--attribution <id>', description: 'attribution record for the payment' },
    ],
    build(o) {
      const input = cliHex(o.inputHash);
      const output = cliHex(o.outputHash);
      const pay = cliAmount(o.pay, 'pay');
      const requestHash = cliHex(o.requestHash);
      return {
        agent_id: cliInt(o.agent, 'agent'),
        kind: cliString(o.kind),
        model_version_id: cliInt(o.model, 'model'),
        input_hash: input,
        output_hash: output,
        prev_action_hash: cliHex(o.prev),
        payment:
          pay > 0n
            ? {
                amount: pay,
                request_hash: requestHash.length ? requestHash : input,
                response_hash: output,
                attribution_id: cliInt(o.attribution, 'attribution'),
              }
            : undefined,
      };
    },
  }),
};
