import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  END_SLOT,
  blockStart,
  decodeCursor,
  decodeEventCursor,
  encodeCursor,
  encodeEventCursor,
  indexRangeAfter,
  isAfter,
  positionAfter,
} from '../../src/rpc/cursor.ts';
import { isTributaryError } from '../../src/errors.ts';

const refusal = (f: () => unknown): { code: string; data: unknown } | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    if (!isTributaryError(e)) throw e;
    return { code: e.code, data: e.data };
  }
};

describe('the one cursor format', () => {
  it('round-trips any fields of any scope, and only its own scope and arity decode it', () => {
    fc.assert(
      fc.property(fc.array(fc.maxSafeNat(), { minLength: 1, maxLength: 4 }), (fields) => {
        const text = encodeCursor('txs', fields);
        expect(text).toMatch(/^[\w-]+$/);
        expect(decodeCursor('txs', fields.length, text)).toEqual(fields);
        expect(refusal(() => decodeCursor('events', fields.length, text))).toMatchObject({
          code: 'rpc/invalid_cursor',
          data: { param: 'cursor', scope: 'events', reason: 'wrong_scope' },
        });
        expect(refusal(() => decodeCursor('txs', fields.length + 1, text))?.code).toBe('rpc/invalid_cursor');
      }),
    );
  });

  it('refuses old formats, non-strings and altered texts with rpc/invalid_cursor, never a crash', () => {
    const good = encodeEventCursor({ height: 12, slot: 3, eventIndex: 1 });
    const bad: unknown[] = [
      '12.2.1',
      '12.end.0',
      '12.3',
      { height: 12, event: 0 },
      12,
      null,
      '',
      'x'.repeat(1000),
      `${good}=`,
      `${good.slice(0, -1)}*`,
      Buffer.from('events:1.2').toString('base64url'),
      Buffer.from('events:01.2.3').toString('base64url'),
      Buffer.from('events:0.1.1.1').toString('base64url'),
      Buffer.from('events:99999999999999999.1.1').toString('base64url'),
      Buffer.from('events:5.0.3').toString('base64url'),
      Buffer.from('Events:5.1.3').toString('base64url'),
    ];
    for (const text of bad)
      expect(refusal(() => decodeEventCursor(text))?.code, String(text)).toBe('rpc/invalid_cursor');
    expect(decodeEventCursor(good)).toEqual({ height: 12, slot: 3, eventIndex: 1 });
    fc.assert(
      fc.property(fc.string(), (text) => {
        const r = refusal(() => decodeEventCursor(text));
        expect(r === undefined || r.code === 'rpc/invalid_cursor').toBe(true);
      }),
    );
  });

  it('orders event positions as the chain does: transactions in order, end-of-block events last', () => {
    const at = blockStart(5);
    expect(isAfter({ height: 5, txIndex: 0, eventIndex: 0 }, at)).toBe(true);
    expect(isAfter({ height: 4, txIndex: null, eventIndex: 9 }, at)).toBe(false);
    const mid = positionAfter({ height: 5, txIndex: 2, eventIndex: 1 });
    expect(isAfter({ height: 5, txIndex: 2, eventIndex: 1 }, mid)).toBe(false);
    expect(isAfter({ height: 5, txIndex: 2, eventIndex: 2 }, mid)).toBe(true);
    expect(isAfter({ height: 5, txIndex: 1, eventIndex: 7 }, mid)).toBe(false);
    expect(isAfter({ height: 5, txIndex: null, eventIndex: 0 }, mid)).toBe(true);
    expect(positionAfter({ height: 5, txIndex: null, eventIndex: 0 }).slot).toBe(END_SLOT);
    // As an index range: a block's start is a lower bound only; elsewhere "strictly after this event".
    expect(indexRangeAfter(at)).toEqual({ fromHeight: 5, after: undefined });
    expect(indexRangeAfter(mid)).toEqual({ fromHeight: 5, after: { height: 5, txIndex: 2, eventIndex: 1 } });
    expect(indexRangeAfter(positionAfter({ height: 5, txIndex: null, eventIndex: 3 })).after).toEqual({
      height: 5,
      txIndex: null,
      eventIndex: 3,
    });
  });
});
