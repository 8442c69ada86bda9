import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { messageCodec, parseSchema } from '../../src/codec/canonical.ts';
import { TxBodyCodec, type TxBody } from '../../src/codec/core.ts';
import { fromHex } from '../../src/crypto/hash.ts';
import { TributaryError } from '../../src/errors.ts';

const schema = parseSchema(`
syntax = "proto3";
package t;
message Item { uint32 x = 1; }
message M {
  uint64 n = 1;
  string s = 2;
  bytes b = 3;
  bytes amount = 4 [(amount) = true];
  repeated uint32 list = 5;
  repeated Item items = 6;
  Item one = 7;
  bool flag = 8;
}`);
interface M {
  n: number;
  s: string;
  b: Uint8Array;
  amount: bigint;
  list: number[];
  items: { x: number }[];
  one: { x: number } | undefined;
  flag: boolean;
}
const codec = messageCodec<M>(schema, 't.M');

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof TributaryError ? e.code : 'uncoded';
  }
  return undefined;
}

const arbM = fc.record({
  n: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  s: fc.string(),
  b: fc.uint8Array({ maxLength: 40 }),
  amount: fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
  list: fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 })),
  items: fc.array(fc.record({ x: fc.integer({ min: 0, max: 1000 }) })),
  one: fc.option(fc.record({ x: fc.integer({ min: 0, max: 1000 }) }), { nil: undefined }),
  flag: fc.boolean(),
});

describe('canonical protobuf', () => {
  it('round-trips every value and re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(arbM, (m) => {
        const bytes = codec.encode(m);
        const back = codec.decode(bytes);
        expect(back).toEqual({ ...m, b: new Uint8Array(m.b) });
        expect(Buffer.from(codec.encode(back))).toEqual(Buffer.from(bytes));
      }),
    );
  });

  it('round-trips amounts at every byte-length boundary, and decodeStored agrees with decode', () => {
    for (let bits = 0; bits <= 256; bits++) {
      for (const v of [(1n << BigInt(bits)) - 1n, 1n << BigInt(bits), (1n << BigInt(bits)) + 1n]) {
        if (v >= 1n << 256n) continue;
        const m = { ...codec.empty(), amount: v };
        const bytes = codec.encode(m);
        expect(codec.decode(bytes).amount).toBe(v);
        expect(codec.decodeStored(bytes).amount).toBe(v);
      }
    }
  });

  it('writes an amount as its minimal big-endian bytes, and refuses one above 2^256 - 1', () => {
    const reference = (v: bigint): number[] => {
      if (v === 0n) return [];
      const hex = v.toString(16);
      return [...Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex')];
    };
    const check = (v: bigint) => {
      const bytes = codec.encode({ ...codec.empty(), amount: v });
      const expected = reference(v);
      expect([...bytes]).toEqual(expected.length === 0 ? [] : [0x22, expected.length, ...expected]);
      expect(codec.decode(bytes).amount).toBe(v);
    };
    for (let bits = 0; bits < 256; bits++) {
      for (const v of [(1n << BigInt(bits)) - 1n, 1n << BigInt(bits)]) check(v);
    }
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }), check));
    expect(code(() => codec.encode({ ...codec.empty(), amount: 1n << 256n }))).toBe('codec/out_of_range');
    expect(code(() => codec.encode({ ...codec.empty(), amount: -1n }))).toBe('codec/out_of_range');
  });

  it('encodes an all-default value as the empty string', () => {
    expect(codec.encode(codec.empty()).length).toBe(0);
  });

  it('rejects a default value written explicitly', () => {
    // field 1 (varint) = 0: valid protobuf, but the canonical form omits it
    expect(code(() => codec.decode(Uint8Array.of(0x08, 0x00)))).toBe('codec/non_canonical');
  });

  it('rejects unknown fields', () => {
    expect(code(() => codec.decode(Uint8Array.of(0x78, 0x01)))).toBe('codec/non_canonical'); // field 15
  });

  it('rejects fields out of order', () => {
    const a = codec.encode({ ...codec.empty(), n: 1, s: 'x' }); // 08 01 12 01 78
    const swapped = Uint8Array.of(...a.slice(2), ...a.slice(0, 2));
    expect(code(() => codec.decode(swapped))).toBe('codec/non_canonical');
  });

  it('rejects unpacked repeated scalars', () => {
    expect(code(() => codec.decode(Uint8Array.of(0x28, 0x01, 0x28, 0x02)))).toBe('codec/non_canonical');
  });

  it('rejects an amount with a leading zero byte', () => {
    expect(code(() => codec.decode(Uint8Array.of(0x22, 0x02, 0x00, 0x01)))).toBe('codec/non_canonical');
  });

  it('rejects 64-bit integers above 2^53 - 1', () => {
    expect(code(() => codec.encode({ ...codec.empty(), n: 2 ** 53 }))).toBe('codec/out_of_range');
    // varint of 2^60
    expect(code(() => codec.decode(Uint8Array.of(0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10)))).toMatch(
      /codec\/(non_canonical|out_of_range)/,
    );
  });

  it('rejects truncated and garbage bytes with codec/malformed', () => {
    expect(code(() => codec.decode(Uint8Array.of(0x12, 0x05, 0x61)))).toBe('codec/malformed');
    expect(code(() => codec.decode(Uint8Array.of(0xff, 0xff, 0xff)))).toBe('codec/malformed');
  });

  it('refuses schemas with floats, maps or enums', () => {
    const bad = parseSchema(
      'syntax = "proto3"; package b; message F { double d = 1; } message G { map<string, uint32> m = 1; }',
    );
    expect(() => messageCodec(bad, 'b.F')).toThrow(/floating point/);
    expect(() => messageCodec(bad, 'b.G')).toThrow(/maps/);
  });

  it('gives a transaction body exactly one encoding', () => {
    const body: TxBody = {
      chain_id: 'c',
      sender_pubkey: new Uint8Array(32).fill(7),
      nonce: 3,
      fee: 1000n,
      type: 'bank/transfer',
      payload: Uint8Array.of(1),
    };
    const bytes = TxBodyCodec.encode(body);
    expect(TxBodyCodec.decode(bytes)).toEqual(body);
    expect(code(() => TxBodyCodec.decode(Uint8Array.of(...bytes, 0x38, 0x00)))).toBe('codec/non_canonical');
  });
});

describe('hex text', () => {
  const digits = '0123456789abcdefABCDEF';
  // Mostly hex digits, sometimes one of the characters a decoder might wrongly skip or accept.
  const text = fc
    .array(
      fc.oneof({ weight: 20, arbitrary: fc.constantFrom(...digits) }, fc.constantFrom('g', 'x', ' ', '-', 'é', '\0')),
      {
        maxLength: 40,
      },
    )
    .map((chars) => chars.join(''));

  it('is accepted exactly when it is an even run of hex digits after an optional 0x, and decodes to its bytes', () => {
    fc.assert(
      fc.property(fc.boolean(), text, (prefixed, typed) => {
        const input = (prefixed ? '0x' : '') + typed;
        const body = input.startsWith('0x') ? input.slice(2) : input;
        const valid = /^[0-9a-fA-F]*$/.test(body) && body.length % 2 === 0;
        let got: Uint8Array | string;
        try {
          got = fromHex(input);
        } catch (e) {
          got = (e as TributaryError).code;
        }
        if (!valid) return got === 'codec/invalid_hex';
        const want = Uint8Array.from({ length: body.length / 2 }, (_, i) =>
          Number.parseInt(body.slice(2 * i, 2 * i + 2), 16),
        );
        expect(got).toEqual(want);
        return true;
      }),
      { numRuns: 2_000 },
    );
  });
});
