import { viewOf } from '../../codec/view.ts';
import { bytesEqual } from '../../crypto/hash.ts';
import { TributaryError } from '../../errors.ts';
import { defineEvent } from '../../state/events.ts';
import type { TxDefinition } from '../../state/module.ts';
import type { MsgPublishModel, MsgRegisterModel } from '../attribution.pb.ts';
import { byKindThenId, hexOrNull, requireHash, requireId, requireText } from '../common.ts';
import { readDatanet } from '../datanet/keys.ts';
import { aiParams } from '../params.ts';
import {
  type AncestorSet,
  AncestorSetCodec,
  EDGE_KIND_NAMES,
  EdgeKind,
  type ModelFamily,
  ModelFamilyCodec,
  type ModelVersion,
  ModelVersionCodec,
  PREFIX,
  type ParentEdge,
  RELATION_NAMES,
  Relation,
  codec,
  idKey,
  lastId,
  load,
  nextId,
  save,
} from '../store.ts';
import { MAX_PARENTS, readAncestors, readVersion, versionKey } from './keys.ts';

/* The model module: its transactions and the events they emit (the rules). */

export type ModelErrorCode =
  | 'model/invalid'
  | 'model/family_not_found'
  | 'model/not_found'
  | 'model/unauthorized'
  | 'model/unknown_parent'
  | 'model/duplicate_parent'
  | 'model/too_many_parents'
  | 'model/shares_over_cap'
  | 'model/bad_relation'
  | 'model/lineage_too_large';

export const modelRegisteredEvent = defineEvent('model_registered', 'a model family was registered', {
  family_id: { kind: 'integer' },
  owner: { kind: 'address', indexed: true },
  name: { kind: 'string' },
});

export const modelPublishedEvent = defineEvent(
  'model_published',
  'a model version was published with its parent edges ("kind:id:bps", comma-separated)',
  {
    version_id: { kind: 'integer' },
    family_id: { kind: 'integer', indexed: true },
    relation: { kind: 'string' },
    parents: { kind: 'string' },
    ancestors: { kind: 'integer' },
  },
);

/** One parent edge of a published version: what finds a version's or a datanet's children. */
export const modelParentEvent = defineEvent(
  'model_parent',
  'a parent edge of a newly published model version (parent_kind model or datanet)',
  {
    version_id: { kind: 'integer' },
    parent_kind: { kind: 'string' },
    parent_id: { kind: 'integer', indexed: true },
    share_bps: { kind: 'integer' },
  },
);

export const registerModelTx: TxDefinition<MsgRegisterModel> = {
  type: 'model/register',
  codec: codec('MsgRegisterModel'),
  validateBasic(m) {
    requireText('model/invalid', m.name, 'name', 128, true);
    requireHash('model/invalid', m.metadata_hash, 'metadata_hash', true);
  },
  async execute(ctx, m) {
    const id = await nextId(ctx.store, PREFIX.familySeq);
    const family: ModelFamily = {
      id,
      owner: ctx.sender,
      name: m.name,
      metadata_hash: m.metadata_hash,
      versions: 0,
      created_height: ctx.height,
    };
    save(ctx.store, ModelFamilyCodec, idKey(PREFIX.family, id), family);
    modelRegisteredEvent.emit(ctx, { family_id: id, owner: ctx.sender, name: m.name });
  },
  view(m) {
    return viewOf(registerModelTx.codec, m);
  },
};

/** Which parent edges each relation needs: derived models name the model(s) they come from. */
export function checkRelation(relation: number, parents: readonly ParentEdge[]): void {
  const models = parents.filter((p) => p.kind === EdgeKind.model).length;
  const need =
    relation === Relation.base ? 0 : relation === Relation.merge ? 2 : relation in RELATION_NAMES ? 1 : undefined;
  if (need === undefined) throw new TributaryError('model/bad_relation', `unknown relation ${relation}`);
  if (relation === Relation.base && models > 0) {
    throw new TributaryError('model/bad_relation', 'a base model has no model parents (only datanets)');
  }
  if (models < need) {
    throw new TributaryError(
      'model/bad_relation',
      `a ${RELATION_NAMES[relation]} needs at least ${need} model parent(s)`,
    );
  }
}

/** Sorted union of ascending id lists. */
export function mergeSorted(lists: readonly (readonly number[])[]): number[] {
  const all = new Set<number>();
  for (const l of lists) for (const x of l) all.add(x);
  return [...all].sort((a, b) => a - b);
}

export const publishModelTx: TxDefinition<MsgPublishModel> = {
  type: 'model/publish',
  codec: codec('MsgPublishModel'),
  validateBasic(m) {
    requireId('model/invalid', m.family_id, 'family_id');
    requireHash('model/invalid', m.weights_hash, 'weights_hash');
    requireHash('model/invalid', m.config_hash, 'config_hash', true);
    requireHash('model/invalid', m.recipe_hash, 'recipe_hash', true);
    if (m.parents.length > MAX_PARENTS) {
      throw new TributaryError('model/too_many_parents', `at most ${MAX_PARENTS} parents`, { max: MAX_PARENTS });
    }
    const seen = new Set<string>();
    for (const p of m.parents) {
      if (p.kind !== EdgeKind.model && p.kind !== EdgeKind.datanet)
        throw new TributaryError('model/invalid', `unknown parent kind ${p.kind}`);
      requireId('model/invalid', p.id, 'parent id');
      if (!Number.isSafeInteger(p.share_bps) || p.share_bps < 1 || p.share_bps > 10_000) {
        throw new TributaryError('model/invalid', 'each parent share is 1..10000 basis points');
      }
      const k = `${p.kind}:${p.id}`;
      if (seen.has(k))
        throw new TributaryError('model/duplicate_parent', `parent ${EDGE_KIND_NAMES[p.kind]} ${p.id} is named twice`);
      seen.add(k);
    }
    checkRelation(m.relation, m.parents);
  },
  async execute(ctx, m) {
    const params = aiParams(ctx.params).model;
    const family = await load(ctx.store, ModelFamilyCodec, idKey(PREFIX.family, m.family_id));
    if (!family) throw new TributaryError('model/family_not_found', `model family ${m.family_id} does not exist`);
    if (!bytesEqual(family.owner, ctx.sender))
      throw new TributaryError('model/unauthorized', 'only the family owner publishes versions');
    if (m.parents.length > params.maxParents) {
      throw new TributaryError('model/too_many_parents', `at most ${params.maxParents} parents`, {
        max: params.maxParents,
      });
    }
    const shareSum = m.parents.reduce((s, p) => s + p.share_bps, 0);
    if (shareSum > params.maxParentShareBps) {
      throw new TributaryError(
        'model/shares_over_cap',
        `parent shares sum to ${shareSum} bps, above the cap ${params.maxParentShareBps}`,
        {
          sum: shareSum,
          cap: params.maxParentShareBps,
        },
      );
    }
    const id = (await lastId(ctx.store, PREFIX.versionSeq)) + 1;
    const parents = [...m.parents].sort(byKindThenId);
    const ancestorLists: AncestorSet[] = [];
    const directModels: number[] = [];
    const directDatanets: number[] = [];
    for (const p of parents) {
      if (p.kind === EdgeKind.model) {
        // Only an existing (hence older) version can be a parent, so no edge can close a cycle: a
        // version not published yet (the one being published included) is simply unknown.
        if (p.id >= id || !(await readVersion(ctx.store, p.id)))
          throw new TributaryError('model/unknown_parent', `model version ${p.id} does not exist`, { parentId: p.id });
        ancestorLists.push(await readAncestors(ctx.store, p.id));
        directModels.push(p.id);
      } else {
        if (!(await readDatanet(ctx.store, p.id)))
          throw new TributaryError('model/unknown_parent', `datanet ${p.id} does not exist`, { datanetId: p.id });
        directDatanets.push(p.id);
      }
    }
    const ancestors: AncestorSet = {
      models: mergeSorted([directModels, ...ancestorLists.map((a) => a.models)]),
      datanets: mergeSorted([directDatanets, ...ancestorLists.map((a) => a.datanets)]),
    };
    const size = ancestors.models.length + ancestors.datanets.length;
    if (size > params.maxAncestors) {
      throw new TributaryError(
        'model/lineage_too_large',
        `the lineage would hold ${size} ancestors, above ${params.maxAncestors}`,
        {
          size,
          cap: params.maxAncestors,
        },
      );
    }
    await nextId(ctx.store, PREFIX.versionSeq);
    family.versions += 1;
    save(ctx.store, ModelFamilyCodec, idKey(PREFIX.family, family.id), family);
    const version: ModelVersion = {
      id,
      family_id: family.id,
      owner: ctx.sender,
      weights_hash: m.weights_hash,
      config_hash: m.config_hash,
      recipe_hash: m.recipe_hash,
      relation: m.relation,
      parents,
      height: ctx.height,
      family_seq: family.versions,
    };
    save(ctx.store, ModelVersionCodec, versionKey(id), version);
    save(ctx.store, AncestorSetCodec, idKey(PREFIX.ancestors, id), ancestors);
    modelPublishedEvent.emit(ctx, {
      version_id: id,
      family_id: family.id,
      relation: RELATION_NAMES[m.relation]!,
      parents: parents.map((p) => `${EDGE_KIND_NAMES[p.kind]}:${p.id}:${p.share_bps}`).join(','),
      ancestors: size,
    });
    for (const p of parents)
      modelParentEvent.emit(ctx, {
        version_id: id,
        parent_kind: EDGE_KIND_NAMES[p.kind]!,
        parent_id: p.id,
        share_bps: p.share_bps,
      });
  },
  view(m) {
    return {
      familyId: m.family_id,
      weightsHash: hexOrNull(m.weights_hash),
      configHash: hexOrNull(m.config_hash),
      recipeHash: hexOrNull(m.recipe_hash),
      relation: RELATION_NAMES[m.relation] ?? m.relation,
      parents: m.parents.map((p) => ({ kind: EDGE_KIND_NAMES[p.kind] ?? p.kind, id: p.id, shareBps: p.share_bps })),
    };
  },
};
