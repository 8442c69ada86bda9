import type { JsonValue } from '../../codec/json.ts';
import { TributaryError } from '../../errors.ts';
import { decodeCursor, encodeCursor } from '../../rpc/cursor.ts';
import type { QueryDefinition, StateKeyDefinition } from '../../state/module.ts';
import { pageLimit, paramId } from '../common.ts';
import { DisputeCodec } from '../store.ts';
import { DISPUTE_STATUS_NAMES, DISPUTE_TARGET_NAMES, disputeKey, readDispute } from './keys.ts';
import { PREFIX } from '../store.ts';
import { schema as s } from '../../state/json-schema.ts';
import { DISPUTE_SCHEMA, disputeView } from './views.ts';

/* The dispute module: queries and state-key kinds for proofs. */

export const disputeStateKeys: StateKeyDefinition[] = [
  {
    kind: 'dispute',
    description: 'a dispute: target, reason, bonds, votes and outcome',
    id: { name: 'id', kind: 'integer' },
    key: (id) => disputeKey(id as number),
    view: (value) => disputeView(DisputeCodec.decode(value)),
  },
];

const DISPUTES_SCOPE = 'dispute_list';

function nameToNumber(names: Record<number, string>, value: unknown, what: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const found = Object.entries(names).find(([, n]) => n === value);
  if (!found) throw new TributaryError('rpc/invalid_params', `${what} is one of ${Object.values(names).join(', ')}`);
  return Number(found[0]);
}

/**
 * Disputes in id order, filtered by target and status, a page at a time. The cursor is the API's
 * one cursor (src/rpc/cursor.ts) over the last id of the previous page; `nextCursor` is null
 * exactly when nothing is left. The page is read by
 * walking the dispute records (queries may iterate; execution never does).
 */
async function listDisputes(
  q: Parameters<QueryDefinition['handler']>[0],
  p: Record<string, unknown>,
): Promise<JsonValue> {
  const kind = nameToNumber(DISPUTE_TARGET_NAMES, p.targetKind, 'targetKind');
  const targetId = p.targetId === undefined || p.targetId === null ? undefined : paramId(p.targetId, 'targetId');
  if (targetId !== undefined && kind === undefined)
    throw new TributaryError('rpc/invalid_params', 'targetId needs targetKind');
  const status = nameToNumber(DISPUTE_STATUS_NAMES, p.status, 'status');
  const after = p.cursor === undefined || p.cursor === null ? 0 : decodeCursor(DISPUTES_SCOPE, 1, p.cursor)[0]!;
  const limit = pageLimit(p);
  const items: JsonValue[] = [];
  let last = 0;
  let more = false;
  for await (const [, v] of q.iterate(PREFIX.dispute)) {
    const d = DisputeCodec.decode(v);
    if (d.id <= after) continue;
    if (kind !== undefined && d.target_kind !== kind) continue;
    if (targetId !== undefined && d.target_id !== targetId) continue;
    if (status !== undefined && d.status !== status) continue;
    if (items.length === limit) {
      more = true;
      break;
    }
    items.push(disputeView(d));
    last = d.id;
  }
  return { disputes: items, nextCursor: more ? encodeCursor(DISPUTES_SCOPE, [last]) : null };
}

export const disputeQueries: QueryDefinition[] = [
  {
    method: 'dispute_get',
    description: 'a dispute: target, reason, bonds, votes, held rewards and outcome',
    params: [{ name: 'id', kind: 'integer' }],
    cli: 'dispute',
    result: DISPUTE_SCHEMA,
    async handler(q, p) {
      const id = paramId(p.id);
      const d = await readDispute(q.state, id);
      if (!d) throw new TributaryError('dispute/not_found', `dispute ${id} does not exist`);
      return disputeView(d);
    },
  },
  {
    method: 'dispute_list',
    description: 'disputes in id order, by target and status, with a cursor',
    params: [
      {
        name: 'targetKind',
        kind: 'string',
        optional: true,
        description: 'contribution, model_version, attribution_record or agent_action',
      },
      { name: 'targetId', kind: 'integer', optional: true, description: 'with targetKind' },
      { name: 'status', kind: 'string', optional: true, description: 'open, upheld or rejected' },
      { name: 'cursor', kind: 'string', optional: true, description: 'nextCursor of the previous page' },
      { name: 'limit', kind: 'integer', optional: true, description: 'items per page, default 50, at most 500' },
    ],
    cli: 'disputes',
    result: s.object({
      disputes: s.array(DISPUTE_SCHEMA),
      nextCursor: s.nullable(s.cursor('opaque; null once there are no more')),
    }),
    handler: listDisputes,
  },
];
