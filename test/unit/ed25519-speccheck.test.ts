import { readFileSync } from 'node:fs';
import { ed25519, ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { sharedVectors } from '../helpers/shared-vectors.ts';
import { SigningKey, verifyEd25519Portable } from '../../src/crypto/ed25519.ts';
import { ED25519_LIBRARIES, ED25519_PATHS } from '../helpers/ed25519-paths.ts';
import { ED25519_SMALL_ORDER_ENCODINGS, ed25519Refusal, type Ed25519Refusal } from '../../src/crypto/ed25519-rule.ts';
import { fromHex, toHex } from '../../src/crypto/hash.ts';
import { SignatureVerifier } from '../../src/crypto/verify-pool.ts';

// Conformance vectors live in ../shared (beside the repository), never copied in.
const { path: VECTORS, present } = sharedVectors('ed25519-speccheck/cases.json', 'ed25519-speccheck');

interface Case {
  message: string;
  pub_key: string;
  signature: string;
}

// The rule's verdict on each vector, worked out from SOURCE.md and checked by computation:
// 'equation' means the byte checks pass and the cofactorless equation decides.
const EXPECTED: { accept: boolean; refusal: Ed25519Refusal | 'equation' }[] = [
  { accept: false, refusal: 'ed25519/a_small_order' }, // 0: small-order A and R, S = 0
  { accept: false, refusal: 'ed25519/a_small_order' }, // 1: small-order A
  { accept: false, refusal: 'ed25519/r_small_order' }, // 2: small-order R
  { accept: true, refusal: 'equation' }, // 3: mixed-order A and R, passes both equations
  { accept: false, refusal: 'equation' }, // 4: passes only the cofactored equation
  { accept: false, refusal: 'equation' }, // 5: passes only the cofactored equation (8h not pre-reduced)
  { accept: false, refusal: 'ed25519/s_not_below_l' }, // 6: S > L
  { accept: false, refusal: 'ed25519/s_not_below_l' }, // 7: S >> L
  { accept: false, refusal: 'ed25519/r_not_canonical' }, // 8: R = (0, -1) with the sign bit set
  { accept: false, refusal: 'ed25519/r_not_canonical' }, // 9: same R, passes the equations if R were decoded leniently
  { accept: false, refusal: 'ed25519/a_not_canonical' }, // 10: A = (0, -1) with the sign bit set
  { accept: false, refusal: 'ed25519/a_not_canonical' }, // 11: same A, accepted by OpenSSL 3.0
];

describe.skipIf(!present)('Ed25519 rule on the ed25519-speccheck vectors', () => {
  const cases = present ? (JSON.parse(readFileSync(VECTORS, 'utf8')) as Case[]) : [];
  const inputs = cases.map((c) => ({ pk: fromHex(c.pub_key), msg: fromHex(c.message), sig: fromHex(c.signature) }));

  it('has all 12 vectors', () => {
    expect(cases.length).toBe(12);
  });

  it('the rule checks refuse each vector for the stated reason, or leave it to the equation', () => {
    const got = inputs.map((v) => ed25519Refusal(v.pk, v.sig) ?? 'equation');
    expect(got).toEqual(EXPECTED.map((e) => e.refusal));
  });

  for (const [name, verify] of Object.entries(ED25519_PATHS)) {
    it(`${name} gives the rule's verdict on every vector`, () => {
      expect(inputs.map((v) => verify(v.pk, v.msg, v.sig))).toEqual(EXPECTED.map((e) => e.accept));
    });
  }

  it('the worker-thread pool (the mempool path) gives the rule verdict on every vector', async () => {
    const pool = SignatureVerifier.create(1);
    try {
      const got = await Promise.all(inputs.map((v) => pool.verify(v.pk, v.msg, v.sig)));
      expect(got).toEqual(EXPECTED.map((e) => e.accept));
    } finally {
      await pool.close();
    }
  });

  it.each(Object.entries(ED25519_LIBRARIES))(
    '%s alone agrees with the rule wherever the rule leaves it the equation',
    (name, verdict) => {
      // If a library upgrade changes its verdict on these, a fast path would leave the rule: fail here.
      const decidedByEquation = EXPECTED.flatMap((e, i) => (e.refusal === 'equation' ? [i] : []));
      expect(decidedByEquation).toEqual([3, 4, 5]);
      for (const i of decidedByEquation) {
        const v = inputs[i]!;
        expect({ vector: i, [name]: verdict(v.pk, v.msg, v.sig) }).toEqual({ vector: i, [name]: EXPECTED[i]!.accept });
      }
    },
  );
});

describe('Ed25519 rule checks', () => {
  const key = new SigningKey(fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'));
  const message = new TextEncoder().encode('rule');
  const signature = key.sign(message);
  const L = ed25519.Point.Fn.ORDER;
  const P = ed25519.Point.Fp.ORDER;

  const littleEndian = (n: bigint): Uint8Array => {
    const out = new Uint8Array(32);
    for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
    return out;
  };
  const withS = (s: bigint): Uint8Array => {
    const sig = signature.slice();
    sig.set(littleEndian(s), 32);
    return sig;
  };
  const withR = (r: Uint8Array): Uint8Array => {
    const sig = signature.slice();
    sig.set(r, 0);
    return sig;
  };
  const encoding = (y: bigint, signBit: boolean): Uint8Array => littleEndian(y | (signBit ? 1n << 255n : 0n));

  it('the small-order table is exactly the 8 multiples of a point of order 8, found by arithmetic', () => {
    // [L]P of any curve point P lies in the torsion subgroup; take the first y whose point has order 8.
    let torsion: InstanceType<typeof ed25519.Point> | undefined;
    for (let y = 2n; torsion === undefined; y++) {
      let point: InstanceType<typeof ed25519.Point>;
      try {
        point = ed25519.Point.fromBytes(encoding(y, false));
      } catch {
        continue; // no curve point with this y
      }
      const t = point.multiplyUnsafe(L - 1n).add(point);
      if (!t.double().double().is0()) torsion = t;
    }
    const multiples = new Set<string>();
    let m = ed25519.Point.ZERO;
    for (let i = 0; i < 8; i++, m = m.add(torsion)) multiples.add(toHex(m.toBytes()));
    expect(multiples.size).toBe(8);
    const table = new Set(ED25519_SMALL_ORDER_ENCODINGS.map(toHex));
    expect(table).toEqual(multiples);
    expect(table).toEqual(new Set(ED25519_TORSION_SUBGROUP));
  });

  it('a valid signature passes the checks and every verifier', () => {
    expect(ed25519Refusal(key.publicKey, signature)).toBeUndefined();
    for (const verify of Object.values(ED25519_PATHS)) expect(verify(key.publicKey, message, signature)).toBe(true);
  });

  it('S must be below L, compared without reduction', () => {
    expect(ed25519Refusal(key.publicKey, withS(L - 1n))).toBeUndefined();
    expect(ed25519Refusal(key.publicKey, withS(0n))).toBeUndefined();
    for (const s of [L, L + 1n, L + 2n ** 200n, 2n * L, 2n ** 253n, 2n ** 256n - 1n]) {
      expect(ed25519Refusal(key.publicKey, withS(s))).toBe('ed25519/s_not_below_l');
    }
    // S + L is the same scalar mod L: both libraries refuse it too, and so must every path.
    const s = littleEndian(BigInt('0x' + Buffer.from(signature.subarray(32)).reverse().toString('hex')) + L);
    const malleated = signature.slice();
    malleated.set(s, 32);
    for (const verify of Object.values(ED25519_PATHS)) expect(verify(key.publicKey, message, malleated)).toBe(false);
    for (const verdict of Object.values(ED25519_LIBRARIES))
      expect(verdict(key.publicKey, message, malleated)).toBe(false);
  });

  it('every non-canonical point encoding is refused, for A and for R, and no canonical neighbour is', () => {
    // The non-canonical encodings are y in [p, 2^255) with either sign bit, and x = 0 (y = 1 or
    // y = p - 1) with the sign bit set: 40 byte strings in all.
    const nonCanonical: Uint8Array[] = [encoding(1n, true), encoding(P - 1n, true)];
    for (let y = P; y < 2n ** 255n; y++) nonCanonical.push(encoding(y, false), encoding(y, true));
    expect(nonCanonical.length).toBe(40);
    for (const bytes of nonCanonical) {
      expect(ed25519Refusal(bytes, signature)).toBe('ed25519/a_not_canonical');
      expect(ed25519Refusal(key.publicKey, withR(bytes))).toBe('ed25519/r_not_canonical');
      expect(() => ed25519.Point.fromBytes(bytes, false)).toThrow(); // strict RFC 8032 decoding agrees
    }
    // Canonical neighbours get past the encoding check (then fail as small order or not a point).
    for (const bytes of [encoding(P - 1n, false), encoding(P - 2n, true), encoding(1n, false), encoding(2n, true)]) {
      expect(ed25519Refusal(bytes, signature)).not.toBe('ed25519/a_not_canonical');
      expect(ed25519Refusal(key.publicKey, withR(bytes))).not.toBe('ed25519/r_not_canonical');
    }
  });

  it('each small-order point is refused as A and as R', () => {
    for (const point of ED25519_SMALL_ORDER_ENCODINGS) {
      expect(ed25519Refusal(point, signature)).toBe('ed25519/a_small_order');
      expect(ed25519Refusal(key.publicKey, withR(point))).toBe('ed25519/r_small_order');
    }
  });

  it('wrong lengths are refused', () => {
    expect(ed25519Refusal(key.publicKey.subarray(1), signature)).toBe('ed25519/bad_length');
    expect(ed25519Refusal(key.publicKey, signature.subarray(1))).toBe('ed25519/bad_length');
    expect(verifyEd25519Portable(key.publicKey, message, signature.subarray(1))).toBe(false);
  });
});
