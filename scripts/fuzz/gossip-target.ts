import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignedTxCodec, TxBodyCodec, VoteCodec, type Vote } from '../../src/codec/core.ts';
import { VoteType, isVoteType, proposalSignBytes, voteSignBytesOf } from '../../src/codec/protocol.ts';
import { BftEngine, bftVerdict } from '../../src/consensus/bft-engine.ts';
import {
  EvidenceCodec,
  ProposalCodec,
  ProposalMessageCodec,
  TxBatchCodec,
  VoteMessageCodec,
  polRoundFromWire,
  type Proposal,
  type SignedVote,
} from '../../src/consensus/messages.ts';
import { GossipMempool } from '../../src/consensus/tx-gossip.ts';
import { ValidatorSet } from '../../src/consensus/validator-set.ts';
import { ConsensusWal } from '../../src/consensus/wal.ts';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { SigningKey, verifyEd25519 } from '../../src/crypto/ed25519.ts';
import { bytesEqual, toHex } from '../../src/crypto/hash.ts';
import { TributaryError, type ErrorCode } from '../../src/errors.ts';
import { parseGenesis } from '../../src/genesis.ts';
import { chainSyncSource, openChain, type OpenedChain } from '../../src/node.ts';
import {
  verdictFor,
  type GossipDeliver,
  type GossipTopic,
  type GossipValidator,
  type HandlerLimits,
  type P2pNetwork,
  type RequestHandler,
} from '../../src/p2p/network.ts';
import { DEFAULT_PARAMS } from '../../src/state/params.ts';
import { decodeTx } from '../../src/state/tx.ts';
import { MemoryKvStore } from '../../src/storage/db.ts';
import { Finding, guardAsync, type FuzzTarget } from './harness.ts';
import type { Rng } from './rng.ts';
import { FUZZ_CHAIN_ID, txErrorPrefixes } from './tx-target.ts';
import { fuzzKeys, generateTx } from './txs.ts';
import { canonicalProblem, encodeVarintBig, mutateN } from './wire.ts';

/*
 * BFT gossip (proposals, votes, evidence, transaction batches) through the node's own validators:
 * a real BftEngine (a full node: it verifies, never signs) and a real GossipMempool on a real
 * chain of four validators, over a network interface played by the fuzzer, which keeps the
 * validator each of them registers with `onGossip` and feeds it messages. Those validators are
 * the one place a raw message becomes accept / ignore / reject (`validateGossip` -> `bftVerdict`
 * -> `verdictFor`).
 *
 * Inputs: messages signed by the validators' real keys, then left alone, changed in one field and
 * re-signed with the right key (wrong chain id, height, round, vote type, proof-of-lock round,
 * block-hash length, signer), or mutated as bytes (bit flips, truncation, duplicated fields,
 * oversized, ... from wire.ts) with or without re-signing. Findings: an uncoded error or a code of
 * another module out of the engine's checks (they are called directly too, since the verdict
 * function turns every error into a verdict); the registered validator and the check disagreeing;
 * a valid message refused; an accepted message that is not canonical, not for this chain, height
 * and round, or not signed by the validator it must be signed by; a message broken in a way that
 * is the sender's fault (wrong chain, bad signature, unknown signer, malformed) not rejected.
 * Deliver is never called: the engine stays at height 1, round 0 (timeouts of days), so a message
 * judged once is judged the same way again and an input replays alone.
 */

const CHECK_CODES = ['codec/', 'consensus/'];
const VALIDATORS = 4;
const NEVER_MS = 2 ** 30;
/** The engine ignores rounds further ahead than this (bft-engine.ts MAX_ROUND_AHEAD). */
const MAX_ROUND_AHEAD = 100;
/** A gossip message of the size gossipsub would drop, which the codec must still refuse or take without harm. */
const OVERSIZED = 1 << 20;

type Verdict = 'accept' | 'ignore' | 'reject';

/** The network as the engine and the gossip mempool see it; the fuzzer holds the validators they register. */
class GossipBench implements P2pNetwork {
  readonly peerId = 'fuzz-self';
  readonly validators = new Map<GossipTopic, GossipValidator>();
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  listenAddresses(): string[] {
    return [];
  }
  peers(): string[] {
    return [];
  }
  async publish(): Promise<void> {}
  onGossip(topic: GossipTopic, validate: GossipValidator, _deliver: GossipDeliver): void {
    this.validators.set(topic, validate);
  }
  async handle(_protocol: string, _handler: RequestHandler, _limits: HandlerLimits): Promise<void> {}
  async request(): Promise<Uint8Array[]> {
    return [];
  }
  onPeer(): void {}
  async disconnect(): Promise<void> {}
  peerScore(): number {
    return 0;
  }
}

/** The engine's checks behind its gossip validators, called directly to see what they throw. */
interface EngineChecks {
  parseProposal(data: Uint8Array): Promise<unknown>;
  parseVote(data: Uint8Array): Promise<unknown>;
  checkEvidence(data: Uint8Array): Promise<unknown>;
}

/** One generated message: its bytes, how it was made, and what the verdict must (or must not) be. */
interface Sample {
  bytes: Uint8Array;
  shape: string;
  /** 'accept': a valid message; 'reject': the sender's fault whatever our state; 'not_accept': ignore or reject. */
  expect?: 'accept' | 'reject' | 'not_accept';
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A length-delimited field `field` holding `payload`, as protobuf writes it. */
function lengthField(field: number, payload: Uint8Array): Uint8Array {
  return concat(
    Uint8Array.from(encodeVarintBig(BigInt((field << 3) | 2))),
    Uint8Array.from(encodeVarintBig(BigInt(payload.length))),
    payload,
  );
}

/** The judge of gossip messages: the engine and gossip mempool of a full node, their registered validators. */
export interface GossipJudge {
  keys: SigningKey[];
  stranger: SigningKey;
  senders: SigningKey[];
  set: ValidatorSet;
  engine: BftEngine;
  opened: OpenedChain;
  /** The engine's check alone (what it throws), for proposal, vote and evidence messages. */
  check(topic: 'proposal' | 'vote' | 'evidence', data: Uint8Array): Promise<unknown>;
  /** The validator registered for `topic`: the node's verdict. */
  verdict(topic: GossipTopic, data: Uint8Array): Promise<Verdict>;
  close(): Promise<void>;
}

export async function openGossipJudge(): Promise<GossipJudge> {
  const keys = Array.from({ length: VALIDATORS }, (_, i) => new SigningKey(new Uint8Array(32).fill(0xa1 + i)));
  const stranger = new SigningKey(new Uint8Array(32).fill(0xb7));
  const senders = fuzzKeys(4);
  const genesis = parseGenesis({
    chainId: FUZZ_CHAIN_ID,
    genesisTimeMs: 1_700_000_000_000,
    validators: keys.map((k, i) => ({ name: `v${i}`, publicKey: toHex(k.publicKey), power: 1 + (i % 2) })),
    accounts: senders.map((k) => ({
      address: formatAddress(addressFromPublicKey(k.publicKey)),
      balance: '1000000000000000',
    })),
  });
  const opened = await openChain({ db: new MemoryKvStore(), genesis });
  const { app, chain } = opened;
  const set = new ValidatorSet(genesis.validators);
  const net = new GossipBench();
  const mempool = new GossipMempool(app, { maxTxs: 5000, maxBytes: 16 << 20 });
  mempool.attach(net);
  const walDir = mkdtempSync(join(tmpdir(), 'tributary-fuzz-gossip-'));
  const wal = await ConsensusWal.open(walDir);
  const engine = new BftEngine({
    chain,
    mempool,
    network: net,
    wal,
    timeouts: {
      proposeMs: NEVER_MS,
      prevoteMs: NEVER_MS,
      precommitMs: NEVER_MS,
      deltaMs: NEVER_MS,
      maxMs: NEVER_MS,
      commitWaitMs: NEVER_MS,
    },
    rebroadcastMs: NEVER_MS,
    syncSource: chainSyncSource(chain),
  });
  await engine.start();
  const checks = engine as unknown as EngineChecks;
  return {
    keys,
    stranger,
    senders,
    set,
    engine,
    opened,
    check: (topic, data) =>
      topic === 'proposal'
        ? checks.parseProposal(data)
        : topic === 'vote'
          ? checks.parseVote(data)
          : checks.checkEvidence(data),
    verdict: (topic, data) => net.validators.get(topic)!(data, 'fuzz-peer'),
    async close() {
      await engine.stop();
      await wal.close();
      rmSync(walDir, { recursive: true, force: true });
    },
  };
}

export function gossipTarget(): FuzzTarget {
  return {
    name: 'gossip',
    weight: 0.1,
    async open() {
      const judge = await openGossipJudge();
      const { keys, stranger, senders, set, engine } = judge;
      const { app, chain } = judge.opened;
      const keyOf = new Map(keys.map((k) => [toHex(addressFromPublicKey(k.publicKey)), k]));
      const registry = app.registry;
      const txAllowed = txErrorPrefixes(registry);
      const txOpts = { chainId: FUZZ_CHAIN_ID, maxTxBytes: DEFAULT_PARAMS.maxTxBytes };

      // ---- generators: a valid message, then one field changed and re-signed with the right key

      const height = (rng: Rng) => (rng.chance(0.8) ? 1 : 2);
      const hash = (rng: Rng) => rng.bytes(32);

      const signProposal = (p: Proposal, key: SigningKey, resend: number): Uint8Array => {
        const proposal = ProposalCodec.encode(p);
        return ProposalMessageCodec.encode({
          proposal: { proposal, signature: key.sign(proposalSignBytes(proposal)) },
          resend,
        });
      };
      const proposerKey = (h: number, r: number) => keyOf.get(toHex(set.proposer(h, r).address))!;

      const proposal = (rng: Rng): Sample => {
        const round = rng.chance(0.7) ? rng.int(4) : rng.int(MAX_ROUND_AHEAD + 1);
        const p: Proposal = {
          chain_id: FUZZ_CHAIN_ID,
          height: height(rng),
          round,
          pol_round_plus_one: rng.int(round + 1),
          block_hash: hash(rng),
        };
        const resend = rng.chance(0.8) ? 0 : rng.safeInt();
        const kind = rng.int(10);
        const bad = <K extends keyof Proposal>(field: K, value: Proposal[K]) => ({ ...p, [field]: value });
        switch (kind) {
          case 0:
            return {
              bytes: signProposal(
                bad('chain_id', rng.pick(['', 'other', `${FUZZ_CHAIN_ID}x`])),
                proposerKey(p.height, round),
                resend,
              ),
              shape: 'proposal:wrong_chain',
              expect: 'reject',
            };
          case 1: {
            const h = rng.pick([0, 3, 4, 1000, Number.MAX_SAFE_INTEGER]);
            // Signed by that height's slot owner in our set: only the height is wrong.
            return {
              bytes: signProposal(bad('height', h), proposerKey(h, round), resend),
              shape: 'proposal:wrong_height',
              expect: 'not_accept',
            };
          }
          case 2: {
            const r = rng.pick([MAX_ROUND_AHEAD + 1, 1000, 2 ** 32 - 1]);
            const q = { ...p, height: 1, round: r };
            return {
              bytes: signProposal(q, proposerKey(1, r), resend),
              shape: 'proposal:far_round',
              expect: 'not_accept',
            };
          }
          case 3:
            return {
              bytes: signProposal(
                bad('pol_round_plus_one', round + 1 + rng.int(3)),
                proposerKey(p.height, round),
                resend,
              ),
              shape: 'proposal:pol_round_not_before',
              expect: 'reject',
            };
          case 4:
            return {
              bytes: signProposal(
                bad('block_hash', rng.bytes(rng.pick([0, 1, 31, 33, 64]))),
                proposerKey(p.height, round),
                resend,
              ),
              shape: 'proposal:bad_hash_length',
              expect: 'reject',
            };
          case 5: {
            // Signed by a validator that is not this round's proposer, or by a stranger.
            const proposer = proposerKey(p.height, round);
            const other = rng.chance(0.7) ? rng.pick(keys.filter((k) => k !== proposer)) : stranger;
            return { bytes: signProposal(p, other, resend), shape: 'proposal:wrong_signer', expect: 'reject' };
          }
          case 6: {
            // The proposal bytes mutated, then signed by the right proposer: only canonical bytes may pass.
            const inner = mutateN(rng, ProposalCodec.encode(p), rng.bytes(8)).bytes;
            const key = proposerKey(p.height, round);
            return {
              bytes: ProposalMessageCodec.encode({
                proposal: { proposal: inner, signature: key.sign(proposalSignBytes(inner)) },
                resend,
              }),
              shape: 'proposal:inner_resigned',
            };
          }
          default:
            return {
              bytes: signProposal(p, proposerKey(p.height, round), resend),
              shape: 'proposal:valid',
              expect: 'accept',
            };
        }
      };

      const signVote = (
        v: Vote,
        key: SigningKey,
        named: SigningKey,
        resend: number,
      ): { msg: Uint8Array; signed: SignedVote } => {
        const signed: SignedVote = {
          vote: VoteCodec.encode(v),
          validator: addressFromPublicKey(named.publicKey),
          // No sign bytes exist for an unknown vote type: any signature, the type check comes first.
          signature: isVoteType(v.type) ? key.sign(voteSignBytesOf(v)) : key.sign(VoteCodec.encode(v)),
        };
        return { msg: VoteMessageCodec.encode({ vote: signed, resend }), signed };
      };

      const vote = (rng: Rng): Sample => {
        const v: Vote = {
          chain_id: FUZZ_CHAIN_ID,
          type: rng.bool() ? VoteType.prevote : VoteType.precommit,
          height: height(rng),
          round: rng.chance(0.7) ? rng.int(4) : rng.int(MAX_ROUND_AHEAD + 1),
          block_hash: rng.chance(0.8) ? hash(rng) : new Uint8Array(0),
        };
        const key = rng.pick(keys);
        const resend = rng.chance(0.8) ? 0 : rng.safeInt();
        const sign = (w: Vote, signer = key, named = key) => signVote(w, signer, named, resend).msg;
        switch (rng.int(10)) {
          case 0:
            return {
              bytes: sign({ ...v, chain_id: rng.pick(['', 'other', `${FUZZ_CHAIN_ID} `]) }),
              shape: 'vote:wrong_chain',
              expect: 'reject',
            };
          case 1:
            return {
              bytes: sign({ ...v, height: rng.pick([0, 3, 7, Number.MAX_SAFE_INTEGER]) }),
              shape: 'vote:wrong_height',
              expect: 'not_accept',
            };
          case 2:
            return {
              bytes: sign({ ...v, height: 1, round: rng.pick([MAX_ROUND_AHEAD + 1, 5000, 2 ** 32 - 1]) }),
              shape: 'vote:far_round',
              expect: 'not_accept',
            };
          case 3:
            return {
              bytes: sign({ ...v, type: rng.pick([0, 3, 4, 255, 2 ** 32 - 1]) }),
              shape: 'vote:wrong_type',
              expect: 'reject',
            };
          case 4:
            return {
              bytes: sign({ ...v, block_hash: rng.bytes(rng.pick([1, 20, 31, 33, 64])) }),
              shape: 'vote:bad_hash_length',
              expect: 'reject',
            };
          case 5: {
            // Names one validator, signed by another; or a stranger naming itself.
            const other = rng.pick(keys.filter((k) => k !== key));
            return rng.chance(0.6)
              ? { bytes: sign(v, other, key), shape: 'vote:wrong_signer', expect: 'reject' }
              : { bytes: sign(v, stranger, stranger), shape: 'vote:not_a_validator', expect: 'reject' };
          }
          case 6: {
            const inner = mutateN(rng, VoteCodec.encode(v), rng.bytes(8)).bytes;
            // Signed over what the mutated bytes decode to (when they do), so the checks after the signature run.
            let signature = rng.bytes(64);
            try {
              signature = key.sign(voteSignBytesOf(VoteCodec.decode(inner)));
            } catch {
              // undecodable: the engine must refuse it at the codec
            }
            return {
              bytes: VoteMessageCodec.encode({
                vote: { vote: inner, validator: addressFromPublicKey(key.publicKey), signature },
                resend,
              }),
              shape: 'vote:inner_resigned',
            };
          }
          default:
            return { bytes: sign(v), shape: 'vote:valid', expect: 'accept' };
        }
      };

      const evidence = (rng: Rng): Sample => {
        const key = rng.pick(keys);
        const base: Vote = {
          chain_id: FUZZ_CHAIN_ID,
          type: rng.bool() ? VoteType.prevote : VoteType.precommit,
          height: height(rng),
          round: rng.int(4),
          block_hash: hash(rng),
        };
        const second: Vote = { ...base, block_hash: rng.chance(0.8) ? hash(rng) : new Uint8Array(0) };
        const sv = (w: Vote, signer = key) => signVote(w, signer, key, 0).signed;
        switch (rng.int(6)) {
          case 0:
            return {
              bytes: EvidenceCodec.encode({ first: sv(base), second: sv(base) }),
              shape: 'evidence:no_conflict',
              expect: 'reject',
            };
          case 1:
            return {
              bytes: EvidenceCodec.encode({ first: sv(base), second: sv({ ...second, round: base.round + 1 }) }),
              shape: 'evidence:other_position',
              expect: 'reject',
            };
          case 2:
            return {
              bytes: EvidenceCodec.encode({
                first: sv(base),
                second: sv(second, rng.pick(keys.filter((k) => k !== key))),
              }),
              shape: 'evidence:wrong_signer',
              expect: 'reject',
            };
          case 3:
            return {
              bytes: EvidenceCodec.encode({
                first: sv({ ...base, chain_id: 'other' }),
                second: sv({ ...second, chain_id: 'other' }),
              }),
              shape: 'evidence:wrong_chain',
              expect: 'reject',
            };
          default:
            return {
              bytes: EvidenceCodec.encode({ first: sv(base), second: sv(second) }),
              shape: 'evidence:valid',
              expect: 'accept',
            };
        }
      };

      const txBatch = (rng: Rng): Sample => {
        const txs = Array.from(
          { length: rng.range(1, 4) },
          () =>
            generateTx(rng, registry, senders, FUZZ_CHAIN_ID, txAllowed, rng.chance(0.5) ? rng.int(3) : undefined)
              .bytes,
        );
        if (rng.chance(0.3)) {
          const i = rng.int(txs.length);
          txs[i] = mutateN(rng, txs[i]!, rng.pick(txs)).bytes;
          return { bytes: TxBatchCodec.encode({ txs }), shape: 'tx:one_mutated' };
        }
        return { bytes: TxBatchCodec.encode({ txs }), shape: 'tx:generated' };
      };

      const generators: Record<'proposal' | 'vote' | 'evidence' | 'tx', (rng: Rng) => Sample> = {
        proposal,
        vote,
        evidence,
        tx: txBatch,
      };

      /** Byte-level damage to a whole message: wire.ts mutations, oversize, a duplicated field, truncation. */
      const damage = (rng: Rng, s: Sample, other: Uint8Array): Sample => {
        const k = rng.int(10);
        if (k === 0)
          return {
            bytes: concat(s.bytes, rng.bytes(OVERSIZED + rng.int(1024))),
            shape: `${s.shape}+oversized`,
            expect: 'reject',
          };
        if (k === 1) {
          // The first field again: protobuf would merge or overwrite, the canonical codec must refuse
          // (in a TxBatch field 1 is repeated: a second copy is more transactions, no expectation).
          const fields = lengthField(1, rng.bytes(rng.length(64)));
          return {
            bytes: concat(s.bytes, rng.bool() ? s.bytes : fields),
            shape: `${s.shape}+duplicated`,
            expect: s.shape.startsWith('tx:') ? undefined : 'reject',
          };
        }
        if (k === 2 && s.bytes.length > 1)
          return { bytes: s.bytes.subarray(0, rng.int(s.bytes.length)), shape: `${s.shape}+truncated` };
        return { bytes: mutateN(rng, s.bytes, other).bytes, shape: `${s.shape}+mutated` };
      };

      // ---- oracles: what an accepted message must be

      const acceptedProposalProblem = (bytes: Uint8Array): string | undefined => {
        const problem = canonicalProblem(ProposalMessageCodec.plan, bytes);
        if (problem) return problem;
        const msg = ProposalMessageCodec.decode(bytes);
        if (!msg.proposal) return 'no proposal';
        const inner = canonicalProblem(ProposalCodec.plan, msg.proposal.proposal);
        if (inner) return inner;
        const p = ProposalCodec.decode(msg.proposal.proposal);
        if (p.chain_id !== FUZZ_CHAIN_ID) return `chain id "${p.chain_id}"`;
        if (p.height !== 1 && p.height !== 2) return `height ${p.height}`;
        if (p.height === 1 && p.round > engine.currentRound + MAX_ROUND_AHEAD) return `round ${p.round}`;
        if (polRoundFromWire(p.pol_round_plus_one) >= p.round) return 'proof-of-lock round not before the round';
        if (p.block_hash.length !== 32) return `block hash of ${p.block_hash.length} bytes`;
        const proposer = set.proposer(p.height, p.round);
        if (!verifyEd25519(proposer.publicKey, proposalSignBytes(msg.proposal.proposal), msg.proposal.signature))
          return 'not signed by the round proposer';
        return undefined;
      };

      const voteProblem = (signed: SignedVote, heights: (h: number) => boolean): string | undefined => {
        const inner = canonicalProblem(VoteCodec.plan, signed.vote);
        if (inner) return inner;
        const v = VoteCodec.decode(signed.vote);
        if (v.chain_id !== FUZZ_CHAIN_ID) return `chain id "${v.chain_id}"`;
        if (!isVoteType(v.type)) return `vote type ${v.type}`;
        if (!heights(v.height)) return `height ${v.height}`;
        if (v.block_hash.length !== 0 && v.block_hash.length !== 32)
          return `block hash of ${v.block_hash.length} bytes`;
        const validator = set.get(signed.validator);
        if (!validator) return 'signer not in the validator set';
        if (!verifyEd25519(validator.publicKey, voteSignBytesOf(v), signed.signature))
          return 'not signed by the named validator';
        return undefined;
      };

      const acceptedVoteProblem = (bytes: Uint8Array): string | undefined => {
        const problem = canonicalProblem(VoteMessageCodec.plan, bytes);
        if (problem) return problem;
        const msg = VoteMessageCodec.decode(bytes);
        if (!msg.vote) return 'no vote';
        const v = VoteCodec.decode(msg.vote.vote);
        if (v.height === 1 && v.round > engine.currentRound + MAX_ROUND_AHEAD) return `round ${v.round}`;
        return voteProblem(msg.vote, (h) => h === 1 || h === 2);
      };

      const acceptedEvidenceProblem = (bytes: Uint8Array): string | undefined => {
        const problem = canonicalProblem(EvidenceCodec.plan, bytes);
        if (problem) return problem;
        const e = EvidenceCodec.decode(bytes);
        if (!e.first || !e.second) return 'one vote missing';
        const near = (h: number) => h >= 1 && h <= chain.latestHeight + 2;
        const first = voteProblem(e.first, near) ?? voteProblem(e.second, near);
        if (first) return first;
        const a = VoteCodec.decode(e.first.vote);
        const b = VoteCodec.decode(e.second.vote);
        if (!bytesEqual(e.first.validator, e.second.validator)) return 'votes of two validators';
        if (a.height !== b.height || a.round !== b.round || a.type !== b.type) return 'votes at two positions';
        if (bytesEqual(a.block_hash, b.block_hash)) return 'the same vote twice';
        return undefined;
      };

      const acceptedTxBatchProblem = (bytes: Uint8Array): string | undefined => {
        const problem = canonicalProblem(TxBatchCodec.plan, bytes);
        if (problem) return problem;
        for (const tx of TxBatchCodec.decode(bytes).txs) {
          // A module's validateBasic refusal is 'ignore' by verdictFor's rule (a module's own rules),
          // so a batch holding one beside an admitted transaction is accepted; anything in it that
          // verdictFor calls the sender's fault (encoding, signature, chain id, type) must not be.
          try {
            decodeTx(tx, registry, txOpts);
          } catch (e) {
            if (verdictFor(e) === 'reject')
              return `a transaction that decodeTx refuses (${(e as { code?: string }).code ?? String(e)})`;
            continue;
          }
          const txProblem =
            canonicalProblem(SignedTxCodec.plan, tx) ??
            canonicalProblem(TxBodyCodec.plan, SignedTxCodec.decode(tx).body);
          if (txProblem) return `a transaction with ${txProblem}`;
        }
        return undefined;
      };

      const problemOf: Record<GossipTopic, (d: Uint8Array) => string | undefined> = {
        proposal: acceptedProposalProblem,
        vote: acceptedVoteProblem,
        evidence: acceptedEvidenceProblem,
        tx: acceptedTxBatchProblem,
      };
      const others = new Map<GossipTopic, Uint8Array>();

      return {
        close: () => judge.close(),
        async one(rng, slot) {
          const topic = rng.pick<GossipTopic>(['proposal', 'proposal', 'vote', 'vote', 'vote', 'evidence', 'tx']);
          let sample = generators[topic](rng);
          const other = others.get(topic) ?? sample.bytes;
          others.set(topic, sample.bytes);
          if (rng.chance(0.35)) sample = damage(rng, sample, other);
          slot.input = sample.bytes;

          let verdictFromCheck: Verdict | undefined;
          if (topic !== 'tx') {
            // The check alone, to see the error the verdict function would swallow.
            const r = await guardAsync(CHECK_CODES, `${topic} check`, () => judge.check(topic, sample.bytes));
            verdictFromCheck = r.ok ? 'accept' : bftVerdict(new TributaryError(r.code as ErrorCode, 'from the check'));
          }
          const verdict = await judge.verdict(topic, sample.bytes);
          if (verdictFromCheck !== undefined && verdict !== verdictFromCheck)
            throw new Finding(
              'bad_response',
              `${sample.shape}: the check says ${verdictFromCheck}, the validator ${verdict}`,
            );
          if (verdict === 'accept') {
            const problem = problemOf[topic](sample.bytes);
            if (problem) throw new Finding('accepted_malformed', `${sample.shape} accepted: ${problem}`);
          }
          if (sample.expect === 'accept' && verdict !== 'accept')
            throw new Finding('rejected_valid', `${sample.shape} got ${verdict}`);
          if (sample.expect === 'reject' && verdict !== 'reject')
            throw new Finding('bad_response', `${sample.shape} got ${verdict}, must be reject (the sender's fault)`);
          if (sample.expect === 'not_accept' && verdict === 'accept')
            throw new Finding('accepted_malformed', `${sample.shape} accepted`);
          return `${sample.shape}:${verdict}`;
        },
      };
    },
  };
}
