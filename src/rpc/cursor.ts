import { TributaryError } from '../errors.ts';

/*
 * The one page cursor of the API. Every paged method (chain_getEvents, tx_listBySender,
 * inference_listPayments, the event subscriptions and whatever list a module adds) hands out and
 * takes the same kind of string: base64url of "<scope>:<n>.<n>...", a scope naming what the
 * position counts (events, transactions, a module's records) and non-negative integers. Clients
 * treat it as opaque: they get it from an answer and give it back unchanged. The scope makes a
 * cursor of one list refused by another (`rpc/invalid_cursor`, `data.reason` "wrong_scope")
 * instead of silently meaning something else.
 *
 * This file imports only the error type, so that modules' queries (under src/state and
 * src/attribution, which import nothing else of rpc) page with it too.
 */

/** Longest cursor text accepted; real ones are far shorter. */
const MAX_CURSOR_CHARS = 256;
const FIELD = /^(0|[1-9]\d{0,15})$/;
const SCOPE = /^[a-z][a-z0-9_]{0,31}$/;

export function encodeCursor(scope: string, fields: readonly number[]): string {
  if (!SCOPE.test(scope)) throw new Error(`cursor scope "${scope}" is not a lowercase name`);
  for (const n of fields) {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`cursor field ${n} is not a non-negative integer`);
  }
  return Buffer.from(`${scope}:${fields.join('.')}`, 'utf8').toString('base64url');
}

function invalid(param: string, scope: string, reason: string, message: string): TributaryError {
  return new TributaryError('rpc/invalid_cursor', `${param}: ${message}; pass back a cursor this list returned`, {
    param,
    scope,
    reason,
  });
}

/** The fields of a cursor of `scope` with `arity` fields; `rpc/invalid_cursor` for anything else. */
export function decodeCursor(scope: string, arity: number, text: unknown, param = 'cursor'): number[] {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_CURSOR_CHARS || !/^[\w-]+$/.test(text)) {
    throw invalid(param, scope, 'malformed', 'not a cursor');
  }
  const plain = Buffer.from(text, 'base64url').toString('utf8');
  // One text per cursor: a re-encoding that differs (padding bits, other bytes) is refused.
  if (Buffer.from(plain, 'utf8').toString('base64url') !== text)
    throw invalid(param, scope, 'malformed', 'not a cursor');
  const colon = plain.indexOf(':');
  const got = colon < 0 ? '' : plain.slice(0, colon);
  if (!SCOPE.test(got)) throw invalid(param, scope, 'malformed', 'not a cursor');
  if (got !== scope) throw invalid(param, scope, 'wrong_scope', `a cursor of another list ("${got}")`);
  const parts = plain.slice(colon + 1).split('.');
  if (parts.length !== arity || !parts.every((p) => FIELD.test(p))) {
    throw invalid(param, scope, 'malformed', 'not a cursor');
  }
  const fields = parts.map(Number);
  if (!fields.every((n) => Number.isSafeInteger(n))) throw invalid(param, scope, 'malformed', 'not a cursor');
  return fields;
}

// ---------------------------------------------------------------------------------------------
// Positions in the chain's event sequence: the scope of chain_getEvents, the `events` and
// `newHeads` subscriptions and every module list of events (payments).

/**
 * "Everything of block `height` up to (slot, eventIndex) is behind us": slot 0 is the block's
 * start (nothing of it yet), 1 + i transaction i, END_SLOT the end-of-block events. After a
 * block's last event the position is the next block's start, so one position has one cursor.
 */
export interface EventStreamPosition {
  height: number;
  slot: number;
  eventIndex: number;
}

export const END_SLOT = 0xffff_ffff;
export const EVENTS_SCOPE = 'events';

/** Where an event sits, as the index and the event stream name it (txIndex null: end of block). */
export interface EventPlace {
  height: number;
  txIndex: number | null;
  eventIndex: number;
}

export function slotOf(txIndex: number | null): number {
  return txIndex === null ? END_SLOT : txIndex + 1;
}

export function blockStart(height: number): EventStreamPosition {
  return { height, slot: 0, eventIndex: 0 };
}

/** The position just after an event. */
export function positionAfter(e: EventPlace): EventStreamPosition {
  return { height: e.height, slot: slotOf(e.txIndex), eventIndex: e.eventIndex };
}

export function encodeEventCursor(p: EventStreamPosition): string {
  return encodeCursor(EVENTS_SCOPE, [p.height, p.slot, p.eventIndex]);
}

export function decodeEventCursor(text: unknown, param = 'cursor'): EventStreamPosition {
  const [height, slot, eventIndex] = decodeCursor(EVENTS_SCOPE, 3, text, param) as [number, number, number];
  if (slot > END_SLOT || (slot === 0 && eventIndex !== 0)) {
    throw invalid(param, EVENTS_SCOPE, 'malformed', 'not a cursor');
  }
  return { height, slot, eventIndex };
}

/** Whether the event at `e` lies after `p` (is still owed to a reader standing at `p`). */
export function isAfter(e: EventPlace, p: EventStreamPosition): boolean {
  if (e.height !== p.height) return e.height > p.height;
  const slot = slotOf(e.txIndex);
  return slot !== p.slot ? slot > p.slot : e.eventIndex > p.eventIndex;
}

/**
 * A position as an index range: a lower height bound, and the event to resume strictly after
 * (none at a block's start).
 */
export function indexRangeAfter(p: EventStreamPosition): { fromHeight: number; after: EventPlace | undefined } {
  if (p.slot === 0) return { fromHeight: p.height, after: undefined };
  return {
    fromHeight: p.height,
    after: { height: p.height, txIndex: p.slot === END_SLOT ? null : p.slot - 1, eventIndex: p.eventIndex },
  };
}
