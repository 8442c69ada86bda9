import type { Module } from '../../state/module.ts';
import { aiParams } from '../params.ts';
import { modelFlagsKeeper, modelUsageKeeper } from './keepers.ts';
import { modelQueries, modelStateKeys } from './queries.ts';
import { modelParentEvent, modelPublishedEvent, modelRegisteredEvent, publishModelTx, registerModelTx } from './txs.ts';

/*
 * Model families and versions. A version names its parents (earlier versions and datanets) with
 * a share each; parents must exist when it is published and version ids only grow, so the lineage
 * is acyclic by construction and every parent has a smaller id than its child. Each version's
 * complete ancestor set (versions and datanets) is stored with it, capped by `maxAncestors`: a
 * version whose lineage would exceed the cap cannot be published. Versions are immutable; an
 * upheld lineage dispute flags one beside it (`model/flag/<id>`, shown by `model_get`).
 */

export const modelModule: Module = {
  name: 'model',
  keepers: [modelUsageKeeper, modelFlagsKeeper],
  txs: [registerModelTx, publishModelTx],
  stateKeys: modelStateKeys,
  queries: modelQueries,
  events: [modelRegisteredEvent, modelPublishedEvent, modelParentEvent],
  async initGenesis(ctx) {
    aiParams(ctx.params);
  },
};
