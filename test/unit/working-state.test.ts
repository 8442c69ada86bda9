import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesKey } from '../../src/crypto/hash.ts';
import { WorkingState } from '../../src/state/working-state.ts';

const enc = (s: string) => new TextEncoder().encode(s);

function baseOf(entries: Record<string, string>) {
  const m = new Map(Object.entries(entries).map(([k, v]) => [bytesKey(enc(k)), enc(v)]));
  return { get: async (k: Uint8Array) => m.get(bytesKey(k)) };
}

describe('WorkingState', () => {
  it('reads through to the base and shadows it with writes and deletes', async () => {
    const ws = new WorkingState(baseOf({ a: '1', b: '2' }));
    ws.set(enc('a'), enc('9'));
    ws.delete(enc('b'));
    expect(await ws.get(enc('a'))).toEqual(enc('9'));
    expect(await ws.get(enc('b'))).toBeUndefined();
    expect(await ws.get(enc('c'))).toBeUndefined();
  });

  it('revert undoes exactly the writes since the checkpoint, nested', async () => {
    const ws = new WorkingState(baseOf({ a: '1' }));
    ws.set(enc('x'), enc('0'));
    ws.checkpoint();
    ws.set(enc('a'), enc('2'));
    ws.checkpoint();
    ws.set(enc('a'), enc('3'));
    ws.delete(enc('x'));
    ws.revert();
    expect(await ws.get(enc('a'))).toEqual(enc('2'));
    expect(await ws.get(enc('x'))).toEqual(enc('0'));
    ws.revert();
    expect(await ws.get(enc('a'))).toEqual(enc('1'));
    expect(ws.sortedWrites().map((w) => new TextDecoder().decode(w.key))).toEqual(['x']);
  });

  it('yields writes in bytewise key order whatever the write order', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 6 }), { maxLength: 30 }), (keys) => {
        const ws = new WorkingState({ get: async () => undefined });
        for (const k of keys) ws.set(k, k);
        const out = ws.sortedWrites().map((w) => Buffer.from(w.key));
        const sorted = [...out].sort(Buffer.compare);
        expect(out).toEqual(sorted);
      }),
    );
  });
});
