import { describe, expect, it } from 'vitest';
import { SerializedJson, serializeBounded } from '../../src/rpc/limits.ts';
import { RenderedBlocks } from '../../src/rpc/rendered-blocks.ts';

describe('SerializedJson in bounded serialisation', () => {
  it('is written as its text, inside any structure', () => {
    const out = serializeBounded({ a: [1, new SerializedJson('{"x":"y"}')] }, 1000);
    expect(out.ok && JSON.parse(out.text)).toEqual({ a: [1, { x: 'y' }] });
  });

  it('counts toward the size cap like any other result', () => {
    const out = serializeBounded(new SerializedJson(`"${'z'.repeat(200)}"`), 100);
    expect(out.ok).toBe(false);
  });
});

describe('RenderedBlocks', () => {
  it('renders a (height, view) once and serves the same text after', async () => {
    const cache = new RenderedBlocks();
    let renders = 0;
    const render = async () => {
      renders++;
      return { height: 7, txs: ['0xaa'] };
    };
    const first = await cache.get(7, 'hashes', render);
    const second = await cache.get(7, 'hashes', render);
    expect(renders).toBe(1);
    expect(second).toBe(first);
    expect(JSON.parse(first!.text)).toEqual({ height: 7, txs: ['0xaa'] });
    // Another view of the same height is its own entry.
    await cache.get(7, 'full', render);
    expect(renders).toBe(2);
  });

  it('does not keep a missing block', async () => {
    const cache = new RenderedBlocks();
    let renders = 0;
    const missing = async () => {
      renders++;
      return null;
    };
    expect(await cache.get(9, 'hashes', missing)).toBeNull();
    expect(await cache.get(9, 'hashes', missing)).toBeNull();
    expect(renders).toBe(2);
    expect(cache.size).toBe(0);
  });

  it('stays within its text budget, dropping the least recently used', async () => {
    const cache = new RenderedBlocks(1000);
    const body = (h: number) => async () => ({ h, pad: 'p'.repeat(300) });
    for (let h = 1; h <= 10; h++) await cache.get(h, 'hashes', body(h));
    expect(cache.size).toBeLessThanOrEqual(3);
    let renders = 0;
    await cache.get(10, 'hashes', async () => {
      renders++;
      return {};
    });
    expect(renders).toBe(0); // the newest is kept
    await cache.get(1, 'hashes', async () => {
      renders++;
      return {};
    });
    expect(renders).toBe(1); // the oldest is gone
  });
});
