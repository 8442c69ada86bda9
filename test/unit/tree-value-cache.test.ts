import { describe, expect, it } from 'vitest';
import { StateTree } from '../../src/state/tree/index.ts';
import { MemoryKvStore, type KvStore } from '../../src/storage/db.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);

/** A store whose point reads wait until the test lets them go, to force the race below. */
class GatedStore extends MemoryKvStore {
  gate: Promise<void> | undefined;
  override async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const gate = this.gate;
    const value = await super.get(key); // the answer is taken now, as LevelDB would from its snapshot
    if (gate) await gate;
    return value;
  }
}

describe('latest-value cache of the state tree', () => {
  it('serves committed writes, deletes and misses correctly across versions', async () => {
    const tree = await StateTree.open(new MemoryKvStore());
    await tree.commit([{ key: enc('a'), value: enc('1') }]);
    expect(dec(await tree.get(enc('a')))).toBe('1');
    expect(await tree.get(enc('b'))).toBeUndefined(); // cached as absent
    await tree.commit([
      { key: enc('b'), value: enc('2') },
      { key: enc('a'), value: null },
    ]);
    expect(dec(await tree.get(enc('b')))).toBe('2');
    expect(await tree.get(enc('a'))).toBeUndefined();
    expect(dec(await tree.get(enc('a'), 0))).toBe('1');
  });

  it('a read that started before a commit cannot put its stale answer in the cache', async () => {
    const store = new GatedStore();
    await (await StateTree.open(store as KvStore)).commit([{ key: enc('k'), value: enc('old') }]);
    const tree = await StateTree.open(store as KvStore); // reopened: nothing cached yet
    let release!: () => void;
    store.gate = new Promise((r) => (release = r));
    const slow = tree.get(enc('k')); // reads "old", then waits at the gate
    store.gate = undefined;
    await tree.commit([{ key: enc('k'), value: enc('new') }]);
    release();
    expect(dec(await slow)).toBe('old');
    expect(dec(await tree.get(enc('k')))).toBe('new');
  });
});
