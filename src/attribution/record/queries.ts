import type { JsonValue } from '../../codec/json.ts';
import { TributaryError } from '../../errors.ts';
import type { QueryDefinition, StateKeyDefinition } from '../../state/module.ts';
import { paramId } from '../common.ts';
import { AttributionRecordCodec } from '../store.ts';
import { readRecord, readRecordFlag, recordKey } from './keys.ts';
import { schema as s } from '../../state/json-schema.ts';
import { RECORD_PROPERTIES, recordView } from './views.ts';

/* The attribution module: queries and state-key kinds for proofs. */

export const attributionStateKeys: StateKeyDefinition[] = [
  {
    kind: 'attribution',
    description: 'an attribution record (method, commitments, weights)',
    id: { name: 'id', kind: 'integer' },
    key: (id) => recordKey(id as number),
    view: (value) => recordView(AttributionRecordCodec.decode(value)),
  },
];

export const attributionQueries: QueryDefinition[] = [
  {
    method: 'attribution_get',
    description: 'an attribution record: method, commitments and weights',
    params: [{ name: 'id', kind: 'integer' }],
    cli: 'attribution',
    result: s.object({ ...RECORD_PROPERTIES, flaggedByDispute: s.nullable(s.id()) }),
    async handler(q, p) {
      const id = paramId(p.id);
      const r = await readRecord(q.state, id);
      if (!r) throw new TributaryError('attribution/not_found', `attribution record ${id} does not exist`);
      return {
        ...(recordView(r) as Record<string, JsonValue>),
        flaggedByDispute: (await readRecordFlag(q.state, id)) ?? null,
      };
    },
  },
];
