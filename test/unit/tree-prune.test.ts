import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, describe, expect, it } from 'vitest';
import { isTributaryError } from '../../src/errors.ts';
import { StateTree, verifyProof } from '../../src/state/tree/index.ts';
import type { TreeWrite } from '../../src/state/tree/index.ts';
import { Bucket, bucketEnd } from '../../src/storage/buckets.ts';
import { LevelKvStore } from '../../src/storage/db.ts';
import { versionRecordKind } from '../../src/state/tree/node.ts';
import type { KvStore } from '../../src/storage/db.ts';

const enc = (s: string) => new TextEncoder().encode(s);
type RecordCounts = Record<'node' | 'value' | 'stale' | 'root' | 'keys', number>;

async function countKeys(db: KvStore): Promise<RecordCounts> {
  const out: RecordCounts = { node: 0, value: 0, stale: 0, root: 0, keys: 0 };
  for await (const [key] of db.range({ gte: Uint8Array.of(Bucket.treeVersion), lt: bucketEnd(Bucket.treeVersion) })) {
    out[versionRecordKind(key)!]++;
  }
  for await (const _ of db.range({ gte: Uint8Array.of(Bucket.treeKeys), lt: bucketEnd(Bucket.treeKeys) })) out.keys++;
  return out;
}

function dirSize(dir: string): number {
  let total = 0;
  for (const f of readdirSync(dir)) total += statSync(join(dir, f)).size;
  return total;
}

/** Version v rewrites 300 of 2,000 keys and deletes/re-adds a few, deterministically. */
function writesFor(v: number): TreeWrite[] {
  const writes: TreeWrite[] = [];
  for (let i = 0; i < 300; i++) {
    const k = (v * 300 + i * 7) % 2000;
    writes.push({ key: enc(`acct/${k}`), value: enc(`v${v}-${i}`.repeat(4)) });
  }
  for (let i = 0; i < 20; i++) writes.push({ key: enc(`acct/${(v * 13 + i * 101) % 2000}`), value: null });
  return writes;
}

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return isTributaryError(e) ? e.code : String(e);
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tree-prune-'));
  dirs.push(dir);
  return dir;
}

describe('pruning on LevelDB', () => {
  it('keeps the last N versions, rejects older reads with state/pruned, and really deletes', async () => {
    const keep = 4;
    const archiveDb = await LevelKvStore.open(tempDir());
    const prunedDir = tempDir();
    const prunedDb = await LevelKvStore.open(prunedDir);
    const archive = await StateTree.open(archiveDb);
    const pruned = await StateTree.open(prunedDb, { keepVersions: keep });

    // Genesis: 2,000 keys.
    const genesis: TreeWrite[] = Array.from({ length: 2000 }, (_, k) => ({
      key: enc(`acct/${k}`),
      value: enc('genesis'),
    }));
    await archive.commit(genesis);
    await pruned.commit(genesis);
    const countsAfterGenesis = await countKeys(prunedDb);

    const roots: Uint8Array[] = [archive.latestRoot];
    let countsAtKeep: Awaited<ReturnType<typeof countKeys>> | undefined;
    for (let v = 1; v <= 30; v++) {
      const a = await archive.commit(writesFor(v));
      const p = await pruned.commit(writesFor(v));
      expect(p.root).toEqual(a.root);
      roots.push(p.root);
      if (v === keep) countsAtKeep = await countKeys(prunedDb);
    }
    const latest = 30;
    expect(pruned.earliestVersion()).toBe(latest - keep + 1);
    expect(archive.earliestVersion()).toBe(0);

    // Old versions: pruned in one tree, still there in the archive.
    for (const v of [0, 1, latest - keep]) {
      expect(await code(pruned.get(enc('acct/5'), v))).toBe('state/pruned');
      expect(await code(pruned.rootAt(v))).toBe('state/pruned');
      expect(await code(pruned.prove(enc('acct/5'), v))).toBe('state/pruned');
      expect(await archive.rootAt(v)).toEqual(roots[v]);
    }
    // Retained versions read exactly like the archive.
    for (let v = latest - keep + 1; v <= latest; v++) {
      expect(await pruned.rootAt(v)).toEqual(roots[v]);
      for (let k = 0; k < 2000; k += 37) {
        const key = enc(`acct/${k}`);
        expect(await pruned.get(key, v)).toEqual(await archive.get(key, v));
        const { value, proof } = await pruned.prove(key, v);
        expect(verifyProof(roots[v]!, key, value, proof)).toBe(true);
      }
    }

    const a = await countKeys(archiveDb);
    const p = await countKeys(prunedDb);
    expect(p.root).toBe(keep + 1); // deletes lag one version (see prepare)
    expect(a.root).toBe(latest + 1);
    expect(p.keys).toBe(a.keys);
    expect(p.node).toBeLessThan(a.node / 3);
    expect(p.value).toBeLessThan(a.value / 3);
    // A pruned tree stays bounded: after 30 versions it holds about what it held at version N.
    expect(p.node).toBeLessThan(countsAtKeep!.node * 1.25);
    expect(p.value).toBeLessThan(countsAtKeep!.value * 1.25);
    expect(p.stale).toBeLessThanOrEqual(keep);
    expect(countsAfterGenesis.node).toBeGreaterThan(0);
    await archiveDb.close();
    await prunedDb.close();
  }, 60_000);

  it('switching an archive database to keepVersions deletes the backlog (counted and on disk)', async () => {
    const dir = tempDir();
    let db = await LevelKvStore.open(dir);
    let tree = await StateTree.open(db);
    await tree.commit(Array.from({ length: 2000 }, (_, k) => ({ key: enc(`acct/${k}`), value: enc('genesis') })));
    for (let v = 1; v <= 40; v++) await tree.commit(writesFor(v));
    const before = await countKeys(db);
    const rootAt40 = tree.latestRoot;
    await db.close();
    const bytesBefore = dirSize(dir);

    db = await LevelKvStore.open(dir);
    tree = await StateTree.open(db, { keepVersions: 2 });
    expect(tree.earliestVersion()).toBe(0);
    expect(tree.latestRoot).toEqual(rootAt40);
    await tree.commit(writesFor(41));
    expect(tree.earliestVersion()).toBe(40);
    const after = await countKeys(db);
    expect(after.root).toBe(3);
    expect(after.node).toBeLessThan(before.node / 4);
    expect(after.value).toBeLessThan(before.value / 4);
    expect(await code(tree.get(enc('acct/1'), 39))).toBe('state/pruned');
    expect(await tree.rootAt(40)).toEqual(rootAt40);
    await db.close();

    // LevelDB frees space in compaction; force one (test-only, straight through classic-level) so
    // the directory really shrinks.
    const raw = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
    await raw.open();
    await raw.compactRange(Uint8Array.of(0), Uint8Array.of(0xff));
    await raw.close();
    expect(dirSize(dir)).toBeLessThan(bytesBefore / 2);
  }, 60_000);
});
