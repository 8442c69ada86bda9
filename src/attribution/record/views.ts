import type { JsonValue } from '../../codec/json.ts';
import { formatAddress } from '../../crypto/address.ts';
import { type JsonSchema, schema as s } from '../../state/json-schema.ts';
import { hexOrNull } from '../common.ts';
import { type AttributionRecord, METHOD_NAMES, TARGET_KIND_NAMES, type Weight } from '../store.ts';

/* The attribution module: JSON views of records (where a view adds meaning to the schema). */

export const RECORD_PROPERTIES: Record<string, JsonSchema> = {
  id: s.id(),
  author: s.address(),
  modelVersionId: s.id(),
  scope: s.enum('payment', 'model_version'),
  requestHash: s.nullable(s.hash('set for a per-payment record')),
  method: s.names(METHOD_NAMES),
  weightsHash: s.nullable(s.hash()),
  indexRoot: s.nullable(s.hash()),
  outputHash: s.nullable(s.hash()),
  seed: s.nullable(s.hash()),
  weights: s.array(s.object({ kind: s.names(TARGET_KIND_NAMES), id: s.id(), bps: s.bps() })),
  height: s.integer(),
  usedByPayment: s.nullable(s.id()),
};

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
