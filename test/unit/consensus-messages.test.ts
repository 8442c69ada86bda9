import { describe, expect, it } from 'vitest';
import { VoteCodec } from '../../src/codec/core.ts';
import { proposalSignBytes, VoteType, voteSignBytes } from '../../src/codec/protocol.ts';
import {
  ProposalCodec,
  ProposalMessageCodec,
  WalKind,
  WalRecordCodec,
  polRoundFromWire,
  polRoundToWire,
} from '../../src/consensus/messages.ts';
import { isTributaryError } from '../../src/errors.ts';

const hash = new Uint8Array(32).fill(7);

describe('consensus messages', () => {
  it('encodes the paper polRound -1 as pol_round_plus_one 0 (omitted) and round n as n + 1', () => {
    const none = ProposalCodec.encode({
      chain_id: 'c',
      height: 5,
      round: 2,
      pol_round_plus_one: polRoundToWire(-1),
      block_hash: hash,
    });
    const decoded = ProposalCodec.decode(none);
    expect(polRoundFromWire(decoded.pol_round_plus_one)).toBe(-1);
    const locked = ProposalCodec.decode(ProposalCodec.encode({ ...decoded, pol_round_plus_one: polRoundToWire(0) }));
    expect(polRoundFromWire(locked.pol_round_plus_one)).toBe(0);
    expect(locked.pol_round_plus_one).toBe(1);
  });

  it('proposal sign bytes are domain-separated from vote sign bytes of the same fields', () => {
    const vote = { chainId: 'c', type: VoteType.prevote, height: 5, round: 2, blockHash: hash } as const;
    const proposalBytes = ProposalCodec.encode({
      chain_id: 'c',
      height: 5,
      round: 2,
      pol_round_plus_one: 0,
      block_hash: hash,
    });
    const p = proposalSignBytes(proposalBytes);
    const v = voteSignBytes(vote);
    expect(Buffer.from(p).toString('latin1')).toMatch(/^tributary\/proposal\/v1\0/);
    expect(Buffer.from(v).toString('latin1')).toMatch(/^tributary\/vote\/v2\0/);
    expect(Buffer.from(p.subarray(22)).equals(Buffer.from(proposalBytes))).toBe(true);
    expect(Buffer.from(v).equals(Buffer.from(p))).toBe(false);
    expect(VoteCodec.decode(v.subarray(18)).round).toBe(2);
  });

  it('a gossip envelope that differs only in resend is other bytes (so a re-broadcast passes gossipsub dedup)', () => {
    const proposal = { proposal: new Uint8Array([1]), signature: new Uint8Array(64) };
    const a = ProposalMessageCodec.encode({ proposal, resend: 0 });
    const b = ProposalMessageCodec.encode({ proposal, resend: 1 });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(ProposalMessageCodec.decode(b).proposal?.signature.length).toBe(64);
  });

  it('refuses a WAL record that does not re-encode to itself (a default written out)', () => {
    const good = WalRecordCodec.encode({
      kind: WalKind.timeout,
      proposal: undefined,
      block: new Uint8Array(),
      valid: false,
      vote: undefined,
      timeout_step: 2,
      round: 3,
    });
    expect(WalRecordCodec.decode(good).round).toBe(3);
    // field 4 (valid) = false written explicitly: not canonical
    const padded = new Uint8Array([...good, 0x20, 0x00]);
    let code = '';
    try {
      WalRecordCodec.decode(padded);
    } catch (e) {
      if (isTributaryError(e)) code = e.code;
    }
    expect(code).toMatch(/^codec\//);
  });
});
