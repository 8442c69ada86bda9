import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bpsOf, parseAmount, splitLargestRemainder } from '../../src/state/math.ts';

describe('splitLargestRemainder', () => {
  it('always sums to the total and each part is within one unit of its exact share', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
        fc
          .array(fc.bigInt({ min: 0n, max: 10_000n }), { minLength: 1, maxLength: 20 })
          .filter((w) => w.some((x) => x > 0n)),
        (total, weights) => {
          const parts = splitLargestRemainder(total, weights);
          expect(parts.reduce((a, b) => a + b, 0n)).toBe(total);
          const sum = weights.reduce((a, b) => a + b, 0n);
          parts.forEach((p, i) => {
            const floor = (total * weights[i]!) / sum;
            expect(p === floor || p === floor + 1n).toBe(true);
            if (weights[i] === 0n) expect(p).toBe(0n);
          });
        },
      ),
    );
  });

  it('gives leftover units to the largest remainders, lower index first on ties', () => {
    expect(splitLargestRemainder(1n, [1n, 1n, 1n])).toEqual([1n, 0n, 0n]);
    expect(splitLargestRemainder(2n, [1n, 1n, 1n])).toEqual([1n, 1n, 0n]);
    expect(splitLargestRemainder(10n, [1n, 2n])).toEqual([3n, 7n]); // 3.33 / 6.67
    expect(splitLargestRemainder(100n, [3333n, 3333n, 3334n])).toEqual([33n, 33n, 34n]);
  });

  it('refuses negative totals and all-zero weights', () => {
    expect(() => splitLargestRemainder(-1n, [1n])).toThrow();
    expect(() => splitLargestRemainder(5n, [0n, 0n])).toThrow();
    expect(splitLargestRemainder(0n, [0n, 0n])).toEqual([0n, 0n]);
  });
});

describe('amounts', () => {
  it('parses decimal base units strictly', () => {
    expect(parseAmount('0')).toBe(0n);
    expect(parseAmount('340282366920938463463374607431768211455')).toBe((1n << 128n) - 1n);
    for (const bad of ['', '01', '-1', '1.5', '1e3', ' 1', '0x10', '340282366920938463463374607431768211456']) {
      expect(() => parseAmount(bad), bad).toThrow();
    }
  });

  it('takes basis points with floor rounding', () => {
    expect(bpsOf(999n, 1000)).toBe(99n);
    expect(bpsOf(10_000n, 10_000)).toBe(10_000n);
  });
});
