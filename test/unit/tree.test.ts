import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isTributaryError } from '../../src/errors.ts';
import { EMPTY_ROOT, StateTree, verifyProof } from '../../src/state/tree/index.ts';
import type { PreparedVersion, TreeWrite } from '../../src/state/tree/index.ts';
import { LevelKvStore, MemoryKvStore } from '../../src/storage/db.ts';
import type { KvStore } from '../../src/storage/db.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof p === 'function' ? p() : p);
    return undefined;
  } catch (e) {
    return isTributaryError(e) ? e.code : String(e);
  }
}

const dirs: string[] = [];
async function writePrepared(db: KvStore, prepared: PreparedVersion): Promise<void> {
  const batch = db.writeBatch();
  prepared.writeTo(batch);
  await batch.write();
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tree-unit-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('StateTree API', () => {
  it('starts empty at version -1 and genesis is version 0', async () => {
    const tree = await StateTree.open(new MemoryKvStore());
    expect(tree.latestVersion).toBe(-1);
    expect(tree.earliestVersion()).toBe(-1);
    expect(tree.latestRoot).toEqual(EMPTY_ROOT);
    expect(await tree.get(enc('a'))).toBeUndefined();
    expect(await codeOf(tree.get(enc('a'), 0))).toBe('state/unknown_version');
    expect(await codeOf(tree.rootAt(0))).toBe('state/unknown_version');
    const genesis = await tree.commit([{ key: enc('a'), value: enc('1') }]);
    expect(genesis.version).toBe(0);
    expect(tree.latestVersion).toBe(0);
    expect(tree.earliestVersion()).toBe(0);
    expect(dec(await tree.get(enc('a'), 0))).toBe('1');
  });

  it('rejects versions that are not committed', async () => {
    const tree = await StateTree.open(new MemoryKvStore());
    await tree.commit([{ key: enc('a'), value: enc('1') }]);
    await tree.commit([{ key: enc('a'), value: enc('2') }]);
    for (const v of [2, -1, 0.5, Number.NaN]) {
      expect(await codeOf(tree.get(enc('a'), v))).toBe('state/unknown_version');
      expect(await codeOf(tree.prove(enc('a'), v))).toBe('state/unknown_version');
    }
    expect(dec(await tree.get(enc('a'), 0))).toBe('1');
    expect(dec(await tree.get(enc('a'), 1))).toBe('2');
  });

  it('prepare writes nothing; an abandoned prepare leaves no trace', async () => {
    const db = new MemoryKvStore();
    const tree = await StateTree.open(db);
    await tree.commit([{ key: enc('a'), value: enc('1') }]);
    const before = db.size;
    const abandoned = await tree.prepare([{ key: enc('b'), value: enc('2') }]);
    expect(abandoned.version).toBe(1);
    expect(db.size).toBe(before);
    expect(tree.latestVersion).toBe(0);

    // The next prepare starts again from version 0's state.
    const real = await tree.prepare([{ key: enc('c'), value: enc('3') }]);
    expect(real.version).toBe(1);
    expect(() => tree.markCommitted(abandoned)).toThrow(expect.objectContaining({ code: 'state/not_prepared' }));
    await writePrepared(db, real);
    tree.markCommitted(real);
    expect(await tree.get(enc('b'))).toBeUndefined();
    expect(dec(await tree.get(enc('c')))).toBe('3');
    expect(() => tree.markCommitted(real)).toThrow(expect.objectContaining({ code: 'state/not_prepared' }));

    const fresh = await StateTree.open(new MemoryKvStore());
    await fresh.commit([
      { key: enc('a'), value: enc('1') },
      { key: enc('c'), value: enc('3') },
    ]);
    expect(tree.latestRoot).toEqual(fresh.latestRoot);
  });

  it('refuses to build on a version whose batch was written without markCommitted', async () => {
    const db = new MemoryKvStore();
    const tree = await StateTree.open(db);
    await tree.commit([{ key: enc('a'), value: enc('1') }]);
    const p = await tree.prepare([{ key: enc('a'), value: enc('2') }]);
    await writePrepared(db, p);
    expect(await codeOf(tree.prepare([]))).toBe('state/version_exists');
    const reopened = await StateTree.open(db);
    expect(reopened.latestVersion).toBe(1);
    expect(reopened.latestRoot).toEqual(p.root);
  });

  it('last write wins for duplicate keys; deleting absent keys and rewriting equal values change nothing', async () => {
    const db = new MemoryKvStore();
    const tree = await StateTree.open(db);
    await tree.commit([
      { key: enc('a'), value: enc('1') },
      { key: enc('a'), value: null },
      { key: enc('a'), value: enc('3') },
      { key: enc('b'), value: enc('x') },
      { key: enc('b'), value: null },
    ]);
    expect(dec(await tree.get(enc('a')))).toBe('3');
    expect(await tree.get(enc('b'))).toBeUndefined();
    const root = tree.latestRoot;
    const size = db.size;
    const p = await tree.commit([
      { key: enc('a'), value: enc('3') },
      { key: enc('zzz'), value: null },
    ]);
    expect(p.root).toEqual(root);
    // Only the new version's root record was written.
    expect(p.opCount).toBe(1);
    expect(db.size).toBe(size + 1);
    expect(await tree.rootAt(0)).toEqual(await tree.rootAt(1));
  });

  it('empty values are values, distinct from deletion', async () => {
    const tree = await StateTree.open(new MemoryKvStore());
    await tree.commit([{ key: enc('a'), value: new Uint8Array(0) }]);
    expect(await tree.get(enc('a'))).toEqual(new Uint8Array(0));
    const { value, proof } = await tree.prove(enc('a'));
    expect(value).toEqual(new Uint8Array(0));
    expect(verifyProof(tree.latestRoot, enc('a'), new Uint8Array(0), proof)).toBe(true);
    expect(verifyProof(tree.latestRoot, enc('a'), undefined, proof)).toBe(false);
  });

  it('iterates the latest key/values by prefix in bytewise order', async () => {
    const tree = await StateTree.open(new MemoryKvStore());
    const keys = ['bal/alice', 'bal/bob', 'bal/', 'bam', 'ba', 'stake/x', 'bal/carol'];
    await tree.commit(keys.map((k) => ({ key: enc(k), value: enc(`v:${k}`) })));
    await tree.commit([
      { key: enc('bal/bob'), value: null },
      { key: enc('bal/alice'), value: enc('updated') },
    ]);
    const got: [string | undefined, string | undefined][] = [];
    for await (const [k, v] of tree.iterate(enc('bal/'))) got.push([dec(k), dec(v)]);
    expect(got).toEqual([
      ['bal/', 'v:bal/'],
      ['bal/alice', 'updated'],
      ['bal/carol', 'v:bal/carol'],
    ]);
    const all: string[] = [];
    for await (const [k] of tree.iterate(new Uint8Array(0))) all.push(dec(k)!);
    expect(all).toEqual(['ba', 'bal/', 'bal/alice', 'bal/carol', 'bam', 'stake/x']);

    // Prefixes ending in 0xff bytes.
    const t2 = await StateTree.open(new MemoryKvStore());
    const raw = [
      Uint8Array.of(0xff),
      Uint8Array.of(0xff, 0xff),
      Uint8Array.of(0xff, 0xff, 0),
      Uint8Array.of(0xfe, 0xff),
    ];
    await t2.commit(raw.map((key) => ({ key, value: Uint8Array.of(1) })));
    const ff: number[][] = [];
    for await (const [k] of t2.iterate(Uint8Array.of(0xff))) ff.push([...k]);
    expect(ff).toEqual([[0xff], [0xff, 0xff], [0xff, 0xff, 0]]);
  });

  it('one iteration sees one version even when commits land while it runs (LevelDB)', async () => {
    const db = await LevelKvStore.open(tempDir());
    const tree = await StateTree.open(db);
    await tree.commit(['k/1', 'k/2', 'k/3', 'k/4'].map((k) => ({ key: enc(k), value: enc(`v1:${k}`) })));
    const got: [string | undefined, string | undefined][] = [];
    for await (const [k, v] of tree.iterate(enc('k/'))) {
      got.push([dec(k), dec(v)]);
      if (got.length === 1) {
        await tree.commit([
          { key: enc('k/2'), value: null },
          { key: enc('k/3'), value: enc('v2') },
          { key: enc('k/25'), value: enc('v2') },
        ]);
      }
    }
    expect(got).toEqual(['k/1', 'k/2', 'k/3', 'k/4'].map((k) => [k, `v1:${k}`]));
    const after: string[] = [];
    for await (const [k, v] of tree.iterate(enc('k/'))) after.push(`${dec(k)}=${dec(v)}`);
    expect(after).toEqual(['k/1=v1:k/1', 'k/25=v2', 'k/3=v2', 'k/4=v1:k/4']);
    await db.close();
  });

  for (const keepVersions of [1, 2]) {
    it(`reads stay whole between a batch landing and markCommitted (keepVersions ${keepVersions})`, async () => {
      const db = new MemoryKvStore();
      const tree = await StateTree.open(db, { keepVersions });
      for (let v = 0; v < 4; v++)
        await tree.commit([
          { key: enc('a'), value: enc(`a${v}`) },
          { key: enc(`new${v}`), value: enc('x') },
        ]);
      const earliest = tree.earliestVersion();
      const next = await tree.prepare([
        { key: enc('a'), value: enc('a4') },
        { key: enc('new0'), value: null },
      ]);
      await writePrepared(db, next); // on disk, prunes included; the tree still serves version 3
      expect(dec(await tree.get(enc('a')))).toBe('a3');
      expect(dec(await tree.get(enc('a'), earliest))).toBe(`a${earliest}`);
      const { value, proof } = await tree.prove(enc('a'), earliest);
      expect(verifyProof(await tree.rootAt(earliest), enc('a'), value, proof)).toBe(true);
      tree.markCommitted(next);
      expect(dec(await tree.get(enc('a')))).toBe('a4');
      expect(await tree.get(enc('new0'))).toBeUndefined();
    });
  }

  it('refuses a database in the retired tree layout', async () => {
    const db = new MemoryKvStore();
    await db.batch([{ type: 'put', key: Uint8Array.of(0x13, 0, 0, 0, 0, 0, 0, 0, 0), value: new Uint8Array(33) }]);
    expect(await codeOf(StateTree.open(db))).toBe('state/old_layout');
  });

  it('reopens a LevelDB tree at its last version with roots, reads and proofs intact', async () => {
    const dir = tempDir();
    let db = await LevelKvStore.open(dir);
    let tree = await StateTree.open(db, { keepVersions: 3 });
    const roots: Uint8Array[] = [];
    for (let v = 0; v < 6; v++) {
      const p = await tree.commit([
        { key: enc(`k${v}`), value: enc(`v${v}`) },
        { key: enc('shared'), value: enc(`s${v}`) },
      ]);
      roots.push(p.root);
    }
    await db.close();
    db = await LevelKvStore.open(dir);
    tree = await StateTree.open(db, { keepVersions: 3 });
    expect(tree.latestVersion).toBe(5);
    expect(tree.earliestVersion()).toBe(3);
    expect(tree.latestRoot).toEqual(roots[5]);
    expect(await tree.rootAt(3)).toEqual(roots[3]);
    expect(dec(await tree.get(enc('shared'), 4))).toBe('s4');
    expect(await codeOf(tree.get(enc('shared'), 2))).toBe('state/pruned');
    const { value, proof } = await tree.prove(enc('k1'), 3);
    expect(dec(value)).toBe('v1');
    expect(verifyProof(roots[3]!, enc('k1'), value, proof)).toBe(true);
    await tree.commit([{ key: enc('shared'), value: null }]);
    expect(tree.earliestVersion()).toBe(4);
    expect(await tree.get(enc('shared'))).toBeUndefined();
    expect(dec(await tree.get(enc('shared'), 5))).toBe('s5');
    await db.close();
  });

  it('a small node cache (evicting, reloading from the DB) gives the same roots, reads and proofs', async () => {
    const key = (n: number) => enc(`cache/${n}`);
    const trees = await Promise.all(
      [0, 1, 7, 100].map((cacheSize) => StateTree.open(new MemoryKvStore(), { cacheSize })),
    );
    const reference = await StateTree.open(new MemoryKvStore());
    trees.push(reference);
    for (let v = 0; v < 8; v++) {
      const writes: TreeWrite[] = [];
      for (let i = 0; i < 600; i++) {
        const n = (v * 389 + i * 17) % 3000;
        writes.push({ key: key(n), value: i % 9 === 0 ? null : enc(`${v}:${i}`) });
      }
      const roots = await Promise.all(trees.map(async (t) => (await t.commit(writes)).root));
      for (const r of roots) expect(r).toEqual(roots[roots.length - 1]);
    }
    for (const t of trees) {
      for (const n of [0, 17, 389, 2999]) {
        expect(await t.get(key(n))).toEqual(await reference.get(key(n)));
        expect(await t.get(key(n), 5)).toEqual(await reference.get(key(n), 5));
        const { value, proof } = await t.prove(key(n));
        expect(proof).toEqual((await reference.prove(key(n))).proof);
        expect(verifyProof(t.latestRoot, key(n), value, proof)).toBe(true);
      }
    }
  });

  it('validates options', async () => {
    expect(await codeOf(StateTree.open(new MemoryKvStore(), { keepVersions: -1 }))).toBe('state/bad_option');
    expect(await codeOf(StateTree.open(new MemoryKvStore(), { cacheSize: 1.5 }))).toBe('state/bad_option');
  });
});
