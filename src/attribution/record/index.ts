import type { Module } from '../../state/module.ts';
import { aiParams } from '../params.ts';
import { recordFlagsKeeper, recordUseKeeper } from './keepers.ts';
import { attributionQueries, attributionStateKeys } from './queries.ts';
import { attributionRecordedEvent, recordAttributionTx } from './txs.ts';

/*
 * Attribution records: how the datanet share of payments for one model version (or for one
 * payment, when request_hash is set) is divided among datanets and individual contributions. The
 * record commits to the inputs of the method that produced it (weights, index root, output, seed)
 * so a later dispute can re-run it. Weights sum to exactly 10,000 bps, and every target lies in
 * the version's ancestor closure (a datanet ancestor, or an accepted contribution of one). A
 * record only re-splits what the lineage gives datanets; it can never enlarge that share.
 * The version's owner authors records: it runs the attribution method over its own lineage.
 * A disputed record cannot be named by a payment until the dispute fails; an upheld dispute flags
 * it (`attribution/flag/<id>`) and it can never be named again.
 */

export const attributionModule: Module = {
  name: 'attribution',
  keepers: [recordUseKeeper, recordFlagsKeeper],
  txs: [recordAttributionTx],
  stateKeys: attributionStateKeys,
  queries: attributionQueries,
  events: [attributionRecordedEvent],
  async initGenesis(ctx) {
    aiParams(ctx.params);
  },
};
