import { createHash } from 'node:crypto';

/**
 * A small seeded generator (xorshift128 over four 32-bit words). Every fuzz input gets its own,
 * derived from the run seed, the target and the input's index, so one input replays alone
 * (`--seed S --target T --index I`) without generating the inputs before it.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  private constructor(words: Uint32Array) {
    this.a = words[0]! | 1;
    this.b = words[1]!;
    this.c = words[2]!;
    this.d = words[3]!;
  }

  static forInput(seed: string, target: string, index: number): Rng {
    const digest = createHash('sha256').update(`${seed}\0${target}\0${index}`).digest();
    return new Rng(new Uint32Array(digest.buffer, digest.byteOffset, 4));
  }

  /** Unsigned 32-bit. */
  next(): number {
    let t = this.d;
    const s = this.a;
    this.d = this.c;
    this.c = this.b;
    this.b = s;
    t ^= t << 11;
    t ^= t >>> 8;
    this.a = (t ^ s ^ (s >>> 19)) >>> 0;
    return this.a;
  }

  /** Uniform in [0, n) for n up to 2^32 (the slight modulo bias is irrelevant for fuzzing). */
  int(n: number): number {
    if (n <= 0) return 0;
    if (n <= 0x100000000) return this.next() % n;
    return (this.next() * 0x100000000 + this.next()) % n;
  }

  /** Uniform in [lo, hi], both inclusive. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() / 0x100000000 < p;
  }

  bool(): boolean {
    return (this.next() & 1) === 1;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** A safe integer up to 2^53 - 1, small ones more often. */
  safeInt(): number {
    switch (this.int(4)) {
      case 0:
        return this.int(10);
      case 1:
        return this.int(0x10000);
      case 2:
        return this.next();
      default:
        return (this.next() % 0x200000) * 0x100000000 + this.next();
    }
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }

  /** A length, short ones more often, up to `max`. */
  length(max: number): number {
    return this.chance(0.7) ? this.int(Math.min(max, 16) + 1) : this.int(max + 1);
  }
}
