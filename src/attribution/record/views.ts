import type { JsonValue } from '../../codec/json.ts';
import { formatAddress } from '../../crypto/address.ts';
import { hexOrNull } from '../common.ts';
import { type AttributionRecord, METHOD_NAMES, TARGET_KIND_NAMES, type Weight } from '../store.ts';

/* The attribution module: JSON views of records (where a view adds meaning to the schema). */

export function weightView(w: Weight): JsonValue {
  return { kind: TARGET_KIND_NAMES[w.kind] ?? w.kind, id: w.id, bps: w.bps };
}

export function recordView(r: AttributionRecord): JsonValue {
  return {
    id: r.id,
    author: formatAddress(r.author),
    modelVersionId: r.model_version_id,
    scope: r.request_hash.length ? 'payment' : 'model_version',
    requestHash: hexOrNull(r.request_hash),
    method: METHOD_NAMES[r.method] ?? r.method,
    weightsHash: hexOrNull(r.weights_hash),
    indexRoot: hexOrNull(r.index_root),
    outputHash: hexOrNull(r.output_hash),
    seed: hexOrNull(r.seed),
    weights: r.weights.map(weightView),
    height: r.height,
    usedByPayment: r.used_by_payment || null,
  };
}
