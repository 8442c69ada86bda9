import type { JsonValue } from '../../codec/json.ts';
import { formatAddress } from '../../crypto/address.ts';
import { type JsonSchema, schema as s } from '../../state/json-schema.ts';
import { hexOrNull } from '../common.ts';
import { EDGE_KIND_NAMES, type ModelVersion, RELATION_NAMES } from '../store.ts';

/* The model module: JSON views of records (where a view adds meaning to the schema). */

export const VERSION_PROPERTIES: Record<string, JsonSchema> = {
  id: s.id(),
  familyId: s.id(),
  familySeq: s.id('1, 2, ... within the family'),
  owner: s.address(),
  weightsHash: s.nullable(s.hash()),
  configHash: s.nullable(s.hash()),
  recipeHash: s.nullable(s.hash()),
  relation: s.names(RELATION_NAMES),
  parents: s.array(s.object({ kind: s.names(EDGE_KIND_NAMES), id: s.id(), shareBps: s.bps() })),
  ownerShareBps: s.bps('what the parent edges leave to the owner'),
  height: s.integer(),
};
/** `versionView`'s answer. */
export const VERSION_SCHEMA: JsonSchema = s.object(VERSION_PROPERTIES);

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
