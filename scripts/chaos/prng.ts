/**
 * The chaos runner's randomness: a seeded xorshift128+ over 64-bit BigInts, so that a seed printed
 * by one run replays the same choices of perturbation, node, pause and interval in another.
 * (Timing still differs between runs: the node and the senders race the clock.)
 */
const MASK64 = (1n << 64n) - 1n;

function splitmix64(state: bigint): [bigint, bigint] {
  const next = (state + 0x9e3779b97f4a7c15n) & MASK64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return [next, z ^ (z >> 31n)];
}

export class Prng {
  private s0: bigint;
  private s1: bigint;

  constructor(seed: number) {
    let state = BigInt(seed) & MASK64;
    [state, this.s0] = splitmix64(state);
    [state, this.s1] = splitmix64(state);
    if (this.s0 === 0n && this.s1 === 0n) this.s1 = 1n;
  }

  private next64(): bigint {
    let x = this.s0;
    const y = this.s1;
    this.s0 = y;
    x = (x ^ (x << 23n)) & MASK64;
    this.s1 = x ^ y ^ (x >> 17n) ^ (y >> 26n);
    return (this.s1 + y) & MASK64;
  }

  /** An integer in [lo, hi], both included (the modulo bias over 2^64 is negligible here). */
  int(lo: number, hi: number): number {
    if (hi < lo) throw new Error(`empty range [${lo}, ${hi}]`);
    return lo + Number(this.next64() % BigInt(hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(0, items.length - 1)]!;
  }
}

/** A fresh seed when none is given: 32 bits from the OS, small enough to type back as --seed. */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}
