import type { MsgRecordAttribution } from '../../attribution/store.ts';
import { METHOD_NAMES, TargetKind } from '../../attribution/store.ts';
import { cliChoice, cliHex, cliInt, cliTriples } from './parse.ts';
import { txCliSpec, type TxCliSpecs } from './types.ts';

/** `tributary tx` commands of the attribution module, keyed by transaction type. */
export const attributionCliSpecs: TxCliSpecs = {
  'attribution/record': txCliSpec<MsgRecordAttribution>({
    name: 'attribution-record',
    description: "record how a model version's datanet share is attributed (the version owner)",
    options: [
      { flags: '--model <versionId>', description: 'model version id', required: true },
      { flags: '--method <name>', description: 'declared | infini-gram | trak | influence | shapley', required: true },
      {
        flags: '--weights <targets>',
        description: 'comma-separated "c:<contributionId>:<bps>" or "d:<datanetId>:<bps>", summing to 10000',
        required: true,
      },
      { flags: '--request-hash <hex>', description: 'bind the record to the one payment with this request hash' },
      { flags: '--weights-hash <hex>', description: 'commitment to the attribution model weights' },
      { flags: '--index-root <hex>', description: 'commitment to the span index (infini-gram)' },
      { flags: '--output-hash <hex>', description: 'commitment to the attributed output' },
      { flags: '--seed <hex>', description: 'commitment to the randomness used' },
    ],
    build(o) {
      return {
        model_version_id: cliInt(o.model, 'model'),
        request_hash: cliHex(o.requestHash),
        method: cliChoice(o.method, METHOD_NAMES, 'method'),
        weights_hash: cliHex(o.weightsHash),
        index_root: cliHex(o.indexRoot),
        output_hash: cliHex(o.outputHash),
        seed: cliHex(o.seed),
        weights: cliTriples(o.weights, { c: TargetKind.contribution, d: TargetKind.datanet }, 'weights'),
      };
    },
  }),
};
