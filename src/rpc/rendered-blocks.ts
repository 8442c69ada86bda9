import { LRUCache } from 'lru-cache';
import { SerializedJson } from './limits.ts';

/** Default budget of rendered block answers kept in memory, in UTF-16 units of their text. */
export const RENDERED_BLOCKS_MAX_UNITS = 64 * 1024 * 1024;

/**
 * The JSON text of `chain_getBlock` answers, by height and view. A committed block never changes
 * (BFT finality: nothing committed is reverted), so its answer can be served again as it was
 * rendered; rendering one reads and hashes every transaction of the block (about 10 µs each),
 * which made a block of a few hundred transactions cost milliseconds per request. Indexers and
 * explorers read the same recent blocks over and over, as geth's block and receipt caches assume.
 * Bounded by text size, not count: one block's answer can be megabytes.
 */
export class RenderedBlocks {
  private readonly cache: LRUCache<string, SerializedJson>;

  constructor(maxUnits = RENDERED_BLOCKS_MAX_UNITS) {
    this.cache = new LRUCache<string, SerializedJson>({
      maxSize: Math.max(1, maxUnits),
      sizeCalculation: (value) => Math.max(1, value.text.length),
      // An answer larger than the whole budget is served but not kept.
      maxEntrySize: Math.max(1, maxUnits),
    });
  }

  /** The answer for (`height`, `view`), rendered by `render` the first time. */
  async get(height: number, view: string, render: () => Promise<unknown>): Promise<SerializedJson | null> {
    const key = `${height}/${view}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const value = await render();
    if (value === null || value === undefined) return null;
    const rendered = new SerializedJson(JSON.stringify(value));
    this.cache.set(key, rendered);
    return rendered;
  }

  get size(): number {
    return this.cache.size;
  }
}
