/*
 * The Ed25519 acceptance rule of Tributary. Every node must give the same verdict on every
 * signature, or validators fork; libraries disagree on edge cases (ed25519-speccheck: OpenSSL 3.0
 * and 3.5 differ, @noble/curves checks the cofactored equation), so the rule is ours, checked here
 * in our own code before any library is called. A signature (R, S) by key A over message M is
 * accepted if and only if:
 *
 *   1. A is 32 bytes and the signature 64 bytes (R = first 32, S = last 32, little-endian);
 *   2. S < L, the order of the base point (RFC 8032 5.1.7: no reduction of S);
 *   3. A and R are canonical encodings: y < p, and not x = 0 with the sign bit set;
 *   4. neither A nor R is one of the 8 points of small order (the torsion subgroup);
 *   5. A and R decode to curve points, and the cofactorless equation [S]B = R + [k]A holds,
 *      k = SHA-512(R || A || M) mod L.
 *
 * Checks 1-4 are here (byte compares, no allocation); 5 is the library's, on input that already
 * passed 1-4, where libsodium, OpenSSL and our @noble/curves code compute the same equation. Why
 * these choices: canonical encodings and S < L make a signature's bytes unique (no malleability);
 * refusing small-order A and R closes the cases where one signature verifies for many keys or
 * messages; the cofactorless equation is what libsodium and OpenSSL compute, so the fast paths
 * need no change of equation.
 */

export const ED25519_PUBLIC_KEY_LENGTH = 32;
export const ED25519_SIGNATURE_LENGTH = 64;

/** Why the rule refuses a key and signature before the equation is checked. */
export type Ed25519Refusal =
  | 'ed25519/bad_length'
  | 'ed25519/s_not_below_l'
  | 'ed25519/a_not_canonical'
  | 'ed25519/r_not_canonical'
  | 'ed25519/a_small_order'
  | 'ed25519/r_small_order';

// L = 2^252 + 27742317777372353535851937790883648493, little-endian.
const L_BYTES = Uint8Array.from(Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex'));

/*
 * The 8 points of order dividing 8, canonically encoded. A table instead of multiplying by 8:
 * once an encoding is known canonical it is the only encoding of its point, so 8 byte compares
 * (a mismatch almost always at the first byte) decide small order exactly, at a tiny fraction of
 * the cost of a point decompression and three doublings. The test derives the 8 points by
 * arithmetic and checks this table against them.
 */
export const ED25519_SMALL_ORDER_ENCODINGS: readonly Uint8Array[] = [
  '0100000000000000000000000000000000000000000000000000000000000000', // identity (0, 1)
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // order 2: (0, -1)
  '0000000000000000000000000000000000000000000000000000000000000000', // order 4: (sqrt(-1), 0)
  '0000000000000000000000000000000000000000000000000000000000000080', // order 4: (-sqrt(-1), 0)
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', // order 8
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85', // order 8
].map((h) => Uint8Array.from(Buffer.from(h, 'hex')));

/** S < L, comparing the little-endian bytes from the most significant one. */
function scalarBelowOrder(b: Uint8Array, at: number): boolean {
  for (let i = 31; i >= 0; i--) {
    const byte = b[at + i]!;
    const limit = L_BYTES[i]!;
    if (byte !== limit) return byte < limit;
  }
  return false; // S = L
}

function middleBytesAre(b: Uint8Array, at: number, value: number): boolean {
  for (let i = 1; i < 31; i++) if (b[at + i] !== value) return false;
  return true;
}

/**
 * y < p and not (x = 0 with sign bit 1). y ≥ p = 2^255 - 19 only when bytes 1..30 are 0xff, the
 * top byte's low 7 bits are all set and byte 0 ≥ 0xed. x = 0 only for y = 1 and y = p - 1.
 */
function canonicalPointEncoding(b: Uint8Array, at: number): boolean {
  const first = b[at]!;
  const last = b[at + 31]!;
  if ((last & 0x7f) === 0x7f && first >= 0xed && middleBytesAre(b, at, 0xff)) return false;
  if (last === 0x80 && first === 0x01 && middleBytesAre(b, at, 0x00)) return false; // y = 1, sign 1
  if (last === 0xff && first === 0xec && middleBytesAre(b, at, 0xff)) return false; // y = p - 1, sign 1
  return true;
}

function smallOrderEncoding(b: Uint8Array, at: number): boolean {
  for (const point of ED25519_SMALL_ORDER_ENCODINGS) {
    let i = 0;
    while (i < 32 && b[at + i] === point[i]) i++;
    if (i === 32) return true;
  }
  return false;
}

/**
 * Checks 1-4 of the rule. Returns why the key and signature are refused, or undefined when only
 * the equation (check 5) is left to decide.
 */
export function ed25519Refusal(publicKey: Uint8Array, signature: Uint8Array): Ed25519Refusal | undefined {
  if (publicKey.length !== ED25519_PUBLIC_KEY_LENGTH || signature.length !== ED25519_SIGNATURE_LENGTH)
    return 'ed25519/bad_length';
  if (!scalarBelowOrder(signature, 32)) return 'ed25519/s_not_below_l';
  if (!canonicalPointEncoding(publicKey, 0)) return 'ed25519/a_not_canonical';
  if (!canonicalPointEncoding(signature, 0)) return 'ed25519/r_not_canonical';
  if (smallOrderEncoding(publicKey, 0)) return 'ed25519/a_small_order';
  if (smallOrderEncoding(signature, 0)) return 'ed25519/r_small_order';
  return undefined;
}
