import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTributaryError } from '../../src/errors.ts';
import { EMPTY_ROOT, StateTree, verifyProof } from '../../src/state/tree/index.ts';
import type { TreeWrite } from '../../src/state/tree/index.ts';
import { MemoryKvStore } from '../../src/storage/db.ts';

// ---- An independent, deliberately naive root computation straight from the documented format. ----

function h(...parts: Uint8Array[]): Uint8Array {
  const hasher = createHash('sha256');
  for (const p of parts) hasher.update(p);
  return new Uint8Array(hasher.digest());
}

function nibble(keyHash: Uint8Array, i: number): number {
  const b = keyHash[i >> 1]!;
  return i % 2 === 0 ? b >> 4 : b & 15;
}

type Entry = { keyHash: Uint8Array; valueHash: Uint8Array };

function referenceNodeHash(entries: Entry[], depth: number): Uint8Array {
  let exist = 0;
  let leaves = 0;
  const parts: Uint8Array[] = [];
  for (let n = 0; n < 16; n++) {
    const group = entries.filter((e) => nibble(e.keyHash, depth) === n);
    if (group.length === 0) continue;
    exist |= 1 << n;
    if (group.length === 1) {
      leaves |= 1 << n;
      parts.push(group[0]!.keyHash, group[0]!.valueHash);
    } else {
      parts.push(referenceNodeHash(group, depth + 1));
    }
  }
  return h(Uint8Array.of(1, exist >> 8, exist & 255, leaves >> 8, leaves & 255), ...parts);
}

function referenceRoot(state: Map<string, Uint8Array>): Uint8Array {
  const entries = [...state].map(([k, v]) => ({ keyHash: h(Buffer.from(k, 'hex')), valueHash: h(v) }));
  if (entries.length === 0) return new Uint8Array(32);
  if (entries.length === 1) return h(Uint8Array.of(0), entries[0]!.keyHash, entries[0]!.valueHash);
  return referenceNodeHash(entries, 0);
}

// ---- Generators ----

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const KEY_SPACE = 48;
// A small key universe so updates, deletes and re-inserts of the same keys are common; plus a few
// odd keys (empty, long, 0xff-heavy) that stress key handling.
const universe: Uint8Array[] = [
  ...Array.from({ length: KEY_SPACE }, (_, i) => new TextEncoder().encode(`acct/${i}`)),
  new Uint8Array(0),
  new Uint8Array(300).fill(7),
  Uint8Array.of(0xff, 0xff),
  Uint8Array.of(0xff),
  Uint8Array.of(0),
];

const writeArb = fc.record({
  key: fc.nat({ max: universe.length - 1 }),
  value: fc.option(fc.uint8Array({ minLength: 0, maxLength: 12 }), { nil: null, freq: 4 }),
});
const batchArb = fc.array(writeArb, { minLength: 0, maxLength: 40 });

function toWrites(batch: { key: number; value: Uint8Array | null }[]): TreeWrite[] {
  return batch.map((w) => ({ key: universe[w.key]!, value: w.value }));
}

function applyToModel(model: Map<string, Uint8Array>, writes: TreeWrite[]): Map<string, Uint8Array> {
  const next = new Map(model);
  for (const w of writes) {
    if (w.value === null) next.delete(hex(w.key));
    else next.set(hex(w.key), w.value);
  }
  return next;
}

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect(isTributaryError(e) && e.code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe('state tree against a Map model', () => {
  it('reads, roots and proofs match the model at every retained version', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(batchArb, { minLength: 1, maxLength: 9 }),
        fc.constantFrom(0, 1, 2, 4),
        fc.nat(),
        async (batches, keepVersions, seed) => {
          const db = new MemoryKvStore();
          const tree = await StateTree.open(db, { keepVersions, cacheSize: seed % 3 === 0 ? 0 : 64 });
          const snapshots: Map<string, Uint8Array>[] = [];
          const roots: Uint8Array[] = [];
          let model = new Map<string, Uint8Array>();
          for (const batch of batches) {
            const writes = toWrites(batch);
            model = applyToModel(model, writes);
            const prepared = await tree.commit(writes);
            snapshots.push(model);
            roots.push(prepared.root);
            expect(prepared.version).toBe(snapshots.length - 1);
            expect(hex(prepared.root)).toBe(hex(referenceRoot(model)));
            expect(hex(tree.latestRoot)).toBe(hex(prepared.root));
          }
          const latest = snapshots.length - 1;
          const earliest = keepVersions === 0 ? 0 : Math.max(0, latest - keepVersions + 1);
          expect(tree.latestVersion).toBe(latest);
          expect(tree.earliestVersion()).toBe(earliest);

          for (let v = 0; v <= latest; v++) {
            if (v < earliest) {
              await expectCode(tree.get(universe[0]!, v), 'state/pruned');
              await expectCode(tree.rootAt(v), 'state/pruned');
              await expectCode(tree.prove(universe[0]!, v), 'state/pruned');
              continue;
            }
            expect(hex(await tree.rootAt(v))).toBe(hex(roots[v]!));
            for (const key of universe) {
              const expected = snapshots[v]!.get(hex(key));
              const got = await tree.get(key, v);
              expect(got === undefined ? undefined : hex(got)).toBe(expected === undefined ? undefined : hex(expected));
            }
          }
          await expectCode(tree.get(universe[0]!, latest + 1), 'state/unknown_version');

          // Proofs for every key of the universe at the retained versions.
          for (let v = earliest; v <= latest; v++) {
            for (const [i, key] of universe.entries()) {
              const { value, proof } = await tree.prove(key, v);
              const expected = snapshots[v]!.get(hex(key));
              expect(value === undefined ? undefined : hex(value)).toBe(
                expected === undefined ? undefined : hex(expected),
              );
              expect(verifyProof(roots[v]!, key, value, proof)).toBe(true);
              // The same proof never vouches for another value, or for presence/absence flipped.
              expect(verifyProof(roots[v]!, key, value === undefined ? Uint8Array.of(1) : undefined, proof)).toBe(
                false,
              );
              if (value !== undefined) {
                expect(verifyProof(roots[v]!, key, Uint8Array.of(...value, 0), proof)).toBe(false);
              }
              // Nor against another root.
              const otherRoot = roots.find((r) => hex(r) !== hex(roots[v]!)) ?? h(roots[v]!);
              expect(verifyProof(otherRoot, key, value, proof)).toBe(false);
              // Nor with any single byte altered.
              const pos = (seed + i * 7919) % proof.length;
              const flipped = proof.slice();
              flipped[pos] = flipped[pos]! ^ (1 + ((seed >> 3) % 255));
              expect(verifyProof(roots[v]!, key, value, flipped)).toBe(false);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);

  it('every single-byte change of a proof is rejected', async () => {
    const tree = await StateTree.open(new MemoryKvStore());
    const writes = Array.from({ length: 300 }, (_, i) => ({
      key: new TextEncoder().encode(`k${i}`),
      value: Uint8Array.of(i & 255),
    }));
    await tree.commit(writes);
    const root = tree.latestRoot;
    for (const key of [writes[5]!.key, new TextEncoder().encode('absent-1'), new TextEncoder().encode('absent-2')]) {
      const { value, proof } = await tree.prove(key);
      expect(verifyProof(root, key, value, proof)).toBe(true);
      for (let pos = 0; pos < proof.length; pos++) {
        for (const mask of [0x01, 0x80, 0xff]) {
          const bad = proof.slice();
          bad[pos] = bad[pos]! ^ mask;
          expect(verifyProof(root, key, value, bad)).toBe(false);
        }
      }
      // Truncated or extended proofs too.
      expect(verifyProof(root, key, value, proof.subarray(0, proof.length - 1))).toBe(false);
      expect(verifyProof(root, key, value, Uint8Array.of(...proof, 0))).toBe(false);
    }
  });

  it('the root depends only on the final key/value set, not on order or batch boundaries', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.nat({ max: 5000 }), { minLength: 0, maxLength: 120 }),
        fc.array(fc.nat({ max: 5000 }), { maxLength: 40 }),
        fc.array(fc.nat({ max: 6 }), { minLength: 1, maxLength: 10 }),
        fc.nat(),
        async (finalKeys, noiseKeys, splitSizes, seed) => {
          const key = (n: number) => new TextEncoder().encode(`key:${n}`);
          const value = (n: number) => new TextEncoder().encode(`value:${n * 31}`);
          const finalSet = new Set(finalKeys);
          const direct = await StateTree.open(new MemoryKvStore());
          await direct.commit(finalKeys.map((n) => ({ key: key(n), value: value(n) })));

          // The same set reached through noise: junk values later overwritten, extra keys later
          // deleted, a shuffled order and arbitrary batch sizes.
          const ops: TreeWrite[] = [];
          for (const n of noiseKeys) ops.push({ key: key(n), value: Uint8Array.of(n & 255, 9) });
          const shuffled = [...finalKeys].sort((a, b) => ((a * 7919 + seed) % 10007) - ((b * 7919 + seed) % 10007));
          for (const n of shuffled) ops.push({ key: key(n), value: value(n) });
          for (const n of noiseKeys) if (!finalSet.has(n)) ops.push({ key: key(n), value: null });
          const batched = await StateTree.open(new MemoryKvStore());
          let at = 0;
          let i = 0;
          while (at < ops.length) {
            // A zero size makes an empty version on the first pass; after that, the rest goes at once.
            const size = splitSizes[i % splitSizes.length]! * 5 || (i >= splitSizes.length ? ops.length : 0);
            i++;
            await batched.commit(ops.slice(at, at + size));
            at += size;
          }
          expect(hex(batched.latestRoot)).toBe(hex(direct.latestRoot));
          const model = new Map(finalKeys.map((n) => [hex(key(n)), value(n)]));
          expect(hex(direct.latestRoot)).toBe(hex(referenceRoot(model)));
        },
      ),
      { numRuns: 80 },
    );
  });

  it('handles a deeper tree: bulk inserts, half deleted, back to empty', async () => {
    const db = new MemoryKvStore();
    const tree = await StateTree.open(db, { keepVersions: 2 });
    const key = (n: number) => new TextEncoder().encode(`bulk/${n}`);
    const model = new Map<string, Uint8Array>();
    for (let b = 0; b < 4; b++) {
      const writes: TreeWrite[] = [];
      for (let n = b * 2500; n < (b + 1) * 2500; n++) writes.push({ key: key(n), value: Uint8Array.of(n & 255, b) });
      await tree.commit(writes);
      for (const w of writes) model.set(hex(w.key), w.value!);
    }
    expect(hex(tree.latestRoot)).toBe(hex(referenceRoot(model)));
    const deletes: TreeWrite[] = [];
    for (let n = 0; n < 10_000; n += 2) {
      deletes.push({ key: key(n), value: null });
      model.delete(hex(key(n)));
    }
    await tree.commit(deletes);
    expect(hex(tree.latestRoot)).toBe(hex(referenceRoot(model)));
    for (const n of [1, 2, 777, 9999]) {
      const { value, proof } = await tree.prove(key(n));
      expect(verifyProof(tree.latestRoot, key(n), value, proof)).toBe(true);
      expect(value === undefined).toBe(n % 2 === 0);
    }
    await tree.commit([...model.keys()].map((k) => ({ key: Buffer.from(k, 'hex'), value: null })));
    await tree.commit([]);
    await tree.commit([]);
    expect(tree.latestRoot).toEqual(EMPTY_ROOT);
    // With everything deleted and two versions kept, only root records (the two retained versions
    // and the one deletes lag behind) and the earliest-version record remain: every node, value
    // and key-index record has been pruned away.
    expect(db.size).toBe(4);
  });
});
