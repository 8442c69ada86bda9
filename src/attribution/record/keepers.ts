import type { KeeperSource } from '../../state/module.ts';
import type { AttributionRecordUse, RecordFlags } from '../expected.ts';
import { AttributionRecordCodec, PREFIX, idKey, save, writeId } from '../store.ts';
import { recordKey } from './keys.ts';

/* The attribution module: what this module offers other modules (bound in src/modules.ts). */

/** A request-bound record is used once: the payment that uses it marks it. */
export const recordUseKeeper: KeeperSource<AttributionRecordUse> = {
  module: 'attribution',
  create: ({ store }) => ({
    markUsed(record, paymentId) {
      // A copy: the record the payment read may be a shared cached object.
      save(store, AttributionRecordCodec, recordKey(record.id), { ...record, used_by_payment: paymentId });
    },
  }),
};

/** Records flagged by an upheld dispute (src/attribution/dispute): payments may no longer name them. */
export const recordFlagsKeeper: KeeperSource<RecordFlags> = {
  module: 'attribution',
  create: ({ store }) => ({
    flag(recordId, disputeId) {
      writeId(store, idKey(PREFIX.recordFlag, recordId), disputeId);
    },
  }),
};
