import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256, sha256Range } from '../../src/state/tree/hashing.ts';
import { sha256Into } from '../../src/crypto/sha256.ts';

const native = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

describe('tree sha256 (JS for short inputs, node:crypto for long)', () => {
  it('matches node:crypto at every length around the block and padding boundaries', () => {
    for (let len = 0; len <= 300; len++) {
      const data = Uint8Array.from({ length: len }, (_, i) => (i * 131 + len) & 0xff);
      const out = new Uint8Array(40).fill(0xaa);
      sha256Into(data, 0, len, out, 4);
      expect(out.subarray(4, 36)).toEqual(native(data));
      expect(out[3]).toBe(0xaa);
      expect(out[36]).toBe(0xaa);
      expect(new Uint8Array(sha256(data))).toEqual(native(data));
    }
  });

  it('hashes sub-ranges without copying them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(), fc.nat(), (data, a, b) => {
        const start = data.length === 0 ? 0 : a % data.length;
        const end = start + (data.length === 0 ? 0 : b % (data.length - start + 1));
        expect(new Uint8Array(sha256Range(data, start, end))).toEqual(native(data.subarray(start, end)));
      }),
      { numRuns: 300 },
    );
  });
});
