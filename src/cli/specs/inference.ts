import type { MsgPay } from '../../attribution/store.ts';
import { cliAmount, cliHex, cliInt } from './parse.ts';
import { txCliSpec, type TxCliSpecs } from './types.ts';

/** `tributary tx` commands of the inference module, keyed by transaction type. */
export const inferenceCliSpecs: TxCliSpecs = {
  'inference/pay': txCliSpec<MsgPay>({
    name: 'pay',
    description: "pay for an inference; the amount is split along the model's lineage",
    options: [
      { flags: '--model <versionId>', description: 'model version paid for', required: true },
      { flags: '--amount <baseUnits>', description: 'amount in base units', required: true },
      { flags: '--request-hash <hex>', description: '32-byte hash of the request', required: true },
      { flags: '--response-hash <hex>', description: '32-byte hash of the response' },
      { flags: '--agent <id>', description: 'agent that executed the inference (earns its fee)' },
      { flags: '--attribution <id>', description: 'attribution record that splits the datanet share' },
    ],
    build(o) {
      return {
        model_version_id: cliInt(o.model, 'model'),
        amount: cliAmount(o.amount, 'amount'),
        request_hash: cliHex(o.requestHash),
        response_hash: cliHex(o.responseHash),
        agent_id: cliInt(o.agent, 'agent'),
        attribution_id: cliInt(o.attribution, 'attribution'),
      };
    },
  }),
};
