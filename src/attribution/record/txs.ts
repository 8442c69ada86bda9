import { bytesEqual, toHex } from '../../crypto/hash.ts';
import { TributaryError } from '../../errors.ts';
import { defineEvent } from '../../state/events.ts';
import type { TxDefinition } from '../../state/module.ts';
import type { MsgRecordAttribution } from '../attribution.pb.ts';
import { byKindThenId, hexOrNull, requireHash, requireId } from '../common.ts';
import { readContribution } from '../datanet/keys.ts';
import { readAncestors, readVersion } from '../model/keys.ts';
import { aiParams } from '../params.ts';
import {
  AttributionMethod,
  type AttributionRecord,
  AttributionRecordCodec,
  ContributionStatus,
  METHOD_NAMES,
  PREFIX,
  TARGET_KIND_NAMES,
  TargetKind,
  codec,
  nextId,
  save,
} from '../store.ts';
import { MAX_WEIGHTS, recordKey } from './keys.ts';
import { weightView } from './views.ts';

/* The attribution module: its transactions and the events they emit (the rules). */

export type AttributionErrorCode =
  | 'attribution/invalid'
  | 'attribution/weights_sum'
  | 'attribution/duplicate_target'
  | 'attribution/too_many_weights'
  | 'attribution/outside_lineage'
  | 'attribution/not_found'
  | 'attribution/unauthorized'
  | 'attribution/wrong_model'
  | 'attribution/request_mismatch'
  | 'attribution/already_used'
  | 'attribution/disputed'
  | 'attribution/flagged';

export const attributionRecordedEvent = defineEvent(
  'attribution_recorded',
  'an attribution record for a model version (scope "model_version") or one request ("request:<hash>")',
  {
    attribution_id: { kind: 'integer' },
    version_id: { kind: 'integer', indexed: true },
    method: { kind: 'string' },
    scope: { kind: 'string' },
    targets: { kind: 'integer' },
  },
);

export const recordAttributionTx: TxDefinition<MsgRecordAttribution> = {
  type: 'attribution/record',
  codec: codec('MsgRecordAttribution'),
  validateBasic(m) {
    requireId('attribution/invalid', m.model_version_id, 'model_version_id');
    requireHash('attribution/invalid', m.request_hash, 'request_hash', true);
    if (!(m.method in METHOD_NAMES)) throw new TributaryError('attribution/invalid', `unknown method ${m.method}`);
    requireHash('attribution/invalid', m.weights_hash, 'weights_hash', m.method === AttributionMethod.declared);
    requireHash('attribution/invalid', m.index_root, 'index_root', m.method !== AttributionMethod.infiniGram);
    requireHash('attribution/invalid', m.output_hash, 'output_hash', true);
    requireHash('attribution/invalid', m.seed, 'seed', true);
    if (m.weights.length === 0) throw new TributaryError('attribution/weights_sum', 'weights are required');
    if (m.weights.length > MAX_WEIGHTS)
      throw new TributaryError('attribution/too_many_weights', `at most ${MAX_WEIGHTS} weights`);
    const seen = new Set<string>();
    let sum = 0;
    for (const w of m.weights) {
      if (w.kind !== TargetKind.contribution && w.kind !== TargetKind.datanet) {
        throw new TributaryError('attribution/invalid', `unknown target kind ${w.kind}`);
      }
      requireId('attribution/invalid', w.id, 'target id');
      if (!Number.isSafeInteger(w.bps) || w.bps < 1 || w.bps > 10_000) {
        throw new TributaryError('attribution/invalid', 'each weight is 1..10000 basis points');
      }
      const k = `${w.kind}:${w.id}`;
      if (seen.has(k))
        throw new TributaryError(
          'attribution/duplicate_target',
          `${TARGET_KIND_NAMES[w.kind]} ${w.id} is weighted twice`,
        );
      seen.add(k);
      sum += w.bps;
    }
    if (sum !== 10_000)
      throw new TributaryError('attribution/weights_sum', `weights sum to ${sum}, not 10000`, { sum });
  },
  async execute(ctx, m) {
    const params = aiParams(ctx.params).attribution;
    if (m.weights.length > params.maxWeights) {
      throw new TributaryError('attribution/too_many_weights', `at most ${params.maxWeights} weights`, {
        max: params.maxWeights,
      });
    }
    const version = await readVersion(ctx.store, m.model_version_id);
    if (!version)
      throw new TributaryError('attribution/not_found', `model version ${m.model_version_id} does not exist`);
    if (!bytesEqual(version.owner, ctx.sender)) {
      throw new TributaryError('attribution/unauthorized', 'only the model version owner records attributions for it');
    }
    const closure = new Set((await readAncestors(ctx.store, version.id)).datanets);
    const weights = [...m.weights].sort(byKindThenId);
    for (const w of weights) {
      let datanetId = w.id;
      if (w.kind === TargetKind.contribution) {
        const c = await readContribution(ctx.store, w.id);
        if (!c || c.status !== ContributionStatus.accepted) {
          throw new TributaryError(
            'attribution/outside_lineage',
            `contribution ${w.id} is not an accepted contribution`,
            { contributionId: w.id },
          );
        }
        datanetId = c.datanet_id;
      }
      if (!closure.has(datanetId)) {
        throw new TributaryError(
          'attribution/outside_lineage',
          `${TARGET_KIND_NAMES[w.kind]} ${w.id} is outside the lineage of version ${version.id}`,
          {
            kind: TARGET_KIND_NAMES[w.kind],
            id: w.id,
          },
        );
      }
    }
    const id = await nextId(ctx.store, PREFIX.recordSeq);
    const record: AttributionRecord = {
      id,
      author: ctx.sender,
      model_version_id: version.id,
      request_hash: m.request_hash,
      method: m.method,
      weights_hash: m.weights_hash,
      index_root: m.index_root,
      output_hash: m.output_hash,
      seed: m.seed,
      weights,
      height: ctx.height,
      used_by_payment: 0,
    };
    save(ctx.store, AttributionRecordCodec, recordKey(id), record);
    attributionRecordedEvent.emit(ctx, {
      attribution_id: id,
      version_id: version.id,
      method: METHOD_NAMES[m.method]!,
      scope: m.request_hash.length ? `request:${toHex(m.request_hash)}` : 'model_version',
      targets: weights.length,
    });
  },
  view(m) {
    return {
      modelVersionId: m.model_version_id,
      requestHash: hexOrNull(m.request_hash),
      method: METHOD_NAMES[m.method] ?? m.method,
      weightsHash: hexOrNull(m.weights_hash),
      indexRoot: hexOrNull(m.index_root),
      outputHash: hexOrNull(m.output_hash),
      seed: hexOrNull(m.seed),
      weights: m.weights.map(weightView),
    };
  },
};
