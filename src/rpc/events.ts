import { hex0x as hx, type JsonValue } from '../codec/json.ts';
import type { Chain } from '../consensus/chain.ts';
import { eventHasValue } from '../index/chain-index.ts';
import { END_BLOCK_POSITION } from '../index/committed-block.ts';
import { TributaryError } from '../errors.ts';
import type { ChainEvent, EventPosition } from '../state/module.ts';
import {
  decodeCursor,
  decodeEventCursor,
  encodeCursor,
  encodeEventCursor,
  indexRangeAfter,
  positionAfter,
} from './cursor.ts';
import { rpcError } from './errors.ts';
import { schema } from './openrpc.ts';
import { EVENT_FILTER_SCHEMA, EVENTS_PAGE_SCHEMA, TX_LIST_SCHEMA } from './schemas.ts';
import type { RpcMethod } from './methods.ts';
import { parseCallParams } from './params.ts';
import { eventView } from './views.ts';

/*
 * `chain_getEvents`: events by height range or block hash, by type (OR across types), by indexed
 * attributes (AND across attributes, OR within one), paged with a cursor.
 *
 * The index answers one (type, one attribute value) lookup at a time, in chain order. A filter
 * is served by one lookup per type and value of its first attribute, merged in chain order
 * (an event holding two wanted values of a list field comes out of two lookups: the merge drops
 * the second), the other attributes checked on each event. Work per call is bounded twice: a
 * page holds at most `limit` events, and at most `MAX_EXAMINED` events are looked at; a page cut
 * short by either carries a cursor that resumes right after the last event examined.
 */

/** Heights one call may span (inclusive range). */
export const MAX_EVENT_RANGE = 10_000;
export const MAX_EVENT_PAGE = 1_000;
export const DEFAULT_EVENT_PAGE = 100;
/** Events looked at per call, matching or not (the AND across attributes is checked per event). */
export const MAX_EXAMINED = 10_000;
const MAX_TYPES = 16;
const MAX_ATTRIBUTES = 8;
const MAX_VALUES = 64;

export interface EventQuery {
  fromHeight: number;
  toHeight: number;
  types: string[];
  /** Field -> wanted values (one of them); every field must match. */
  attributes: [string, string[]][];
  limit: number;
  after: EventPosition | undefined;
}

/** A page's cursor: the position right after the last event the page examined (src/rpc/cursor.ts). */
export function formatCursor(p: EventPosition): string {
  return encodeEventCursor(positionAfter(p));
}

function place(p: EventPosition): [number, number, number] {
  return [p.height, p.txIndex ?? END_BLOCK_POSITION, p.eventIndex];
}

function compare(a: EventPosition, b: EventPosition): number {
  const pa = place(a);
  const pb = place(b);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

function isStringArray(v: unknown, max: number): v is string[] {
  return Array.isArray(v) && v.length > 0 && v.length <= max && v.every((s) => typeof s === 'string');
}

/** Parses and bounds a filter; heights resolved against the chain (a block hash is one height). */
export async function parseEventQuery(chain: Chain, raw: unknown): Promise<EventQuery> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw rpcError('rpc/invalid_params', 'filter: expected an object {types, fromHeight?, toHeight?, ...}');
  }
  const f = raw as Record<string, unknown>;
  const known = new Set(['types', 'attributes', 'fromHeight', 'toHeight', 'blockHash', 'limit', 'cursor']);
  for (const k of Object.keys(f)) if (!known.has(k)) throw rpcError('rpc/invalid_params', `filter: unknown field ${k}`);
  const types = typeof f.types === 'string' ? [f.types] : f.types;
  if (!isStringArray(types, MAX_TYPES)) {
    throw rpcError('rpc/invalid_params', `filter.types: one to ${MAX_TYPES} event type names`);
  }
  const attributes: [string, string[]][] = [];
  if (f.attributes !== undefined) {
    if (typeof f.attributes !== 'object' || f.attributes === null || Array.isArray(f.attributes)) {
      throw rpcError('rpc/invalid_params', 'filter.attributes: expected {field: value or [values]}');
    }
    const entries = Object.entries(f.attributes as Record<string, unknown>);
    if (entries.length > MAX_ATTRIBUTES) {
      throw rpcError('rpc/invalid_params', `filter.attributes: at most ${MAX_ATTRIBUTES} fields`);
    }
    for (const [field, v] of entries) {
      const values = typeof v === 'string' ? [v] : v;
      if (!isStringArray(values, MAX_VALUES)) {
        throw rpcError('rpc/invalid_params', `filter.attributes.${field}: a string or one to ${MAX_VALUES} strings`);
      }
      for (const type of types) {
        if (!chain.index.indexedField(type, field)) {
          throw new TributaryError('index/not_indexed', `${type}.${field} is not an indexed event field`, {
            type,
            field,
          });
        }
      }
      attributes.push([field, [...new Set(values)]]);
    }
  }
  const head = chain.latestHeight;
  const p = parseCallParams(
    [
      { name: 'fromHeight', kind: 'integer', optional: true },
      { name: 'toHeight', kind: 'integer', optional: true },
      { name: 'limit', kind: 'integer', optional: true },
      { name: 'cursor', kind: 'json', optional: true },
      { name: 'blockHash', kind: 'hash', optional: true },
    ],
    [f.fromHeight, f.toHeight, f.limit, f.cursor, f.blockHash].map((v) => (v === null ? undefined : v)),
  );
  let fromHeight = p.fromHeight as number | undefined;
  let toHeight = p.toHeight as number | undefined;
  if (p.blockHash !== undefined) {
    if (fromHeight !== undefined || toHeight !== undefined) {
      throw rpcError('rpc/invalid_params', 'filter: blockHash excludes fromHeight and toHeight');
    }
    const h = await chain.blocks.getHeightByHash(p.blockHash as Uint8Array);
    if (h === undefined) throw rpcError('rpc/not_found', `no block with hash ${hx(p.blockHash as Uint8Array)}`);
    fromHeight = h;
    toHeight = h;
  }
  // As eth_getLogs: an open end is the head; no start at all means the head alone.
  toHeight ??= head;
  fromHeight ??= Math.min(toHeight, head);
  if (fromHeight > toHeight)
    throw rpcError('rpc/invalid_params', `fromHeight ${fromHeight} is above toHeight ${toHeight}`);
  if (toHeight - fromHeight + 1 > MAX_EVENT_RANGE) {
    throw rpcError('rpc/range_too_large', `a query spans at most ${MAX_EVENT_RANGE} heights`, {
      limit: 'heights',
      max: MAX_EVENT_RANGE,
      suggestedToHeight: fromHeight + MAX_EVENT_RANGE - 1,
    });
  }
  const limit = (p.limit as number | undefined) ?? DEFAULT_EVENT_PAGE;
  if (limit < 1 || limit > MAX_EVENT_PAGE) {
    throw rpcError('rpc/range_too_large', `limit: 1 to ${MAX_EVENT_PAGE} events a page`, {
      limit: 'events',
      max: MAX_EVENT_PAGE,
    });
  }
  let after: EventPosition | undefined;
  if (p.cursor !== undefined) {
    // The filter is sent again with the cursor; the cursor moves its start on.
    const resume = indexRangeAfter(decodeEventCursor(p.cursor));
    fromHeight = Math.max(fromHeight, resume.fromHeight);
    after = resume.after;
  }
  return { fromHeight, toHeight: Math.min(toHeight, head), types, attributes, limit, after };
}

export interface EventPage {
  events: ChainEvent[];
  /** Resume point when the range holds more than this page; undefined once the range is done. */
  cursor: EventPosition | undefined;
}

/** One page of a query, in chain order. */
export async function queryEvents(chain: Chain, q: EventQuery): Promise<EventPage> {
  if (q.fromHeight > q.toHeight) return { events: [], cursor: undefined };
  const [drive, ...rest] = q.attributes;
  const lookups: AsyncIterator<ChainEvent>[] = [];
  for (const type of q.types) {
    const range = { type, fromHeight: q.fromHeight, toHeight: q.toHeight, after: q.after };
    if (!drive) lookups.push(chain.index.events(range)[Symbol.asyncIterator]());
    else
      for (const value of drive[1])
        lookups.push(chain.index.events({ ...range, attribute: { key: drive[0], value } })[Symbol.asyncIterator]());
  }
  const heads: (ChainEvent | undefined)[] = await Promise.all(lookups.map(async (it) => (await it.next()).value));
  const matches = (e: ChainEvent) =>
    rest.every(([field, values]) => {
      const list = chain.index.indexedField(e.event.type, field)!.list;
      return values.some((v) => eventHasValue(e.event, field, v, list));
    });
  const events: ChainEvent[] = [];
  let examined = 0;
  let last: ChainEvent | undefined;
  try {
    for (;;) {
      let next = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (h && (next < 0 || compare(h, heads[next]!) < 0)) next = i;
      }
      if (next < 0) return { events, cursor: undefined };
      if (events.length >= q.limit || examined >= MAX_EXAMINED) return { events, cursor: last };
      const event = heads[next]!;
      // Advance every lookup standing on this same event (two values of one list field).
      for (let i = 0; i < heads.length; i++) {
        if (heads[i] && compare(heads[i]!, event) === 0) heads[i] = (await lookups[i]!.next()).value;
      }
      examined++;
      last = event;
      if (matches(event)) events.push(event);
    }
  } finally {
    await Promise.all(lookups.map((it) => it.return?.()));
  }
}

export function chainEventView(e: ChainEvent): JsonValue {
  return {
    height: e.height,
    blockHash: hx(e.blockHash),
    blockTimeMs: e.blockTimeMs,
    txHash: e.txHash ? hx(e.txHash) : null,
    txIndex: e.txIndex,
    eventIndex: e.eventIndex,
    ...eventView(e.event),
  };
}

const MAX_TX_PAGE = 1_000;
const DEFAULT_TX_PAGE = 100;

/** `tx_listBySender` cursor: (height, index) of the last transaction returned, in the `txs` scope. */
const TXS_SCOPE = 'txs';
function parseTxCursor(text: unknown): { height: number; index: number } {
  const [height, index] = decodeCursor(TXS_SCOPE, 2, text) as [number, number];
  return { height, index };
}

export const eventMethods: RpcMethod[] = [
  {
    name: 'tx_listBySender',
    description:
      `a sender's committed transactions in chain order: address, fromHeight?, limit? (1..${MAX_TX_PAGE}, default ` +
      `${DEFAULT_TX_PAGE}), cursor? (opaque, from the previous page); returns {txs: [{hash, height, index, type, status}], cursor, head}, cursor null ` +
      'once there are no more (as of head)',
    params: [
      { name: 'address', kind: 'address' },
      { name: 'fromHeight', kind: 'integer', optional: true },
      { name: 'limit', kind: 'integer', optional: true },
      // Any JSON, so that an old-format or non-string cursor gets rpc/invalid_cursor, not a type error.
      { name: 'cursor', kind: 'json', optional: true, schema: schema.cursor('`cursor` of the previous page') },
    ],
    kind: 'query',
    result: TX_LIST_SCHEMA,
    async handler({ chain }, p) {
      const limit = (p.limit as number | undefined) ?? DEFAULT_TX_PAGE;
      if (limit < 1 || limit > MAX_TX_PAGE) {
        throw rpcError('rpc/range_too_large', `limit: 1 to ${MAX_TX_PAGE} transactions a page`, {
          limit: 'transactions',
          max: MAX_TX_PAGE,
        });
      }
      const head = chain.latestHeight;
      const after = p.cursor === undefined ? undefined : parseTxCursor(p.cursor);
      const txs: JsonValue[] = [];
      let cursor: string | null = null;
      let more = false;
      const range = { fromHeight: p.fromHeight as number | undefined, toHeight: head, after };
      for await (const tx of chain.index.txsBySender(p.address as Uint8Array, range)) {
        // One past the page says whether there is more, without a second call.
        if (txs.length === limit) {
          more = true;
          break;
        }
        txs.push({
          hash: hx(tx.hash),
          height: tx.height,
          index: tx.index,
          type: tx.type,
          status: tx.failed ? 'failed' : 'committed',
        });
        cursor = encodeCursor(TXS_SCOPE, [tx.height, tx.index]);
      }
      return { txs, cursor: more ? cursor : null, head };
    },
  },
  {
    name: 'chain_getEvents',
    description:
      'events matching a filter {types: [..] (any of), attributes?: {field: value or [values]} (every field, any ' +
      'value; indexed fields only), fromHeight?, toHeight? (inclusive; default: the head), or blockHash?, limit? ' +
      `(1..${MAX_EVENT_PAGE}, default ${DEFAULT_EVENT_PAGE}), cursor?}; at most ${MAX_EVENT_RANGE} heights a call. ` +
      'Returns {events, cursor, head, finalized}: cursor (opaque; the same kind the events subscription takes) resumes ' +
      'after the last event examined and is null once the range is done; every committed block is final (BFT), so finalized equals head',
    params: [{ name: 'filter', kind: 'json', schema: EVENT_FILTER_SCHEMA }],
    kind: 'query',
    result: EVENTS_PAGE_SCHEMA,
    async handler({ chain }, p) {
      const query = await parseEventQuery(chain, p.filter);
      const head = chain.latestHeight;
      const page = await queryEvents(chain, query);
      return {
        events: page.events.map(chainEventView),
        cursor: page.cursor ? formatCursor(page.cursor) : null,
        head,
        finalized: head,
      };
    },
  },
];
