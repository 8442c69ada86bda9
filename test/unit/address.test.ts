import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { addressFromPublicKey, formatAddress, moduleAddress, parseAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { TributaryError } from '../../src/errors.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { merkleRoot } from '../../src/crypto/merkle.ts';

describe('addresses', () => {
  it('round-trip through the checksummed text form', () => {
    const a = addressFromPublicKey(SigningKey.generate().publicKey);
    const text = formatAddress(a);
    expect(text).toMatch(/^trib1[02-9ac-hj-np-z]{38}$/);
    expect(parseAddress(text)).toEqual(a);
  });

  it('detect a single-character typo', () => {
    const text = formatAddress(moduleAddress('fee_collector'));
    const i = 10;
    const typo = text.slice(0, i) + (text[i] === 'q' ? 'p' : 'q') + text.slice(i + 1);
    expect(() => parseAddress(typo)).toThrow(TributaryError);
    try {
      parseAddress(typo);
    } catch (e) {
      expect((e as TributaryError).code).toBe('address/invalid');
    }
  });

  it('reject another prefix and wrong lengths', () => {
    expect(() => parseAddress('cosmos1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu')).toThrow(/prefix/);
    expect(() => parseAddress('trib1')).toThrow();
  });
});

describe('merkleRoot', () => {
  it('depends on every item and its position, and an odd list is not its padded twin', () => {
    const items = [1, 2, 3].map((i) => Uint8Array.of(i));
    const r = merkleRoot(items);
    expect(merkleRoot([items[1]!, items[0]!, items[2]!])).not.toEqual(r);
    expect(merkleRoot([...items, items[2]!])).not.toEqual(r);
    expect(merkleRoot([])).not.toEqual(merkleRoot([new Uint8Array(0)]));
  });
});

/** The definition, written the plain way: one node:crypto digest per leaf and node, a new array per level. */
function referenceRoot(items: Uint8Array[]): Uint8Array {
  const digest = (prefix: number, ...parts: Uint8Array[]) => {
    const h = createHash('sha256').update(Uint8Array.of(prefix));
    for (const p of parts) h.update(p);
    return new Uint8Array(h.digest());
  };
  if (items.length === 0) return new Uint8Array(createHash('sha256').digest());
  let level: Uint8Array[] = items.map((item) => digest(0, item));
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2)
      next.push(i + 1 < level.length ? digest(1, level[i]!, level[i + 1]!) : level[i]!);
    level = next;
  }
  return level[0]!;
}

describe('merkleRoot against its definition (headers carry it: any change forks the chain)', () => {
  const item = (i: number, length: number) => Uint8Array.from({ length }, (_, j) => (i * 31 + j * 7) & 255);

  it('gives the same root for 1..40 items of lengths around the JS/native hashing boundary and past the scratch bound', () => {
    for (const length of [0, 1, 32, 126, 127, 128, 300, 5000, 70_000]) {
      for (let n = 1; n <= 40; n++) {
        const items = Array.from({ length: n }, (_, i) => item(i, length));
        expect(toHex(merkleRoot(items)), `${n} items of ${length} bytes`).toBe(toHex(referenceRoot(items)));
      }
    }
  });

  it('keeps the root of a fixed mixed list (pinned before the scratch-buffer rewrite)', () => {
    const mixed = Array.from({ length: 37 }, (_, i) => item(i, [0, 32, 127, 128, 700][i % 5]!));
    expect(toHex(merkleRoot(mixed))).toBe('592a44f9cd86a83063b75c1f91ab353d410b40072dd683c5f5a67f04cb2010e0');
    expect(toHex(merkleRoot([]))).toBe(toHex(referenceRoot([])));
  });
});
