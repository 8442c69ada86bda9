import type { MsgPublishModel, MsgRegisterModel } from '../../attribution/store.ts';
import { EdgeKind, RELATION_NAMES } from '../../attribution/store.ts';
import { cliChoice, cliHex, cliInt, cliString, cliTriples } from './parse.ts';
import { txCliSpec, type TxCliSpecs } from './types.ts';

/** `tributary tx` commands of the model module, keyed by transaction type. */
export const modelCliSpecs: TxCliSpecs = {
  'model/register': txCliSpec<MsgRegisterModel>({
    name: 'model-register',
    description: 'register a model family you own',
    options: [
      { flags: '--name <text>', description: 'family name', required: true },
      { flags: '--metadata-hash <hex>', description: 'optional 32-byte hash of the model card' },
    ],
    build(o) {
      return { name: cliString(o.name), metadata_hash: cliHex(o.metadataHash) };
    },
  }),
  'model/publish': txCliSpec<MsgPublishModel>({
    name: 'model-publish',
    description: 'publish a model version in a family you own, with its parent edges',
    options: [
      { flags: '--family <id>', description: 'model family id', required: true },
      { flags: '--weights-hash <hex>', description: '32-byte hash of the weights', required: true },
      { flags: '--config-hash <hex>', description: '32-byte hash of the config' },
      { flags: '--recipe-hash <hex>', description: '32-byte hash of the training recipe' },
      {
        flags: '--relation <name>',
        description: 'base | finetune | adapter | merge | quantize | distill',
        required: true,
      },
      { flags: '--parents <edges>', description: 'comma-separated "m:<versionId>:<bps>" or "d:<datanetId>:<bps>"' },
    ],
    build(o) {
      const relation = cliChoice(o.relation, RELATION_NAMES, 'relation');
      return {
        family_id: cliInt(o.family, 'family'),
        weights_hash: cliHex(o.weightsHash),
        config_hash: cliHex(o.configHash),
        recipe_hash: cliHex(o.recipeHash),
        relation,
        parents: cliTriples(o.parents, { m: EdgeKind.model, d: EdgeKind.datanet }, 'parents').map((t) => ({
          kind: t.kind,
          id: t.id,
          share_bps: t.bps,
        })),
      };
    },
  }),
};
