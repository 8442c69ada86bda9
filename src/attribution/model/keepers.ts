import type { KeeperSource } from '../../state/module.ts';
import type { ModelUsageBook, ModelVersionFlags } from '../expected.ts';
import { ModelUsageCodec, PREFIX, idKey, save, writeId } from '../store.ts';
import { readUsage } from './keys.ts';

/* The model module: what this module offers other modules (bound in src/modules.ts). */

/** Payment counters per version, written once per block by inference's end of block. */
export const modelUsageKeeper: KeeperSource<ModelUsageBook> = {
  module: 'model',
  create: ({ store }) => ({
    async addUsage(versionId, payments, amount) {
      const usage = await readUsage(store, versionId);
      usage.paid_count += payments;
      usage.paid_amount += amount;
      save(store, ModelUsageCodec, idKey(PREFIX.usage, versionId), usage);
    },
  }),
};

/** Versions flagged by an upheld lineage dispute (src/attribution/dispute); the version record stays immutable. */
export const modelFlagsKeeper: KeeperSource<ModelVersionFlags> = {
  module: 'model',
  create: ({ store }) => ({
    flag(versionId, disputeId) {
      writeId(store, idKey(PREFIX.versionFlag, versionId), disputeId);
    },
  }),
};
