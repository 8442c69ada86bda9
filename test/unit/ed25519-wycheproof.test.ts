import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sharedVectors } from '../helpers/shared-vectors.ts';
import { SigningKey, ed25519Backend } from '../../src/crypto/ed25519.ts';
import { ED25519_LIBRARIES, ED25519_PATHS } from '../helpers/ed25519-paths.ts';
import { ed25519Refusal } from '../../src/crypto/ed25519-rule.ts';
import { fromHex } from '../../src/crypto/hash.ts';
import { SignatureVerifier } from '../../src/crypto/verify-pool.ts';

// Conformance vectors live in ../shared (beside the repository), never copied in.
const { path: VECTORS, present } = sharedVectors('wycheproof/ed25519_test.json', 'Wycheproof Ed25519');

interface Vector {
  tcId: number;
  msg: string;
  sig: string;
  result: 'valid' | 'invalid' | 'acceptable';
  comment: string;
}
interface Group {
  publicKey: { pk: string };
  tests: Vector[];
}

describe.skipIf(!present)('Ed25519 acceptance matches Wycheproof on every vector', () => {
  const file = present
    ? (JSON.parse(readFileSync(VECTORS, 'utf8')) as { numberOfTests: number; testGroups: Group[] })
    : undefined;
  const cases = file ? file.testGroups.flatMap((g) => g.tests.map((t) => ({ pk: g.publicKey.pk, ...t }))) : [];

  it('has all 151 vectors', () => {
    expect(cases.length).toBe(151);
    expect(file!.numberOfTests).toBe(151);
  });

  for (const [name, verify] of Object.entries(ED25519_PATHS)) {
    it(`${name} agrees with Wycheproof's verdict on all vectors`, () => {
      const disagreements: string[] = [];
      for (const c of cases) {
        // Wycheproof has no "acceptable" Ed25519 vectors; strict RFC 8032 treats anything else as invalid.
        const expected = c.result === 'valid';
        const got = verify(fromHex(c.pk), fromHex(c.msg), fromHex(c.sig));
        if (got !== expected) disagreements.push(`tcId ${c.tcId} (${c.comment}): expected ${expected}, got ${got}`);
      }
      expect(disagreements).toEqual([]);
    });
  }

  it.each([
    ['on the worker alone', 'never'],
    ['with its first chunk on the main thread', 'always'],
  ] as const)(
    'the worker-thread pool (the mempool path) agrees with Wycheproof on all vectors, %s',
    async (_, inline) => {
      const pool = SignatureVerifier.create(1, inline);
      try {
        const got = await Promise.all(cases.map((c) => pool.verify(fromHex(c.pk), fromHex(c.msg), fromHex(c.sig))));
        const disagreements = cases.filter((c, i) => got[i] !== (c.result === 'valid')).map((c) => c.tcId);
        expect(disagreements).toEqual([]);
        // The policy did what the title says, or the agreement proves less than it claims.
        if (inline === 'never') expect(pool.verifiedInline).toBe(0);
        else expect(pool.verifiedInline).toBeGreaterThan(0);
      } finally {
        await pool.close();
      }
    },
  );

  it.each(Object.entries(ED25519_LIBRARIES))(
    '%s alone agrees with Wycheproof on every vector the rule leaves to the equation',
    (_, verdict) => {
      // The fast paths trust a library for the equation only; if an upgrade changes one of these verdicts, fail here.
      const decidedByEquation = cases.filter((c) => ed25519Refusal(fromHex(c.pk), fromHex(c.sig)) === undefined);
      expect(decidedByEquation.filter((c) => c.result === 'valid').length).toBe(
        cases.filter((c) => c.result === 'valid').length,
      );
      const disagreements = decidedByEquation
        .filter((c) => verdict(fromHex(c.pk), fromHex(c.msg), fromHex(c.sig)) !== (c.result === 'valid'))
        .map((c) => c.tcId);
      expect(disagreements).toEqual([]);
    },
  );

  it('every verifier rejects vector 151, which ZIP-215 verification accepts', () => {
    const v = cases.find((c) => c.tcId === 151)!;
    expect(v.result).toBe('invalid');
    for (const verify of Object.values(ED25519_PATHS))
      expect(verify(fromHex(v.pk), fromHex(v.msg), fromHex(v.sig))).toBe(false);
  });
});

describe('SigningKey', () => {
  it.each(Object.entries(ED25519_PATHS))('signatures verify on %s and fail after any change', (_, verify) => {
    const key = SigningKey.generate();
    const msg = new TextEncoder().encode('who contributed, who refined, who executed, who earned');
    const sig = key.sign(msg);
    expect(verify(key.publicKey, msg, sig)).toBe(true);
    const tampered = sig.slice();
    tampered[10]! ^= 1;
    expect(verify(key.publicKey, msg, tampered)).toBe(false);
    expect(verify(key.publicKey, msg.slice(1), sig)).toBe(false);
    // A message inside a larger buffer (how the workers receive them) verifies as itself.
    const framed = new Uint8Array(msg.length + 7);
    framed.set(msg, 3);
    expect(verify(key.publicKey, framed.subarray(3, 3 + msg.length), sig)).toBe(true);
  });

  it.each(Object.entries(ED25519_PATHS))('%s rejects wrong lengths without throwing', (_, verify) => {
    const key = SigningKey.generate();
    expect(verify(key.publicKey.slice(1), new Uint8Array(1), new Uint8Array(64))).toBe(false);
    expect(verify(key.publicKey, new Uint8Array(1), new Uint8Array(63))).toBe(false);
    expect(verify(new Uint8Array(32).fill(0xff), new Uint8Array(1), new Uint8Array(64))).toBe(false);
  });

  it.each(Object.entries(ED25519_LIBRARIES))('%s alone refuses wrong lengths without throwing', (_, verdict) => {
    // libsodium asserts lengths in C, where a failed assert ends the process: checked before the call.
    const key = SigningKey.generate();
    expect(verdict(key.publicKey.slice(1), new Uint8Array(1), new Uint8Array(64))).toBe(false);
    expect(verdict(key.publicKey, new Uint8Array(1), new Uint8Array(63))).toBe(false);
    expect(verdict(key.publicKey, new Uint8Array(1), new Uint8Array(65))).toBe(false);
  });

  it('every verifier gives the same verdict on signatures with random bytes changed', () => {
    // Beyond the vectors: a valid signature, then any bytes of the key, R, S or the message
    // replaced. Most changes break it; all four paths must agree on which do.
    const key = SigningKey.generate();
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 200 }),
        fc.constantFrom('publicKey', 'signature', 'message', 'none'),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
        (message, target, edits) => {
          const parts = { publicKey: key.publicKey.slice(), signature: key.sign(message), message: message.slice() };
          if (target !== 'none') {
            const bytes = parts[target];
            for (const [at, value] of edits) if (bytes.length > 0) bytes[at % bytes.length] = value;
          }
          const verdicts = Object.values(ED25519_PATHS).map((verify) =>
            verify(parts.publicKey, parts.message, parts.signature),
          );
          expect(new Set(verdicts).size).toBe(1);
          if (target === 'none') expect(verdicts[0]).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it.runIf(process.platform === 'linux' && process.arch === 'x64')(
    'the hot path is libsodium where sodium-native ships a build (linux x64, as in CI)',
    () => {
      // A broken install falls back to OpenSSL silently and halves admission throughput: fail here instead.
      expect(ed25519Backend()).toBe('libsodium');
    },
  );

  it('derives the RFC 8032 public key from the seed (test 1 of section 7.1)', () => {
    const key = new SigningKey(fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'));
    expect(Buffer.from(key.publicKey).toString('hex')).toBe(
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    );
    expect(Buffer.from(key.sign(new Uint8Array(0))).toString('hex')).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
  });
});
