import { describe, expect, it } from 'vitest';
import { TxBodyCodec, SignedTxCodec, VoteCodec, type Vote } from '../../src/codec/core.ts';
import { VoteType, voteSignBytesOf } from '../../src/codec/protocol.ts';
import { EvidenceCodec, VoteMessageCodec } from '../../src/consensus/messages.ts';
import { addressFromPublicKey } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { fail } from '../../src/errors.ts';
import { defaultRegistry } from '../../src/modules.ts';
import { DEFAULT_PARAMS } from '../../src/state/params.ts';
import { decodeTx, signTx } from '../../src/state/tx.ts';
import { fuzzTargets, splitInputs } from '../../scripts/fuzz.ts';
import { openGossipJudge } from '../../scripts/fuzz/gossip-target.ts';
import { guard, runTarget, type FuzzTarget } from '../../scripts/fuzz/harness.ts';
import { canonicalProblem } from '../../scripts/fuzz/wire.ts';

/*
 * The short fuzz run CI does (`npm run fuzz` is the long one): every target, a fixed seed,
 * 2,000 inputs each, and not one crash, uncoded error or wrong answer. Then the regressions the
 * long runs found, and proof that the harness does report what it is there to report.
 */

const SEED = process.env.FUZZ_SEED ?? 'ci-short';
const INPUTS = 2000;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code ?? 'uncoded';
  }
  return undefined;
}

describe('fuzz, short run', () => {
  for (const target of fuzzTargets()) {
    it(`${target.name}: ${INPUTS} inputs, no crash, no uncoded error, no other finding`, async () => {
      const report = await runTarget(target, { seed: SEED, inputs: INPUTS });
      expect(report.findings).toEqual([]);
      expect(report.inputs).toBe(INPUTS);
      // The inputs reach past the first check: some are accepted, some refused.
      const outcomes = Object.keys(report.outcomes);
      expect(outcomes.length).toBeGreaterThan(2);
    });
  }

  it('splits a total over the targets by weight, to the last input', () => {
    const targets = fuzzTargets();
    const counts = splitInputs(targets, 1_000_000);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1_000_000);
    expect(counts.every((n) => n > 0)).toBe(true);
  });

  it('reports an uncoded throw, a wrong code and a crash as findings, with the input', async () => {
    let n = 0;
    const target: FuzzTarget = {
      name: 'self-test',
      weight: 1,
      async open() {
        return {
          async close() {},
          async one(_rng, slot) {
            slot.input = Uint8Array.of(0xab, n);
            n++;
            if (n === 1) guard(['tx/'], 'uncoded', () => JSON.parse('{'));
            if (n === 2) guard(['tx/'], 'wrong module', () => fail('codec/malformed', 'not a tx error'));
            if (n === 3) throw new Error('escaped');
            return guard(['tx/'], 'coded', () => fail('tx/malformed', 'refused')).ok ? 'accepted' : 'refused';
          },
        };
      },
    };
    const report = await runTarget(target, { seed: SEED, inputs: 4 });
    expect(report.findings.map((f) => [f.kind, f.index, f.inputHex])).toEqual([
      ['uncoded_error', 0, 'ab00'],
      ['unexpected_code', 1, 'ab01'],
      ['crash', 2, 'ab02'],
    ]);
    expect([report.uncoded, report.otherFindings, report.crashes]).toEqual([1, 1, 1]);
    expect(report.outcomes.refused).toBe(1);
  });
});

describe('fuzz findings (regressions)', () => {
  // Finding 1: a string field holding an encoded surrogate (ED A0 80, which is not UTF-8) was
  // accepted as canonical, because protobufjs reads it as a lone surrogate and writes it back the
  // same way; and encoding a lone surrogate wrote either those bytes or, in a long string, U+FFFD.
  const encodedSurrogate = Uint8Array.from([0x0a, 0x03, 0xed, 0xa0, 0x80]);

  it('the oracle calls an encoded surrogate what it is', () => {
    expect(canonicalProblem(TxBodyCodec.plan, encodedSurrogate)).toBe('TxBody.chain_id: not valid UTF-8');
    expect(canonicalProblem(TxBodyCodec.plan, Uint8Array.from([0x0a, 0x01, 0x61]))).toBeUndefined();
  });

  it('decode refuses a string that is not UTF-8, encode a string that has no UTF-8 form', () => {
    expect(codeOf(() => TxBodyCodec.decode(encodedSurrogate))).toBe('codec/malformed');
    for (const chain_id of ['\ud800', 'a\udfffb', `${'x'.repeat(200)}\ud800`]) {
      expect(codeOf(() => TxBodyCodec.encode({ ...TxBodyCodec.empty(), chain_id }))).toBe('codec/out_of_range');
    }
    // A well-formed pair of surrogates is one code point and stays allowed.
    const fox = TxBodyCodec.encode({ ...TxBodyCodec.empty(), chain_id: '🦊' });
    expect(TxBodyCodec.decode(fox).chain_id).toBe('🦊');
  });

  it('decodeTx refuses a transaction whose body holds an encoded surrogate, with tx/malformed', () => {
    const key = new SigningKey(new Uint8Array(32).fill(7));
    const good = signTx(key, {
      chainId: 'fuzz-chain',
      nonce: 0,
      fee: 1n,
      type: 'bank/transfer',
      payload: new Uint8Array(0),
    });
    const body = SignedTxCodec.decode(good).body;
    // chain_id "fuzz-chain" becomes "fuzz-chai" + ED A0 80: same length prefix + 2, re-signed.
    const bad = Uint8Array.from([0x0a, 12, ...Buffer.from('fuzz-chai'), 0xed, 0xa0, 0x80, ...body.subarray(12)]);
    const signed = SignedTxCodec.encode({ body: bad, signature: new Uint8Array(64) });
    expect(
      codeOf(() =>
        decodeTx(signed, defaultRegistry(), { chainId: 'fuzz-chain', maxTxBytes: DEFAULT_PARAMS.maxTxBytes }),
      ),
    ).toBe('tx/malformed');
  });

  // Finding 2 (gossip target): a vote whose validator field is not 20 bytes reached the set lookup,
  // which threw address/invalid; verdictFor ignores that module's codes, so the sender of a
  // malformed vote was not penalised. The engine now refuses it as consensus/malformed_message.
  it('a vote or evidence naming a validator by a 19- or 21-byte address is rejected as malformed', async () => {
    const judge = await openGossipJudge();
    try {
      const key = judge.keys[0]!;
      const vote: Vote = {
        chain_id: 'fuzz-chain',
        type: VoteType.prevote,
        height: 1,
        round: 0,
        block_hash: new Uint8Array(32).fill(3),
      };
      const signed = (validator: Uint8Array, v = vote) => ({
        vote: VoteCodec.encode(v),
        validator,
        signature: key.sign(voteSignBytesOf(v)),
      });
      const address = addressFromPublicKey(key.publicKey);
      const good = VoteMessageCodec.encode({ vote: signed(address), resend: 0 });
      expect(await judge.verdict('vote', good)).toBe('accept');
      const other = { ...vote, block_hash: new Uint8Array(32).fill(4) };
      for (const bad of [address.subarray(0, 19), Uint8Array.of(...address, 0)]) {
        const msg = VoteMessageCodec.encode({ vote: signed(bad), resend: 0 });
        await expect(judge.check('vote', msg)).rejects.toMatchObject({ code: 'consensus/malformed_message' });
        expect(await judge.verdict('vote', msg)).toBe('reject');
        const evidence = EvidenceCodec.encode({ first: signed(bad), second: signed(bad, other) });
        await expect(judge.check('evidence', evidence)).rejects.toMatchObject({ code: 'consensus/malformed_message' });
        expect(await judge.verdict('evidence', evidence)).toBe('reject');
      }
    } finally {
      await judge.close();
    }
  });
});
