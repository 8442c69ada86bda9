import type { JsonValue } from '../../codec/json.ts';
import { readU64be } from '../../crypto/hash.ts';
import { TributaryError } from '../../errors.ts';
import type { QueryContext, QueryDefinition, StateKeyDefinition } from '../../state/module.ts';
import { PAGE_PARAMS, page, paramId } from '../common.ts';
import { ContributionCodec, type Datanet, DatanetCodec, PREFIX, bytesKey, idKey, readId } from '../store.ts';
import { contributionKey, datanetKey, readContribution, readDatanet } from './keys.ts';
import { schema as s } from '../../state/json-schema.ts';
import { CONTRIBUTION_SCHEMA, DATANET_SCHEMA, contributionView, datanetView } from './views.ts';

/* The datanet module: queries and state-key kinds for proofs. */

export async function requireDatanet(q: QueryContext, id: number): Promise<Datanet> {
  const d = await readDatanet(q.state, id);
  if (!d) throw new TributaryError('datanet/not_found', `datanet ${id} does not exist`, { datanetId: id });
  return d;
}

export const datanetStateKeys: StateKeyDefinition[] = [
  {
    kind: 'datanet',
    description: 'a datanet record (owner, stake rule, version, Merkle root and frontier of accepted contributions)',
    id: { name: 'id', kind: 'integer' },
    key: (id) => datanetKey(id as number),
    view: (value) => datanetView(DatanetCodec.decode(value)),
  },
  {
    kind: 'contribution',
    description: 'a contribution record (status, stake, vesting, earned and locked rewards)',
    id: { name: 'id', kind: 'integer' },
    key: (id) => contributionKey(id as number),
    view: (value) => contributionView(ContributionCodec.decode(value)),
  },
  {
    kind: 'content',
    description: 'which accepted contribution holds a content hash (chain-wide duplicate check)',
    id: { name: 'contentHash', kind: 'hash' },
    key: (id) => bytesKey(PREFIX.content, id as Uint8Array),
    view: (value) => ({ contributionId: readU64be(value) }),
  },
];

export const datanetQueries: QueryDefinition[] = [
  {
    method: 'datanet_get',
    description: 'a datanet: owner, licence, curators, stake rule, version and Merkle root of accepted contributions',
    params: [{ name: 'id', kind: 'integer' }],
    cli: 'datanet',
    result: DATANET_SCHEMA,
    async handler(q, p) {
      return datanetView(await requireDatanet(q, paramId(p.id)));
    },
  },
  {
    method: 'datanet_listContributions',
    description: 'contributions submitted to a datanet, in submission order, paginated',
    params: [{ name: 'id', kind: 'integer' }, ...PAGE_PARAMS],
    cli: 'datanet-contributions',
    result: s.object({
      datanetId: s.id(),
      total: s.integer('contributions submitted, of any status'),
      offset: s.integer(),
      limit: s.positive(),
      contributions: s.array(CONTRIBUTION_SCHEMA),
    }),
    async handler(q, p) {
      const d = await requireDatanet(q, paramId(p.id));
      const { offset, limit } = page(p);
      const items: JsonValue[] = [];
      for (let i = offset; i < Math.min(d.submitted, offset + limit); i++) {
        const id = await readId(q.state, idKey(PREFIX.submitted, d.id, i));
        const c = id === undefined ? undefined : await readContribution(q.state, id);
        if (c) items.push(contributionView(c));
      }
      return { datanetId: d.id, total: d.submitted, offset, limit, contributions: items };
    },
  },
  {
    method: 'datanet_getContribution',
    description: 'one contribution: status, stake, vesting and what it earned',
    params: [{ name: 'id', kind: 'integer' }],
    cli: 'contribution',
    result: CONTRIBUTION_SCHEMA,
    async handler(q, p) {
      const id = paramId(p.id);
      const c = await readContribution(q.state, id);
      if (!c) throw new TributaryError('datanet/contribution_not_found', `contribution ${id} does not exist`);
      return contributionView(c);
    },
  },
];
