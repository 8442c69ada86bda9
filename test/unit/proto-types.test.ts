import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { findProtoFiles, generateAll, generatedPath, generateTypes, SRC_DIR } from '../../scripts/proto-types.ts';
import { messageCodec, parseSchema, type MessageCodec } from '../../src/codec/canonical.ts';
import { coreSchema, TxBodyCodec, type TxBody } from '../../src/codec/core.ts';
import { AccountCodec, type Account } from '../../src/state/bank/keeper.ts';

function generatedFilesOnDisk(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...generatedFilesOnDisk(path));
    else if (entry.name.endsWith('.pb.ts')) found.push(path);
  }
  return found.sort();
}

describe('generated .pb.ts files', () => {
  it.each(findProtoFiles().map((path) => [relative(SRC_DIR, path)]))(
    '%s: the committed .pb.ts is what npm run proto writes',
    (rel) => {
      const proto = join(SRC_DIR, rel);
      const [file] = generateAll().filter((f) => f.path === generatedPath(proto));
      expect(file, `${rel} produced no file`).toBeDefined();
      let committed: string | undefined;
      try {
        committed = readFileSync(file!.path, 'utf8');
      } catch {
        committed = undefined;
      }
      expect(committed, `${relative(SRC_DIR, file!.path)} is stale or missing: run npm run proto`).toBe(file!.text);
    },
  );

  it('every .pb.ts under src/ has its .proto beside it', () => {
    const expected = findProtoFiles().map(generatedPath).sort();
    expect(generatedFilesOnDisk(SRC_DIR)).toEqual(expected);
  });
});

describe('the generator follows the canonical codec rules', () => {
  it('maps every field kind to the type the codec produces', () => {
    const source = `
syntax = "proto3";
package t.sample;
// A sample.
message Sample {
  uint32 a = 1;
  uint64 b = 2;
  int32 c = 3;
  sint64 d = 4;
  fixed64 e = 5;
  sfixed32 f = 6;
  bool flag = 7;
  string text = 8;
  bytes raw = 9;          // any bytes
  bytes amount = 10 [(amount) = true];
  bytes owner = 11 [(address) = true];
  repeated uint64 ids = 12;
  repeated bytes amounts = 13 [(amount) = true];
  Sample_Inner one = 14;
  repeated Sample.Inner many = 15;
  message Inner {
    string x = 1;
  }
}
message Sample_Inner {
  string y = 1;
}`;
    expect(() => generateTypes(source, 'sample.proto')).toThrow(/both be named Sample_Inner/);
    const text = generateTypes(source.replace(/Sample_Inner/g, 'Other'), 'sample.proto');
    expect(text).toBe(`// generated from sample.proto by \`npm run proto\`; do not edit

/** A sample. */
export interface Sample {
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
  f: number;
  flag: boolean;
  text: string;
  /** any bytes */
  raw: Uint8Array;
  amount: bigint;
  owner: Uint8Array;
  ids: number[];
  amounts: bigint[];
  one: Other | undefined;
  many: Sample_Inner[];
}

export interface Sample_Inner {
  x: string;
}

export interface Other {
  y: string;
}

export interface SampleMessages {
  't.sample.Sample': Sample;
  't.sample.Sample.Inner': Sample_Inner;
  't.sample.Other': Other;
}
`);
  });

  it('refuses what the codec refuses', () => {
    const refused: [string, RegExp][] = [
      ['enum E { E_ZERO = 0; } message M { E e = 1; }', /enums/],
      ['message M { map<string, uint32> m = 1; }', /maps/],
      ['message M { oneof o { uint32 a = 1; string b = 2; } }', /oneof/],
      ['message M { double d = 1; }', /floating point/],
      ['message M { string s = 1 [(address) = true]; }', /\(address\) needs bytes/],
      ['message M { bytes b = 1 [(address) = true, (amount) = true]; }', /\(address\) needs bytes/],
    ];
    for (const [body, why] of refused) {
      expect(() => generateTypes(`syntax = "proto3"; package r; ${body}`, 'r.proto'), body).toThrow(why);
    }
  });
});

describe('the message name selects the codec type', () => {
  it('types codecs from the generated map', () => {
    expectTypeOf(TxBodyCodec).toEqualTypeOf<MessageCodec<TxBody>>();
    expectTypeOf(messageCodec(coreSchema, 'tributary.core.TxBody')).toEqualTypeOf<MessageCodec<TxBody>>();
    expectTypeOf(AccountCodec).toEqualTypeOf<MessageCodec<Account>>();
    expect(TxBodyCodec.typeName).toBe('tributary.core.TxBody');
  });

  it('a misspelled message name or field does not compile', () => {
    // @ts-expect-error: core.proto has no message TxBdy
    expect(() => messageCodec(coreSchema, 'tributary.core.TxBdy')).toThrow(/no such type/);
    // @ts-expect-error: on a typed root the name gives the type; an explicit one is refused
    messageCodec<TxBody>(coreSchema, 'tributary.core.TxBody');
    const body = TxBodyCodec.empty();
    // @ts-expect-error: the field is chain_id, as in core.proto
    expect(body.chainId).toBeUndefined();
    const bytes = TxBodyCodec.encode({
      chain_id: 'c',
      sender_pubkey: new Uint8Array(32),
      nonce: 1,
      fee: 0n,
      // @ts-expect-error: a literal with a misspelled field (`typ`) is not a TxBody
      typ: 'bank/transfer',
      payload: new Uint8Array(),
    });
    expect(TxBodyCodec.decode(bytes).type).toBe('');
  });

  it('an untyped root still takes the type by hand', () => {
    const root = parseSchema('syntax = "proto3"; package u; message M { uint64 n = 1; }');
    const codec = messageCodec<{ n: number }>(root, 'u.M');
    expectTypeOf(codec).toEqualTypeOf<MessageCodec<{ n: number }>>();
    expect(codec.decode(codec.encode({ n: 7 }))).toEqual({ n: 7 });
  });
});
