import type { JsonValue } from '../../codec/json.ts';
import { formatAddress } from '../../crypto/address.ts';
import { hexOrNull } from '../common.ts';
import { EDGE_KIND_NAMES, type ModelVersion, RELATION_NAMES } from '../store.ts';

/* The model module: JSON views of records (where a view adds meaning to the schema). */

export function versionView(v: ModelVersion): JsonValue {
  return {
    id: v.id,
    familyId: v.family_id,
    familySeq: v.family_seq,
    owner: formatAddress(v.owner),
    weightsHash: hexOrNull(v.weights_hash),
    configHash: hexOrNull(v.config_hash),
    recipeHash: hexOrNull(v.recipe_hash),
    relation: RELATION_NAMES[v.relation] ?? v.relation,
    parents: v.parents.map((p) => ({ kind: EDGE_KIND_NAMES[p.kind] ?? p.kind, id: p.id, shareBps: p.share_bps })),
    ownerShareBps: 10_000 - v.parents.reduce((s, p) => s + p.share_bps, 0),
    height: v.height,
  };
}
