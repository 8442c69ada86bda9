import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTributaryError } from '../../src/errors.ts';
import { decodeProof, EMPTY_ROOT, encodeProof, leafHash, StateTree, verifyProof } from '../../src/state/tree/index.ts';
import { sha256 } from '../../src/state/tree/hashing.ts';
import { MemoryKvStore } from '../../src/storage/db.ts';

const enc = (s: string) => new TextEncoder().encode(s);

function decodeCode(bytes: Uint8Array): string | undefined {
  try {
    decodeProof(bytes);
    return undefined;
  } catch (e) {
    return isTributaryError(e) ? e.code : 'not a TributaryError';
  }
}

async function treeWith(n: number): Promise<StateTree> {
  const tree = await StateTree.open(new MemoryKvStore());
  await tree.commit(Array.from({ length: n }, (_, i) => ({ key: enc(`key-${i}`), value: enc(`value-${i}`) })));
  return tree;
}

describe('proof encoding', () => {
  it('empty tree: a 2-byte absence proof against the all-zero root', async () => {
    const tree = await StateTree.open(new MemoryKvStore());
    expect(tree.latestRoot).toEqual(EMPTY_ROOT);
    expect(EMPTY_ROOT).toEqual(new Uint8Array(32));
    const { value, proof } = await tree.prove(enc('anything'));
    expect(value).toBeUndefined();
    expect(proof).toEqual(Uint8Array.of(0, 0));
    expect(verifyProof(EMPTY_ROOT, enc('anything'), undefined, proof)).toBe(true);
    expect(verifyProof(EMPTY_ROOT, enc('anything'), enc('x'), proof)).toBe(false);
    expect(verifyProof(sha256(enc('not empty')), enc('anything'), undefined, proof)).toBe(false);

    // A committed empty version behaves the same.
    await tree.commit([]);
    expect(tree.latestVersion).toBe(0);
    expect(tree.latestRoot).toEqual(EMPTY_ROOT);
    expect((await tree.prove(enc('anything'))).proof).toEqual(Uint8Array.of(0, 0));
  });

  it('single key: the root is the leaf hash; inclusion is 2 bytes, absence carries the other leaf', async () => {
    const tree = await treeWith(1);
    const root = tree.latestRoot;
    expect(root).toEqual(leafHash(sha256(enc('key-0')), sha256(enc('value-0'))));

    const inc = await tree.prove(enc('key-0'));
    expect(inc.value).toEqual(enc('value-0'));
    expect(inc.proof).toEqual(Uint8Array.of(1, 0));
    expect(verifyProof(root, enc('key-0'), enc('value-0'), inc.proof)).toBe(true);
    expect(verifyProof(root, enc('key-0'), enc('value-1'), inc.proof)).toBe(false);
    expect(verifyProof(root, enc('key-0'), undefined, inc.proof)).toBe(false);
    expect(verifyProof(root, enc('key-1'), enc('value-0'), inc.proof)).toBe(false);

    const abs = await tree.prove(enc('key-1'));
    expect(abs.value).toBeUndefined();
    expect(abs.proof.length).toBe(2 + 64);
    expect(abs.proof[0]).toBe(2);
    expect(verifyProof(root, enc('key-1'), undefined, abs.proof)).toBe(true);
    // The other-leaf proof does not prove the other key absent, nor this key present.
    expect(verifyProof(root, enc('key-0'), undefined, abs.proof)).toBe(false);
    expect(verifyProof(root, enc('key-1'), enc('value-0'), abs.proof)).toBe(false);
  });

  it('round-trips real proofs through decode/encode byte for byte', async () => {
    const tree = await treeWith(500);
    for (let i = 0; i < 40; i++) {
      const key = enc(i % 2 === 0 ? `key-${i}` : `missing-${i}`);
      const { proof } = await tree.prove(key);
      expect(encodeProof(decodeProof(proof))).toEqual(proof);
    }
  });

  it('rejects malformed bytes with state/bad_proof, and verifyProof just returns false', async () => {
    const tree = await treeWith(50);
    const root = tree.latestRoot;
    const { value, proof } = await tree.prove(enc('key-3'));
    expect(proof[1]).toBeGreaterThan(0);
    const cases: Record<string, Uint8Array> = {
      empty: new Uint8Array(0),
      oneByte: Uint8Array.of(0),
      unknownTerminal: Uint8Array.of(3, 0),
      tooManyLevels: Uint8Array.of(0, 65),
      truncatedOtherLeaf: Uint8Array.of(2, 0, 1, 2, 3),
      truncatedLevelHeader: Uint8Array.of(0, 1, 0),
      leafMaskOutsideSiblings: Uint8Array.of(0, 1, 0x00, 0x01, 0x00, 0x02, ...new Uint8Array(32)),
      truncated: proof.subarray(0, proof.length - 1),
      trailing: Uint8Array.of(...proof, 0),
      levelsUnderstated: Uint8Array.of(proof[0]!, proof[1]! - 1, ...proof.subarray(2)),
    };
    for (const [name, bytes] of Object.entries(cases)) {
      expect([name, decodeCode(bytes)]).toEqual([name, 'state/bad_proof']);
      expect([name, verifyProof(root, enc('key-3'), value, bytes)]).toEqual([name, false]);
    }
    expect(decodeCode(proof)).toBeUndefined();
  });

  it('rejects structurally impossible proofs that decode fine', async () => {
    const tree = await treeWith(50);
    const root = tree.latestRoot;
    const key = enc('key-3');
    const { value, proof } = await tree.prove(key);
    const decoded = decodeProof(proof);
    const nib = sha256(key)[0]! >> 4;
    // The on-path slot listed as a sibling as well.
    const top = decoded.levels[0]!;
    const withPath = { ...top, siblingMask: top.siblingMask | (1 << nib) };
    expect(
      verifyProof(root, key, value, encodeProof({ ...decoded, levels: [withPath, ...decoded.levels.slice(1)] })),
    ).toBe(false);
    // A node whose only child is a leaf (never stored: the leaf would sit in the parent).
    const lone = encodeProof({
      terminal: { kind: 'leaf' },
      levels: [{ siblingMask: 0, leafMask: 0, entries: new Uint8Array(0) }],
    });
    const loneRoot = sha256(
      Uint8Array.of(1, ...[1 << nib, 1 << nib].flatMap((m) => [m >> 8, m & 255]), ...sha256(key), ...sha256(value!)),
    );
    expect(verifyProof(loneRoot, key, value, lone)).toBe(false);
    // An "other leaf" proof that names the key itself.
    const self = encodeProof({
      terminal: { kind: 'other', keyHash: sha256(key), valueHash: sha256(value!) },
      levels: [],
    });
    expect(verifyProof(leafHash(sha256(key), sha256(value!)), key, undefined, self)).toBe(false);
  });

  it('verifyProof never throws, whatever it is given', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ maxLength: 8 }),
        fc.option(fc.uint8Array({ maxLength: 8 }), { nil: undefined }),
        fc.uint8Array({ maxLength: 300 }),
        (root, key, value, proof) => {
          expect(typeof verifyProof(root, key, value, proof)).toBe('boolean');
          // Random bytes starting like a real proof header must fail too.
          expect(verifyProof(EMPTY_ROOT, key, value, Uint8Array.of(proof[0]! % 3, 1, ...proof))).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
    const junk = [null, undefined, 42, 'abc', {}, [1, 2]] as unknown as Uint8Array[];
    for (const j of junk) {
      expect(verifyProof(j, enc('k'), undefined, Uint8Array.of(0, 0))).toBe(false);
      expect(verifyProof(EMPTY_ROOT, j, undefined, Uint8Array.of(0, 0))).toBe(false);
      expect(verifyProof(EMPTY_ROOT, enc('k'), undefined, j)).toBe(false);
    }
  });

  it('proof size stays small at a few thousand keys', async () => {
    const tree = await treeWith(4096);
    const { proof } = await tree.prove(enc('key-77'));
    // 4096 keys: ~3-4 levels of ≤15 siblings; well under 4 KiB.
    expect(proof.length).toBeLessThan(4096);
    expect(verifyProof(tree.latestRoot, enc('key-77'), enc('value-77'), proof)).toBe(true);
  });
});
