import type { JsonValue } from '../codec/json.ts';
import { viewOf } from '../codec/view.ts';
import { formatAddress } from '../crypto/address.ts';
import { bytesEqual } from '../crypto/hash.ts';
import { TributaryError } from '../errors.ts';
import { defineEvent } from '../state/events.ts';
import type { KeeperSource, Module, QueryContext, TxDefinition } from '../state/module.ts';
import type { ModelUsageBook } from './expected.ts';
import type { StateReader } from '../state/working-state.ts';
import { byKindThenId, hexOrNull, paramId, requireHash, requireId, requireText } from './common.ts';
import { readDatanet } from './datanet.ts';
import { aiParams } from './params.ts';
import {
  AncestorSetCodec,
  EDGE_KIND_NAMES,
  EdgeKind,
  ModelFamilyCodec,
  ModelUsageCodec,
  ModelVersionCodec,
  PREFIX,
  RELATION_NAMES,
  Relation,
  codec,
  idKey,
  lastId,
  load,
  nextId,
  save,
  type AncestorSet,
  type ModelFamily,
  type ModelUsage,
  type ModelVersion,
  type ParentEdge,
} from './store.ts';
import type { MsgRegisterModel, MsgPublishModel } from './attribution.pb.ts';
export type { MsgRegisterModel, MsgPublishModel } from './attribution.pb.ts';

/*
 * Model families and versions. A version names its parents (earlier versions and datanets) with
 * a share each; parents must exist when it is published and version ids only grow, so the lineage
 * is acyclic by construction and every parent has a smaller id than its child. Each version's
 * complete ancestor set (versions and datanets) is stored with it, capped by `maxAncestors`: a
 * version whose lineage would exceed the cap cannot be published. Versions are immutable.
 */

export type ModelErrorCode =
  | 'model/invalid'
  | 'model/family_not_found'
  | 'model/not_found'
  | 'model/unauthorized'
  | 'model/unknown_parent'
  | 'model/cycle'
  | 'model/duplicate_parent'
  | 'model/too_many_parents'
  | 'model/shares_over_cap'
  | 'model/bad_relation'
  | 'model/lineage_too_large';

/** Absolute limit; the chain parameter `maxParents` may only lower it. */
export const MAX_PARENTS = 16;

export function versionKey(id: number): Uint8Array {
  return idKey(PREFIX.version, id);
}

export async function readVersion(state: StateReader, id: number): Promise<ModelVersion | undefined> {
  return load(state, ModelVersionCodec, versionKey(id));
}

export async function readAncestors(state: StateReader, id: number): Promise<AncestorSet> {
  return (await load(state, AncestorSetCodec, idKey(PREFIX.ancestors, id))) ?? { models: [], datanets: [] };
}

export async function readUsage(state: StateReader, id: number): Promise<ModelUsage> {
  return (await load(state, ModelUsageCodec, idKey(PREFIX.usage, id))) ?? { paid_count: 0, paid_amount: 0n };
}

// ------------------------------------------------------------------ model/register

export const modelRegisteredEvent = defineEvent('model_registered', 'a model family was registered', {
  family_id: { kind: 'integer' },
  owner: { kind: 'address', indexed: true },
  name: { kind: 'string' },
});

export const modelPublishedEvent = defineEvent('model_published', 'a model version was published with its parent edges ("kind:id:bps", comma-separated)', {
  version_id: { kind: 'integer' },
  family_id: { kind: 'integer', indexed: true },
  relation: { kind: 'string' },
  parents: { kind: 'string' },
  ancestors: { kind: 'integer' },
});

/** One parent edge of a published version: what finds a version's or a datanet's children. */
export const modelParentEvent = defineEvent('model_parent', 'a parent edge of a newly published model version (parent_kind model or datanet)', {
  version_id: { kind: 'integer' },
  parent_kind: { kind: 'string' },
  parent_id: { kind: 'integer', indexed: true },
  share_bps: { kind: 'integer' },
});

export const registerModelTx: TxDefinition<MsgRegisterModel> = {
  type: 'model/register',
  codec: codec('MsgRegisterModel'),
  validateBasic(m) {
    requireText('model/invalid', m.name, 'name', 128, true);
    requireHash('model/invalid', m.metadata_hash, 'metadata_hash', true);
  },
  async execute(ctx, m) {
    const id = await nextId(ctx.store, PREFIX.familySeq);
    const family: ModelFamily = { id, owner: ctx.sender, name: m.name, metadata_hash: m.metadata_hash, versions: 0, created_height: ctx.height };
    save(ctx.store, ModelFamilyCodec, idKey(PREFIX.family, id), family);
    modelRegisteredEvent.emit(ctx, { family_id: id, owner: ctx.sender, name: m.name });
  },
  view(m) {
    return viewOf(registerModelTx.codec, m);
  },
};

// ------------------------------------------------------------------ model/publish

/** Which parent edges each relation needs: derived models name the model(s) they come from. */
function checkRelation(relation: number, parents: readonly ParentEdge[]): void {
  const models = parents.filter((p) => p.kind === EdgeKind.model).length;
  const need =
    relation === Relation.base ? 0 : relation === Relation.merge ? 2 : relation in RELATION_NAMES ? 1 : undefined;
  if (need === undefined) throw new TributaryError('model/bad_relation', `unknown relation ${relation}`);
  if (relation === Relation.base && models > 0) {
    throw new TributaryError('model/bad_relation', 'a base model has no model parents (only datanets)');
  }
  if (models < need) {
    throw new TributaryError('model/bad_relation', `a ${RELATION_NAMES[relation]} needs at least ${need} model parent(s)`);
  }
}

/** Sorted union of ascending id lists. */
function mergeSorted(lists: readonly (readonly number[])[]): number[] {
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
      if (p.kind !== EdgeKind.model && p.kind !== EdgeKind.datanet) throw new TributaryError('model/invalid', `unknown parent kind ${p.kind}`);
      requireId('model/invalid', p.id, 'parent id');
      if (!Number.isSafeInteger(p.share_bps) || p.share_bps < 1 || p.share_bps > 10_000) {
        throw new TributaryError('model/invalid', 'each parent share is 1..10000 basis points');
      }
      const k = `${p.kind}:${p.id}`;
      if (seen.has(k)) throw new TributaryError('model/duplicate_parent', `parent ${EDGE_KIND_NAMES[p.kind]} ${p.id} is named twice`);
      seen.add(k);
    }
    checkRelation(m.relation, m.parents);
  },
  async execute(ctx, m) {
    const params = aiParams(ctx.params).model;
    const family = await load(ctx.store, ModelFamilyCodec, idKey(PREFIX.family, m.family_id));
    if (!family) throw new TributaryError('model/family_not_found', `model family ${m.family_id} does not exist`);
    if (!bytesEqual(family.owner, ctx.sender)) throw new TributaryError('model/unauthorized', 'only the family owner publishes versions');
    if (m.parents.length > params.maxParents) {
      throw new TributaryError('model/too_many_parents', `at most ${params.maxParents} parents`, { max: params.maxParents });
    }
    const shareSum = m.parents.reduce((s, p) => s + p.share_bps, 0);
    if (shareSum > params.maxParentShareBps) {
      throw new TributaryError('model/shares_over_cap', `parent shares sum to ${shareSum} bps, above the cap ${params.maxParentShareBps}`, {
        sum: shareSum,
        cap: params.maxParentShareBps,
      });
    }
    const id = (await lastId(ctx.store, PREFIX.versionSeq)) + 1;
    const parents = [...m.parents].sort(byKindThenId);
    const ancestorLists: AncestorSet[] = [];
    const directModels: number[] = [];
    const directDatanets: number[] = [];
    for (const p of parents) {
      if (p.kind === EdgeKind.model) {
        // Only an existing (hence older) version can be a parent: no edge can close a cycle.
        if (p.id >= id) {
          throw new TributaryError('model/cycle', `version ${p.id} is not older than the version being published (${id})`, { parentId: p.id });
        }
        if (!(await readVersion(ctx.store, p.id))) throw new TributaryError('model/unknown_parent', `model version ${p.id} does not exist`, { parentId: p.id });
        ancestorLists.push(await readAncestors(ctx.store, p.id));
        directModels.push(p.id);
      } else {
        if (!(await readDatanet(ctx.store, p.id))) throw new TributaryError('model/unknown_parent', `datanet ${p.id} does not exist`, { datanetId: p.id });
        directDatanets.push(p.id);
      }
    }
    const ancestors: AncestorSet = {
      models: mergeSorted([directModels, ...ancestorLists.map((a) => a.models)]),
      datanets: mergeSorted([directDatanets, ...ancestorLists.map((a) => a.datanets)]),
    };
    const size = ancestors.models.length + ancestors.datanets.length;
    if (size > params.maxAncestors) {
      throw new TributaryError('model/lineage_too_large', `the lineage would hold ${size} ancestors, above ${params.maxAncestors}`, {
        size,
        cap: params.maxAncestors,
      });
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
    for (const p of parents) modelParentEvent.emit(ctx, { version_id: id, parent_kind: EDGE_KIND_NAMES[p.kind]!, parent_id: p.id, share_bps: p.share_bps });
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

// ------------------------------------------------------------------ views and queries

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

async function requireVersion(q: QueryContext, id: number): Promise<ModelVersion> {
  const v = await readVersion(q.state, id);
  if (!v) throw new TributaryError('model/not_found', `model version ${id} does not exist`, { versionId: id });
  return v;
}

/** Versions naming this model version or datanet as a direct parent, in id order (from the index). */
async function childIds(q: QueryContext, parentKind: number, id: number): Promise<number[]> {
  const out: number[] = [];
  const kind = EDGE_KIND_NAMES[parentKind]!;
  for await (const e of q.chain.index.events({ type: modelParentEvent.type, attribute: { key: 'parent_id', value: String(id) } })) {
    const edge = modelParentEvent.read(e.event);
    if (edge.parent_kind === kind) out.push(edge.version_id);
  }
  return out;
}

/** Descendants breadth-first, capped so one query cannot walk an unbounded graph. */
const MAX_DESCENDANTS = 1_024;

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

export const modelModule: Module = {
  name: 'model',
  keepers: [modelUsageKeeper],
  txs: [registerModelTx, publishModelTx],
  events: [modelRegisteredEvent, modelPublishedEvent, modelParentEvent],
  stateKeys: [
    {
      kind: 'model_version',
      description: 'a model version record (hashes, relation, parent edges with shares)',
      id: { name: 'id', kind: 'integer' },
      key: (id) => versionKey(id as number),
      view: (value) => versionView(ModelVersionCodec.decode(value)),
    },
    {
      kind: 'model_ancestors',
      description: 'the ancestor set of a model version (versions and datanets)',
      id: { name: 'id', kind: 'integer' },
      key: (id) => idKey(PREFIX.ancestors, id as number),
      view: (value) => viewOf(AncestorSetCodec, AncestorSetCodec.decode(value)),
    },
    {
      kind: 'model_usage',
      description: 'how often a model version was paid for',
      id: { name: 'id', kind: 'integer' },
      key: (id) => idKey(PREFIX.usage, id as number),
      view: (value) => viewOf(ModelUsageCodec, ModelUsageCodec.decode(value)),
    },
  ],
  queries: [
    {
      method: 'model_get',
      description: 'a model version with its family, parent edges, owner share and usage counters',
      params: [{ name: 'id', kind: 'integer' }],
      cli: 'model',
      async handler(q, p) {
        const v = await requireVersion(q, paramId(p.id));
        const family = (await load(q.state, ModelFamilyCodec, idKey(PREFIX.family, v.family_id)))!;
        const usage = await readUsage(q.state, v.id);
        return {
          ...(versionView(v) as Record<string, JsonValue>),
          family: { id: family.id, name: family.name, owner: formatAddress(family.owner), versions: family.versions },
          usage: { paidCount: usage.paid_count, paidAmount: usage.paid_amount.toString() },
        };
      },
    },
    {
      method: 'model_getFamily',
      description: 'a model family: owner, name and number of versions',
      params: [{ name: 'id', kind: 'integer' }],
      cli: 'model-family',
      async handler(q, p) {
        const id = paramId(p.id);
        const f = await load(q.state, ModelFamilyCodec, idKey(PREFIX.family, id));
        if (!f) throw new TributaryError('model/family_not_found', `model family ${id} does not exist`);
        return { id: f.id, owner: formatAddress(f.owner), name: f.name, metadataHash: hexOrNull(f.metadata_hash), versions: f.versions, createdHeight: f.created_height };
      },
    },
    {
      method: 'model_getLineage',
      description: 'ancestors (versions and datanets, each with its parent edges and shares) and descendants of a model version',
      params: [{ name: 'id', kind: 'integer' }],
      cli: 'lineage',
      async handler(q, p) {
        const v = await requireVersion(q, paramId(p.id));
        const anc = await readAncestors(q.state, v.id);
        const ancestors: JsonValue[] = [];
        for (const id of [...anc.models].reverse()) ancestors.push(versionView((await readVersion(q.state, id))!));
        const datanets: JsonValue[] = [];
        for (const id of anc.datanets) {
          const d = (await readDatanet(q.state, id))!;
          datanets.push({ id: d.id, name: d.name, owner: formatAddress(d.owner), version: d.version });
        }
        const descendants: JsonValue[] = [];
        const seen = new Set<number>([v.id]);
        const queue = [v.id];
        while (queue.length > 0 && descendants.length < MAX_DESCENDANTS) {
          const parentId = queue.shift()!;
          for (const childId of await childIds(q, EdgeKind.model, parentId)) {
            if (seen.has(childId)) continue;
            seen.add(childId);
            queue.push(childId);
            const child = (await readVersion(q.state, childId))!;
            descendants.push(versionView(child));
          }
        }
        descendants.sort((a, b) => ((a as { id: number }).id - (b as { id: number }).id));
        return { version: versionView(v), ancestors, datanets, descendants, truncated: descendants.length >= MAX_DESCENDANTS };
      },
    },
    {
      method: 'model_getUsage',
      description: 'how often a model version was paid for, and the total paid',
      params: [{ name: 'id', kind: 'integer' }],
      cli: 'model-usage',
      async handler(q, p) {
        const v = await requireVersion(q, paramId(p.id));
        const usage = await readUsage(q.state, v.id);
        return { versionId: v.id, paidCount: usage.paid_count, paidAmount: usage.paid_amount.toString() };
      },
    },
    {
      method: 'datanet_getModels',
      description: 'model versions that name a datanet as a direct parent',
      params: [{ name: 'id', kind: 'integer' }],
      cli: 'datanet-models',
      async handler(q, p) {
        const id = paramId(p.id);
        const out: JsonValue[] = [];
        for (const vid of await childIds(q, EdgeKind.datanet, id)) out.push(versionView((await readVersion(q.state, vid))!));
        return { datanetId: id, versions: out };
      },
    },
  ],
  async initGenesis(ctx) {
    aiParams(ctx.params);
  },
};
