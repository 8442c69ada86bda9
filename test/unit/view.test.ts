import { readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { messageCodec, parseSchema } from '../../src/codec/canonical.ts';
import {
  BlockCodec,
  BlockHeaderCodec,
  CommitCodec,
  ReceiptCodec,
  type BlockHeader,
  type Commit,
  type CoreMessages,
  type Receipt,
} from '../../src/codec/core.ts';
import { viewOf } from '../../src/codec/view.ts';
import { commitView } from '../../src/rpc/views.ts';
import { TributaryError } from '../../src/errors.ts';

const fill = (n: number, byte: number): Uint8Array => new Uint8Array(n).fill(byte);
const PROPOSER = fill(20, 0xab);
const PROPOSER_TEXT = 'trib14w46h2at4w46h2at4w46h2at4w46h2atqyzsrg';
const VALIDATOR = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
const VALIDATOR_TEXT = 'trib1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5rg5m5f';

const header: BlockHeader = {
  chain_id: 'tributary-test',
  height: 7,
  time_ms: 1_700_000_000_123,
  parent_hash: fill(32, 0x01),
  proposer: PROPOSER,
  txs_root: fill(32, 0x02),
  state_root: fill(32, 0x03),
  results_root: fill(32, 0x04),
  validators_hash: fill(32, 0x05),
  last_commit_hash: new Uint8Array(0),
  next_validators_hash: fill(32, 0x06),
};

const commit: Commit = {
  height: 6,
  round: 1,
  block_hash: fill(32, 0x0c),
  signatures: [{ validator: VALIDATOR, signature: fill(64, 0x0d) }],
};

const hex = (n: number, byte: number): string => '0x' + byte.toString(16).padStart(2, '0').repeat(n);

describe('derived JSON views', () => {
  it('a BlockHeader: camelCase names, 0x-hex bytes, bech32 for (address), empty bytes null, numbers as they are', () => {
    expect(viewOf(BlockHeaderCodec, header)).toStrictEqual({
      chainId: 'tributary-test',
      height: 7,
      timeMs: 1_700_000_000_123,
      parentHash: hex(32, 0x01),
      proposer: PROPOSER_TEXT,
      txsRoot: hex(32, 0x02),
      stateRoot: hex(32, 0x03),
      resultsRoot: hex(32, 0x04),
      validatorsHash: hex(32, 0x05),
      lastCommitHash: null,
      nextValidatorsHash: hex(32, 0x06),
    });
  });

  it('a Receipt: amounts as decimal strings (beyond 64 bits too), booleans, repeated messages recursively', () => {
    const receipt: Receipt = {
      tx_hash: fill(32, 0xee),
      failed: true,
      error_code: 'bank/insufficient_funds',
      error_message: 'not enough',
      fee: 2n ** 70n + 5n,
      events: [
        {
          type: 'transfer',
          attributes: [
            { key: 'amount', value: '10' },
            { key: 'to', value: VALIDATOR_TEXT },
          ],
        },
        { type: 'empty', attributes: [] },
      ],
    };
    const view = viewOf(ReceiptCodec, receipt);
    expect(view).toStrictEqual({
      txHash: hex(32, 0xee),
      failed: true,
      errorCode: 'bank/insufficient_funds',
      errorMessage: 'not enough',
      fee: '1180591620717411303429',
      events: [
        {
          type: 'transfer',
          attributes: [
            { key: 'amount', value: '10' },
            { key: 'to', value: VALIDATOR_TEXT },
          ],
        },
        { type: 'empty', attributes: [] },
      ],
    });
    expect(viewOf(ReceiptCodec, ReceiptCodec.empty())).toStrictEqual({
      txHash: null,
      failed: false,
      errorCode: '',
      errorMessage: '',
      fee: '0',
      events: [],
    });
    expectTypeOf(view).toEqualTypeOf<{
      txHash: string | null;
      failed: boolean;
      errorCode: string;
      errorMessage: string;
      fee: string;
      events: { type: string; attributes: { key: string; value: string }[] }[];
    }>();
  });

  it('a Block: nested messages recursively, an absent one null, repeated bytes as hex', () => {
    const view = viewOf(BlockCodec, {
      header,
      proposer_signature: fill(64, 0x07),
      txs: [fill(2, 0x08), new Uint8Array(0)],
      last_commit: undefined,
    });
    expect(view.header).toStrictEqual(viewOf(BlockHeaderCodec, header));
    expect(view.proposerSignature).toBe(hex(64, 0x07));
    expect(view.txs).toStrictEqual(['0x0808', null]);
    expect(view.lastCommit).toBeNull();
    expect(
      viewOf(BlockCodec, { ...BlockCodec.empty(), last_commit: commit }).lastCommit?.signatures[0]?.validator,
    ).toBe(VALIDATOR_TEXT);
  });

  it('a Commit derives exactly the hand-written commitView', () => {
    expect(viewOf(CommitCodec, commit)).toStrictEqual(commitView(commit));
  });

  it('an (address) field that is not 20 bytes throws address/invalid', () => {
    let caught: unknown;
    try {
      viewOf(BlockHeaderCodec, { ...header, proposer: fill(19, 1) });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(TributaryError);
    expect((caught as TributaryError).code).toBe('address/invalid');
  });

  it('refuses a message whose fields would collide in camelCase', () => {
    const root = parseSchema('syntax = "proto3"; package v; message M { uint32 a_b = 1; uint32 aB = 2; }');
    expect(() => viewOf(messageCodec<{ a_b: number; aB: number }>(root, 'v.M'), { a_b: 1, aB: 2 })).toThrow(
      /both view as aB/,
    );
  });
});

describe('(address) is presentation only', () => {
  it('core.proto encodes the same bytes with its (address) marks removed', () => {
    const source = readFileSync(new URL('../../src/codec/core.proto', import.meta.url), 'utf8');
    const unmarked = source.replaceAll(' [(address) = true]', '');
    expect(unmarked).not.toBe(source);
    const plain = parseSchema<CoreMessages>(unmarked);
    expect(messageCodec(plain, 'tributary.core.BlockHeader').encode(header)).toEqual(BlockHeaderCodec.encode(header));
    expect(messageCodec(plain, 'tributary.core.Commit').encode(commit)).toEqual(CommitCodec.encode(commit));
    expect(BlockHeaderCodec.plan.fields.filter((f) => f.address).map((f) => f.name)).toEqual(['proposer']);
    expect(messageCodec(plain, 'tributary.core.BlockHeader').plan.fields.some((f) => f.address)).toBe(false);
  });
});
