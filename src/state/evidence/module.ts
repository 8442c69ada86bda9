import { readFileSync } from 'node:fs';
import { messageCodec, parseSchema } from '../../codec/canonical.ts';
import { VoteCodec, type Vote } from '../../codec/core.ts';
import { isVoteType, voteSignBytesOf } from '../../codec/protocol.ts';
import { ADDRESS_LENGTH, formatAddress, type Address } from '../../crypto/address.ts';
import { verifyEd25519 } from '../../crypto/ed25519.ts';
import { bytesEqual, concatBytes, toHex, u32be, u64be, utf8 } from '../../crypto/hash.ts';
import { TributaryError, isTributaryError } from '../../errors.ts';
import { validatorsAt } from '../chainconfig/keeper.ts';
import type { Validator } from '../chainconfig/records.ts';
import { defineEvent } from '../events.ts';
import { schema as s } from '../json-schema.ts';
import type { ChainConfigKeeper } from '../chainconfig/keeper.ts';
import { expectKeeper, type Module, type TxDefinition } from '../module.ts';
import type { ChainParams } from '../params.ts';
import type { EvidenceMessages, EvidenceRecord, MsgSubmitEvidence } from './evidence.pb.ts';

export type { EvidenceRecord, MsgSubmitEvidence } from './evidence.pb.ts';

export type EvidenceErrorCode =
  | 'evidence/invalid'
  | 'evidence/bad_signature'
  | 'evidence/unknown_validator'
  | 'evidence/too_old'
  | 'evidence/duplicate';

/**
 * What the evidence module expects of whoever punishes a recorded double sign (the staking module:
 * slash, remove from the set, tombstone). Called once per recorded evidence, in the transaction
 * that records it; it must not fail for lack of stake.
 */
export interface DoubleSignPunisher {
  punishDoubleSign(
    at: { height: number; params: ChainParams; chainConfig: ChainConfigKeeper },
    validator: Validator,
  ): Promise<void>;
}

export const DOUBLE_SIGN_PUNISHER = expectKeeper<DoubleSignPunisher>('double_sign_punisher');

const schema = parseSchema<EvidenceMessages>(readFileSync(new URL('./evidence.proto', import.meta.url), 'utf8'));
export const MsgSubmitEvidenceCodec = messageCodec(schema, 'tributary.evidence.MsgSubmitEvidence');
export const EvidenceRecordCodec = messageCodec(schema, 'tributary.evidence.EvidenceRecord');

const PREFIX = utf8.encode('evidence/');

export function evidenceKey(validator: Address, height: number, round: number, type: number): Uint8Array {
  return concatBytes(PREFIX, validator, u64be(height), u32be(round), new Uint8Array([type]));
}

export const doubleSignEvent = defineEvent(
  'double_sign',
  'evidence that `validator` signed two different votes at one height, round and type',
  {
    validator: { kind: 'address', indexed: true },
    height: { kind: 'integer' },
    round: { kind: 'integer' },
    vote_type: { kind: 'integer' },
  },
);

function decodeVotes(m: MsgSubmitEvidence): [Vote, Vote] {
  let a: Vote;
  let b: Vote;
  try {
    a = VoteCodec.decode(m.first_vote);
    b = VoteCodec.decode(m.second_vote);
  } catch {
    throw new TributaryError('evidence/invalid', 'the votes are not canonical tributary.core.Vote bytes');
  }
  return [a, b];
}

export const submitEvidenceTx: TxDefinition<MsgSubmitEvidence> = {
  type: 'evidence/submit',
  codec: MsgSubmitEvidenceCodec,
  validateBasic(m) {
    if (m.validator.length !== ADDRESS_LENGTH)
      throw new TributaryError('evidence/invalid', 'validator must be a 20-byte address');
    const [a, b] = decodeVotes(m);
    const sameSlot = a.chain_id === b.chain_id && a.height === b.height && a.round === b.round && a.type === b.type;
    if (!sameSlot || !isVoteType(a.type))
      throw new TributaryError('evidence/invalid', 'the votes are not for one height, round and type');
    if (bytesEqual(a.block_hash, b.block_hash))
      throw new TributaryError('evidence/invalid', 'the votes do not conflict');
  },
  async execute(ctx, m) {
    const [a, b] = decodeVotes(m);
    if (a.chain_id !== ctx.chainId) throw new TributaryError('evidence/invalid', `votes for chain ${a.chain_id}`);
    if (a.height > ctx.height) throw new TributaryError('evidence/invalid', 'votes for a height not reached yet');
    let validators: Validator[];
    try {
      validators = await validatorsAt(ctx.store, a.height);
    } catch (e) {
      // The schedule keeps the set in force and later ones only.
      if (isTributaryError(e) && e.code === 'chainconfig/corrupt')
        throw new TributaryError('evidence/too_old', `the validator set of height ${a.height} is gone`);
      throw e;
    }
    const validator = validators.find((v) => bytesEqual(v.address, m.validator));
    if (!validator)
      throw new TributaryError(
        'evidence/unknown_validator',
        `${formatAddress(m.validator)} was not a validator at height ${a.height}`,
      );
    for (const [vote, signature] of [
      [a, m.first_signature],
      [b, m.second_signature],
    ] as const) {
      const signBytes = voteSignBytesOf(vote);
      if (!verifyEd25519(validator.publicKey, signBytes, signature))
        throw new TributaryError('evidence/bad_signature', 'a vote is not signed by the validator');
    }
    const key = evidenceKey(m.validator, a.height, a.round, a.type);
    if (await ctx.store.get(key))
      throw new TributaryError('evidence/duplicate', 'this double sign is already recorded');
    const record: EvidenceRecord = {
      height: a.height,
      round: a.round,
      vote_type: a.type,
      included_at: ctx.height,
      first_block_hash: a.block_hash,
      second_block_hash: b.block_hash,
    };
    ctx.store.set(key, EvidenceRecordCodec.encode(record));
    doubleSignEvent.emit(ctx, { validator: m.validator, height: a.height, round: a.round, vote_type: a.type });
    await ctx.keeper(DOUBLE_SIGN_PUNISHER).punishDoubleSign(ctx, validator);
  },
  view(m) {
    const [a, b] = decodeVotes(m);
    return {
      validator: formatAddress(m.validator),
      height: a.height,
      round: a.round,
      voteType: a.type,
      firstBlockHash: '0x' + toHex(a.block_hash),
      secondBlockHash: '0x' + toHex(b.block_hash),
    };
  },
};

function recordView(validator: Address, r: EvidenceRecord) {
  return {
    validator: formatAddress(validator),
    height: r.height,
    round: r.round,
    voteType: r.vote_type,
    includedAt: r.included_at,
    firstBlockHash: '0x' + toHex(r.first_block_hash),
    secondBlockHash: '0x' + toHex(r.second_block_hash),
  };
}

export const evidenceModule: Module = {
  name: 'evidence',
  expects: [DOUBLE_SIGN_PUNISHER],
  txs: [submitEvidenceTx],
  events: [doubleSignEvent],
  queries: [
    {
      method: 'evidence_list',
      description: 'double-sign evidence recorded against a validator (latest height)',
      params: [{ name: 'address', kind: 'address' }],
      cli: 'evidence',
      result: s.array(
        s.object({
          validator: s.address(),
          height: s.integer('the height both votes are for'),
          round: s.integer(),
          voteType: s.integer('1 prevote, 2 precommit'),
          includedAt: s.integer('the height the evidence was recorded at'),
          firstBlockHash: s.hash(),
          secondBlockHash: s.hash(),
        }),
      ),
      async handler(q, p) {
        const validator = p.address as Address;
        const out = [];
        for await (const [, value] of q.iterate(concatBytes(PREFIX, validator)))
          out.push(recordView(validator, EvidenceRecordCodec.decode(value)));
        return out;
      },
    },
  ],
};
