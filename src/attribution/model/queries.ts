import type { JsonValue } from '../../codec/json.ts';
import { viewOf } from '../../codec/view.ts';
import { formatAddress } from '../../crypto/address.ts';
import { TributaryError } from '../../errors.ts';
import type { QueryContext, QueryDefinition, StateKeyDefinition } from '../../state/module.ts';
import { hexOrNull, paramId } from '../common.ts';
import { readDatanet } from '../datanet/keys.ts';
import {
  AncestorSetCodec,
  EDGE_KIND_NAMES,
  EdgeKind,
  ModelFamilyCodec,
  ModelUsageCodec,
  type ModelVersion,
  ModelVersionCodec,
  PREFIX,
  idKey,
  load,
} from '../store.ts';
import { readAncestors, readUsage, readVersion, readVersionFlag, versionKey } from './keys.ts';
import { inferencePaidEvent } from '../inference/txs.ts';
import { modelParentEvent } from './txs.ts';
import { schema as s } from '../../state/json-schema.ts';
import { VERSION_PROPERTIES, VERSION_SCHEMA, versionView } from './views.ts';

/* The model module: queries and state-key kinds for proofs. */

export async function requireVersion(q: QueryContext, id: number): Promise<ModelVersion> {
  const v = await readVersion(q.state, id);
  if (!v) throw new TributaryError('model/not_found', `model version ${id} does not exist`, { versionId: id });
  return v;
}

/** Versions naming this model version or datanet as a direct parent, in id order (from the index). */
export async function childIds(q: QueryContext, parentKind: number, id: number): Promise<number[]> {
  const out: number[] = [];
  const kind = EDGE_KIND_NAMES[parentKind]!;
  for await (const e of q.chain.index.events({
    type: modelParentEvent.type,
    attribute: { key: 'parent_id', value: String(id) },
  })) {
    const edge = modelParentEvent.read(e.event);
    if (edge.parent_kind === kind) out.push(edge.version_id);
  }
  return out;
}

/** Descendants breadth-first, capped so one query cannot walk an unbounded graph. */
export const MAX_DESCENDANTS = 1_024;

/** Ids of a version's descendants (model edges only), in id order, at most MAX_DESCENDANTS. */
export async function descendantIds(q: QueryContext, id: number): Promise<{ ids: number[]; truncated: boolean }> {
  const out: number[] = [];
  const seen = new Set<number>([id]);
  const queue = [id];
  while (queue.length > 0 && out.length < MAX_DESCENDANTS) {
    const parentId = queue.shift()!;
    for (const childId of await childIds(q, EdgeKind.model, parentId)) {
      if (seen.has(childId)) continue;
      seen.add(childId);
      queue.push(childId);
      out.push(childId);
    }
  }
  return { ids: out.sort((a, b) => a - b), truncated: out.length >= MAX_DESCENDANTS };
}

/** Most payments one `model_getUsage` reads from the index for the lineage inflow. */
export const MAX_USAGE_PAYMENTS = 100_000;

/**
 * Lineage inflow: what reached this version as a lineage node, i.e. its owner's "refined" legs at
 * this node, in payments for it and for every descendant (from the chain index's `inference_paid`
 * events; payments for other versions never pay through it).
 */
async function lineageInflow(
  q: QueryContext,
  id: number,
): Promise<{ count: number; amount: bigint; truncated: boolean }> {
  const descendants = await descendantIds(q, id);
  let count = 0;
  let amount = 0n;
  let read = 0;
  for (const paidVersion of [id, ...descendants.ids]) {
    for await (const at of q.chain.index.events({
      type: inferencePaidEvent.type,
      attribute: { key: 'version_id', value: String(paidVersion) },
    })) {
      if (++read > MAX_USAGE_PAYMENTS) return { count, amount, truncated: true };
      const paid = inferencePaidEvent.read(at.event);
      let here = 0n;
      paid.leg_roles.forEach((role, i) => {
        if (role === 'refined' && paid.leg_node_ids[i] === id) here += paid.leg_amounts[i]!;
      });
      if (here > 0n) {
        count++;
        amount += here;
      }
    }
  }
  return { count, amount, truncated: descendants.truncated };
}

export const modelStateKeys: StateKeyDefinition[] = [
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
];

async function flaggedAncestors(q: QueryContext, id: number): Promise<JsonValue> {
  const out: JsonValue[] = [];
  for (const ancestor of (await readAncestors(q.state, id)).models) {
    const disputeId = await readVersionFlag(q.state, ancestor);
    if (disputeId !== undefined) out.push({ versionId: ancestor, disputeId });
  }
  return out;
}

export const modelQueries: QueryDefinition[] = [
  {
    method: 'model_get',
    description:
      'a model version with its family, parent edges, owner share, usage counters, and the lineage disputes upheld against it or its ancestors',
    params: [{ name: 'id', kind: 'integer' }],
    cli: 'model',
    result: s.object({
      ...VERSION_PROPERTIES,
      family: s.object({ id: s.id(), name: s.string(), owner: s.address(), versions: s.integer() }),
      usage: s.object({ paidCount: s.integer(), paidAmount: s.amount() }),
      flaggedByDispute: s.nullable(s.id('the upheld lineage dispute')),
      flaggedAncestors: s.array(s.object({ versionId: s.id(), disputeId: s.id() })),
    }),
    async handler(q, p) {
      const v = await requireVersion(q, paramId(p.id));
      const family = (await load(q.state, ModelFamilyCodec, idKey(PREFIX.family, v.family_id)))!;
      const usage = await readUsage(q.state, v.id);
      return {
        ...(versionView(v) as Record<string, JsonValue>),
        family: { id: family.id, name: family.name, owner: formatAddress(family.owner), versions: family.versions },
        usage: { paidCount: usage.paid_count, paidAmount: usage.paid_amount.toString() },
        flaggedByDispute: (await readVersionFlag(q.state, v.id)) ?? null,
        // A derivative of a flagged version carries the finding too (as Story Protocol tags the
        // derivatives of an infringing asset): every flagged ancestor, in id order.
        flaggedAncestors: await flaggedAncestors(q, v.id),
      };
    },
  },
  {
    method: 'model_getFamily',
    description: 'a model family: owner, name and number of versions',
    params: [{ name: 'id', kind: 'integer' }],
    cli: 'model-family',
    result: s.object({
      id: s.id(),
      owner: s.address(),
      name: s.string(),
      metadataHash: s.nullable(s.hash()),
      versions: s.integer(),
      createdHeight: s.integer(),
    }),
    async handler(q, p) {
      const id = paramId(p.id);
      const f = await load(q.state, ModelFamilyCodec, idKey(PREFIX.family, id));
      if (!f) throw new TributaryError('model/family_not_found', `model family ${id} does not exist`);
      return {
        id: f.id,
        owner: formatAddress(f.owner),
        name: f.name,
        metadataHash: hexOrNull(f.metadata_hash),
        versions: f.versions,
        createdHeight: f.created_height,
      };
    },
  },
  {
    method: 'model_getLineage',
    description:
      'ancestors (versions and datanets, each with its parent edges and shares) and descendants of a model version',
    params: [{ name: 'id', kind: 'integer' }],
    cli: 'lineage',
    result: s.object({
      version: VERSION_SCHEMA,
      ancestors: s.array(VERSION_SCHEMA),
      datanets: s.array(s.object({ id: s.id(), name: s.string(), owner: s.address(), version: s.integer() })),
      descendants: s.array(VERSION_SCHEMA),
      truncated: s.boolean(),
    }),
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
      const ids = await descendantIds(q, v.id);
      const descendants: JsonValue[] = [];
      for (const id of ids.ids) descendants.push(versionView((await readVersion(q.state, id))!));
      return {
        version: versionView(v),
        ancestors,
        datanets,
        descendants,
        truncated: ids.truncated,
      };
    },
  },
  {
    method: 'model_getUsage',
    description:
      'how a model version is used, counted two ways: direct (paidCount, paidAmount, also as `direct`): payments ' +
      'naming this version, their whole amounts, from state; lineage: payments for it or any descendant that paid ' +
      'its owner through it as a lineage node, and the sum of those legs (its inflow), from the chain index',
    params: [{ name: 'id', kind: 'integer' }],
    cli: 'model-usage',
    result: s.object({
      versionId: s.id(),
      paidCount: s.integer(),
      paidAmount: s.amount(),
      direct: s.object({ count: s.integer(), amount: s.amount() }),
      lineage: s.object({ count: s.integer(), amount: s.amount(), truncated: s.boolean() }),
    }),
    async handler(q, p) {
      const v = await requireVersion(q, paramId(p.id));
      const usage = await readUsage(q.state, v.id);
      const lineage = await lineageInflow(q, v.id);
      return {
        versionId: v.id,
        paidCount: usage.paid_count,
        paidAmount: usage.paid_amount.toString(),
        direct: { count: usage.paid_count, amount: usage.paid_amount.toString() },
        lineage: { count: lineage.count, amount: lineage.amount.toString(), truncated: lineage.truncated },
      };
    },
  },
  {
    method: 'datanet_getModels',
    description: 'model versions that name a datanet as a direct parent',
    params: [{ name: 'id', kind: 'integer' }],
    cli: 'datanet-models',
    result: s.object({ datanetId: s.integer(), versions: s.array(VERSION_SCHEMA) }),
    async handler(q, p) {
      const id = paramId(p.id);
      const out: JsonValue[] = [];
      for (const vid of await childIds(q, EdgeKind.datanet, id))
        out.push(versionView((await readVersion(q.state, vid))!));
      return { datanetId: id, versions: out };
    },
  },
];
