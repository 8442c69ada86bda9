import type { Logger } from 'pino';
import { BlockCodec, VoteCodec, type Block, type Commit, type CommitSig } from '../codec/core.ts';
import {
  headerHash,
  isVoteType,
  proposalSignBytes,
  VoteType,
  voteSignBytes,
  voteSignBytesOf,
} from '../codec/protocol.ts';
import { ADDRESS_LENGTH, addressFromPublicKey, type Address } from '../crypto/address.ts';
import { verifyEd25519, type SigningKey } from '../crypto/ed25519.ts';
import { bytesEqual, toHex } from '../crypto/hash.ts';
import { isTributaryError, TributaryError } from '../errors.ts';
import { protocolName, verdictFor, type GossipVerdict, type P2pNetwork } from '../p2p/network.ts';
import { SyncClient, type SyncSource } from '../p2p/sync.ts';
import { ProgressMeter } from '../progress.ts';
import type { FinalizedBlock } from '../state/app.ts';
import { readAccount } from '../state/bank/keeper.ts';
import { submitEvidenceTx } from '../state/evidence/module.ts';
import { buildTx } from '../state/tx.ts';
import { buildProposal, makeCommit } from './block-builder.ts';
import type { Chain } from './chain.ts';
import {
  BlockByHashRequestCodec,
  EvidenceCodec,
  polRoundFromWire,
  polRoundToWire,
  ProposalCodec,
  ProposalMessageCodec,
  TimeoutStepCode,
  VoteMessageCodec,
  WalKind,
  WalRecordCodec,
  type Evidence,
  type Proposal,
  type SignedProposal,
  type SignedVote,
  type WalRecord,
} from './messages.ts';
import type { Mempool } from './mempool.ts';
import type { Signer, SignStep } from './signer.ts';
import { TendermintMachine } from './tendermint/state-machine.ts';
import type { Input, Output, RoundStep, TimeoutConfig, VoteType as MachineVoteType } from './tendermint/types.ts';
import type { ValidatorSet } from './validator-set.ts';
import type { ConsensusWal } from './wal.ts';
import type { StoredBlock } from '../storage/block-store.ts';

/*
 * The BFT driver: carries the pure TendermintMachine's outputs out (sign, gossip, arm timers, build
 * and commit blocks) and turns gossip, timers and the write-ahead log into its inputs. Every input
 * is written to the height's WAL, and the log is durable before anything is signed or sent, so a
 * restart replays the height into a fresh machine and ends where the crashed one was; the
 * persisted Signer refuses whatever replay would sign differently.
 */

export type BftErrorCode =
  | 'consensus/malformed_message'
  | 'consensus/wrong_chain'
  | 'consensus/wrong_height'
  | 'consensus/far_round'
  | 'consensus/bad_proposal_signature'
  | 'consensus/bad_vote_signature'
  | 'consensus/block_unknown'
  | 'consensus/clock_drift';

/** Invalid whatever the receiver's state: the sender should never have forwarded it. */
const REJECT_CODES = new Set<string>([
  'consensus/malformed_message',
  'consensus/wrong_chain',
  'consensus/bad_proposal_signature',
  'consensus/bad_vote_signature',
  'consensus/unknown_validator',
]);

/** Our own codes first (an engine knows which of its refusals are the sender's fault), then src/p2p's mapping. */
export function bftVerdict(error: unknown): GossipVerdict {
  if (isTributaryError(error) && REJECT_CODES.has(error.code)) return 'reject';
  return verdictFor(error);
}

/**
 * The codec does not check the length of an address field; a wrong one would otherwise surface as
 * `address/invalid` from the set lookup, which `verdictFor` ignores instead of rejecting (found by
 * the gossip fuzz target).
 */
function checkValidatorField(vote: SignedVote): void {
  if (vote.validator.length !== ADDRESS_LENGTH) {
    throw new TributaryError('consensus/malformed_message', `validator address of ${vote.validator.length} bytes`);
  }
}

/** Gossiped messages of rounds further ahead than this are ignored: they would only fill memory. */
const MAX_ROUND_AHEAD = 100;
/** Messages of the next height kept until we get there. */
const MAX_FUTURE_MESSAGES = 10_000;
const BLOCK_FETCH_TIMEOUT_MS = 5_000;

export interface BftTimeouts extends TimeoutConfig {
  /** Pause after a commit before the next height starts (the block interval; CometBFT's timeout_commit). */
  readonly commitWaitMs: number;
}

/** The share of the propose timeout one execution of a block may take (build, then each validator's verify). */
const EXECUTION_SHARE = 3;
const INITIAL_MS_PER_TX = 0.5;
const MIN_BLOCK_TX_BUDGET = 100;
const MIN_MEASURED_TXS = 50;

/** Timeouts derived from the block interval, so a devnet's `--block-interval 200` gives short rounds. */
export function timeoutsForInterval(intervalMs: number): BftTimeouts {
  const i = Math.max(1, Math.floor(intervalMs));
  return {
    proposeMs: Math.max(300, 3 * i),
    prevoteMs: Math.max(200, i),
    precommitMs: Math.max(200, i),
    deltaMs: Math.max(100, Math.floor(i / 2)),
    maxMs: Math.max(10_000, 30 * i),
    commitWaitMs: i,
  };
}

export interface BftEngineOptions {
  chain: Chain;
  mempool: Mempool;
  network: P2pNetwork;
  wal: ConsensusWal;
  /** A validator's persisted signer and key; both absent on a full node, which follows and verifies only. */
  signer?: Signer;
  key?: SigningKey;
  timeouts: BftTimeouts;
  /** Status and blocks this node serves, for catching up from peers. */
  syncSource: SyncSource;
  logger?: Logger;
  now?: () => number;
  /** Re-send our own messages of the height when it has not moved for this long. */
  rebroadcastMs?: number;
}

interface CachedBlock {
  block: Block;
  bytes: Uint8Array;
  finalized?: FinalizedBlock;
}

interface ParsedProposal {
  signed: SignedProposal;
  proposal: Proposal;
  polRound: number;
}

interface ParsedVote {
  signed: SignedVote;
  type: MachineVoteType;
  height: number;
  round: number;
  blockHash: Uint8Array;
}

type FutureMessage = { kind: 'proposal'; p: ParsedProposal; from: string } | { kind: 'vote'; v: ParsedVote };

const STEP_OF_CODE: Record<number, RoundStep> = { 1: 'propose', 2: 'prevote', 3: 'precommit' };

function machineVoteType(type: number): MachineVoteType {
  return type === VoteType.prevote ? 'prevote' : 'precommit';
}

export class BftEngine {
  private readonly chain: Chain;
  private readonly mempool: Mempool;
  /** A proposal's transactions that our mempool holds were verified on admission: not again. */
  private readonly knownTx = (hash: Uint8Array) => this.mempool.get(hash);
  /**
   * Milliseconds per transaction of the blocks this node built or verified lately (a moving
   * average). A proposal is only useful if every validator can fetch, verify and execute it
   * within the propose timeout, so the proposer caps its block by what it measured, instead of
   * reaping up to `maxBlockTxs` from a flooded mempool. It was added for a stall that turned out
   * to be the BFT bench misreading commits (README, Benchmarks); no throughput gain was measured,
   * and it stays as the bound it states. This is the proposer's own policy: validators accept any
   * valid block.
   */
  private msPerTx = INITIAL_MS_PER_TX;
  private readonly network: P2pNetwork;
  private readonly wal: ConsensusWal;
  private readonly signer: Signer | undefined;
  private readonly key: SigningKey | undefined;
  private readonly self: Address | null;
  private readonly timeouts: BftTimeouts;
  private readonly logger: Logger | undefined;
  private readonly now: () => number;
  private readonly chainId: string;
  private readonly syncClient: SyncClient;
  private readonly rebroadcastMs: number;

  // Everything that touches the machine or the chain runs in this queue, one task at a time.
  private queue: Promise<unknown> = Promise.resolve();
  private stopped = true;
  private readonly timers = new Set<NodeJS.Timeout>();
  private rebroadcastTimer: NodeJS.Timeout | undefined;

  private height = 0;
  private set!: ValidatorSet;
  private machine!: TendermintMachine;
  private decided = false;
  private replaying = false;
  private lastCommit: Commit | undefined;
  private blocks = new Map<string, CachedBlock>();
  /** Precommit signatures of this height: `${round}/${valueHex}/${validatorHex}`. */
  private precommitSigs = new Map<string, Uint8Array>();
  /** Signed prevotes for a value, by `${round}/${valueHex}`: the proof of lock we re-send for our valid value. */
  private prevotes = new Map<string, SignedVote[]>();
  /** Signed votes by `${round}/${type}/${validatorHex}` (at most two: the evidence of an equivocation). */
  private votesByPosition = new Map<string, SignedVote[]>();
  /** Evidence seen (detected here or gossiped), by `${validatorHex}/${height}/${round}/${type}`. */
  private readonly evidenceSeen = new Map<string, Evidence>();
  private readonly evidenceListeners: ((e: Evidence) => void)[] = [];
  /** Messages of this height already logged (re-sent envelopes carry the same signed message). */
  private seen = new Set<string>();
  private proposalsPerRound = new Map<string, number>();
  /** Set after a failed commit: enterHeight runs the same height again. */
  private reenter = false;
  /** Our own signed messages of this height (encoded for the WAL pre-scan and re-broadcast): `${round}/${step}`. */
  private own = new Map<string, { message: Uint8Array; signature: Uint8Array }>();
  private ownGossip: { topic: 'proposal' | 'vote'; round: number; build: (resend: number) => Uint8Array }[] = [];
  private pendingGetValue: { height: number; round: number } | undefined;
  /**
   * The block whose execution the state tree holds: it keeps one prepared version only, and
   * commitBlock needs the one it was handed, so any other cached execution is stale.
   */
  private lastPrepared: string | undefined;
  private future: FutureMessage[] = [];
  private walTail: Promise<void> = Promise.resolve();
  private resend = 0;
  private lastProgressCheck = { height: 0, round: -1 };
  private catchingUp = false;
  private bestPeerHeight = 0;
  private lastCatchUpAt = 0;
  /** Heights committed and how (for tests and logs). */
  commits = 0;

  constructor(opts: BftEngineOptions) {
    this.chain = opts.chain;
    this.mempool = opts.mempool;
    this.network = opts.network;
    this.wal = opts.wal;
    this.signer = opts.signer;
    this.key = opts.key;
    if ((opts.signer === undefined) !== (opts.key === undefined)) {
      throw new TributaryError('consensus/not_a_validator', 'a validator needs both its signer and its key');
    }
    if (opts.signer && opts.key && !bytesEqual(opts.signer.publicKey, opts.key.publicKey)) {
      throw new TributaryError('consensus/not_a_validator', 'the signer belongs to another key');
    }
    this.self = opts.key ? addressFromPublicKey(opts.key.publicKey) : null;
    this.timeouts = opts.timeouts;
    this.logger = opts.logger;
    this.now = opts.now ?? Date.now;
    this.chainId = opts.chain.app.chainId;
    this.syncClient = new SyncClient(opts.network, opts.syncSource);
    this.rebroadcastMs = opts.rebroadcastMs ?? Math.max(1000, 2 * opts.timeouts.proposeMs);
  }

  /** The height the machine works on (the latest committed height + 1, or that height once decided). */
  get currentHeight(): number {
    return this.height;
  }

  /** Whether it is catching up from peers by block sync (not voting meanwhile). */
  get syncing(): boolean {
    return this.catchingUp;
  }

  /** The highest committed height a peer reported in a status exchange (0 before any). */
  get highestPeerHeight(): number {
    return this.bestPeerHeight;
  }

  get currentRound(): number {
    return this.machine?.snapshot().round ?? 0;
  }

  /** Block-by-hash protocol name (served by every node from its current height's blocks). */
  static blockProtocol(chainId: string): string {
    return protocolName(chainId, 'consensus/block_by_hash');
  }

  /** Registers gossip handlers and the block protocol; replays the WAL of the next height; starts. */
  async start(): Promise<void> {
    this.stopped = false;
    const maxBlockBytes = this.chain.app.params.maxBlockBytes;
    await this.network.handle(
      BftEngine.blockProtocol(this.chainId),
      async (request) => {
        const req = BlockByHashRequestCodec.decode(request);
        const cached = this.blocks.get(toHex(req.block_hash));
        if (cached) return [cached.bytes];
        const stored = await this.chain.blocks.getBlock(req.height);
        if (stored && bytesEqual(stored.hash, req.block_hash)) return [BlockCodec.encode(stored.block)];
        throw new TributaryError('consensus/block_unknown', 'no such block here');
      },
      {
        maxRequestBytes: 256,
        maxResponses: 1,
        maxResponseBytes: maxBlockBytes + 64 * 1024,
        timeoutMs: BLOCK_FETCH_TIMEOUT_MS,
        maxConcurrent: 8,
      },
    );
    this.network.onGossip(
      'proposal',
      (data) => this.validateGossip(() => this.parseProposal(data)),
      (data, from) => this.onProposalMessage(this.parseProposalUnchecked(data), from),
    );
    this.network.onGossip(
      'evidence',
      (data) => this.validateGossip(() => this.checkEvidence(data)),
      (data) => this.recordEvidence(EvidenceCodec.decode(data), false),
    );
    this.network.onGossip(
      'vote',
      (data) => this.validateGossip(() => this.parseVote(data)),
      (data) => this.onVoteMessage(this.parseVoteUnchecked(data)),
    );
    this.network.onPeer((_peer, event) => {
      if (event !== 'connect') return;
      this.later(1000, () => this.rebroadcast());
      this.requestCatchUpSoon();
    });
    await this.enqueue(() => this.enterHeight(this.chain.latestHeight + 1));
    this.rebroadcastTimer = setInterval(() => this.onProgressTick(), this.rebroadcastMs);
    this.requestCatchUp();
  }

  /** Stops timers and waits for the task in progress (a commit finishes; nothing new starts). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.rebroadcastTimer) clearInterval(this.rebroadcastTimer);
    await this.queue.catch(() => undefined);
    await this.walTail.catch(() => undefined);
  }

  // ---- The queue ----

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      if (this.stopped) return undefined as T;
      return task();
    });
    this.queue = run.catch((e) => {
      this.logger?.error({ err: e, code: isTributaryError(e) ? e.code : undefined }, 'consensus task failed');
    });
    return run;
  }

  private later(ms: number, task: () => Promise<void>): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      void this.enqueue(task).catch(() => undefined);
    }, ms);
    this.timers.add(t);
  }

  // ---- Heights ----

  private async enterHeight(height: number): Promise<void> {
    if (height !== this.chain.latestHeight + 1) return;
    if (height === this.height && this.machine && !this.decided && !this.reenter) return; // already there
    this.reenter = false;
    this.height = height;
    this.set = await this.chain.validatorSet(height);
    const set = this.set;
    this.machine = new TendermintMachine({
      height,
      validators: set.validators.map((v) => ({ address: v.address, power: v.power })),
      self: this.self,
      timeouts: this.timeouts,
      proposer: (h, r) => set.proposer(h, r).address,
    });
    this.decided = false;
    this.blocks = new Map();
    this.precommitSigs = new Map();
    this.prevotes = new Map();
    this.votesByPosition = new Map();
    this.proposalsPerRound = new Map();
    this.seen = new Set();
    this.own = new Map();
    this.ownGossip = [];
    this.pendingGetValue = undefined;
    this.lastPrepared = undefined;
    const latest = this.chain.blocks.latestBlock;
    this.lastCommit = latest ? await this.chain.blocks.getCommit(latest.header.height) : undefined;

    const records = (await this.wal.read(height)).map((bytes) => WalRecordCodec.decode(bytes));
    // Pre-scan: our own signed messages, so replay re-sends them instead of signing again.
    for (const r of records) this.noteOwn(r);
    this.replaying = records.length > 0;
    try {
      await this.apply({
        kind: 'start_height',
        height,
        validators: set.validators.map((v) => ({ address: v.address, power: v.power })),
      });
      for (const record of records) {
        if (this.decided) break;
        await this.replayRecord(record);
      }
    } finally {
      this.replaying = false;
    }
    if (records.length > 0) {
      this.logger?.info(
        { height, records: records.length, round: this.machine.snapshot().round },
        'replayed consensus WAL',
      );
    }
    // A get_value the log never answered (crash while building): build now.
    const pending = this.pendingGetValue as { height: number; round: number } | undefined;
    if (pending && !this.decided) {
      const snap = this.machine.snapshot();
      if (snap.round === pending.round && snap.step === 'propose') await this.proposeValue(pending.round);
    }
    // Messages of this height that came while we were on the previous one.
    const future = this.future;
    this.future = future.filter((m) => (m.kind === 'vote' ? m.v.height : m.p.proposal.height) > height);
    for (const m of future) {
      if (m.kind === 'vote' && m.v.height === height) await this.handleVote(m.v);
      if (m.kind === 'proposal' && m.p.proposal.height === height) this.onProposalMessage(m.p, m.from);
    }
  }

  private noteOwn(r: WalRecord): void {
    if (this.self === null) return;
    if (r.kind === WalKind.vote && r.vote && bytesEqual(r.vote.validator, this.self)) {
      const v = VoteCodec.decode(r.vote.vote);
      this.own.set(`${v.round}/${machineVoteType(v.type)}`, { message: r.vote.vote, signature: r.vote.signature });
    } else if (r.kind === WalKind.proposal && r.proposal) {
      const p = ProposalCodec.decode(r.proposal.proposal);
      if (bytesEqual(this.set?.proposer(p.height, p.round).address ?? new Uint8Array(), this.self)) {
        this.own.set(`${p.round}/proposal`, { message: r.proposal.proposal, signature: r.proposal.signature });
      }
    }
  }

  private async replayRecord(r: WalRecord): Promise<void> {
    const h = this.height;
    switch (r.kind) {
      case WalKind.proposal: {
        const proposal = ProposalCodec.decode(r.proposal!.proposal);
        const block = BlockCodec.decode(r.block);
        this.cacheBlock(block, r.block);
        this.seen.add(`p/${proposal.round}/${toHex(proposal.block_hash)}`);
        await this.apply({
          kind: 'proposal',
          height: h,
          round: proposal.round,
          polRound: polRoundFromWire(proposal.pol_round_plus_one),
          valueId: proposal.block_hash,
          valid: r.valid,
          proposer: this.set.proposer(h, proposal.round).address,
        });
        break;
      }
      case WalKind.vote: {
        const v = VoteCodec.decode(r.vote!.vote);
        const parsed: ParsedVote = {
          signed: r.vote!,
          type: machineVoteType(v.type),
          height: v.height,
          round: v.round,
          blockHash: v.block_hash,
        };
        this.seen.add(this.voteKey(parsed));
        this.noteVote(parsed);
        await this.apply(this.voteInput(parsed));
        break;
      }
      case WalKind.timeout:
        await this.apply({ kind: 'timeout', step: STEP_OF_CODE[r.timeout_step]!, height: h, round: r.round });
        break;
      case WalKind.ownBlock: {
        const block = BlockCodec.decode(r.block);
        const cached = this.cacheBlock(block, r.block);
        if (this.pendingGetValue?.round === r.round) this.pendingGetValue = undefined;
        await this.apply({
          kind: 'proposal_value',
          height: h,
          round: r.round,
          valueId: headerHash(cached.block.header!),
        });
        break;
      }
    }
  }

  private cacheBlock(block: Block, bytes: Uint8Array, finalized?: FinalizedBlock): CachedBlock {
    const hex = toHex(headerHash(block.header!));
    let cached = this.blocks.get(hex);
    if (!cached) {
      cached = { block, bytes, finalized };
      this.blocks.set(hex, cached);
    } else if (finalized) {
      cached.finalized = finalized;
    }
    return cached;
  }

  /** Appends to the WAL without waiting; `durable()` waits for every append so far. */
  private log(record: WalRecord): void {
    if (this.replaying) return;
    const h = this.height;
    this.walTail = this.wal.append(h, WalRecordCodec.encode(record));
  }

  private durable(): Promise<void> {
    return this.walTail;
  }

  // ---- The machine ----

  private async apply(input: Input): Promise<void> {
    const roundBefore = this.machine.snapshot().round;
    const outputs = this.machine.step(input);
    const snap = this.machine.snapshot();
    if (snap.round !== roundBefore)
      this.logger?.debug({ height: this.height, round: snap.round, input: input.kind }, 'new round');
    for (const out of outputs) {
      if (this.stopped) return;
      await this.carryOut(out);
      if (this.decided) return;
    }
  }

  private async carryOut(out: Output): Promise<void> {
    switch (out.kind) {
      case 'schedule_timeout': {
        const { step, height, round, durationMs } = out;
        this.later(durationMs, async () => {
          if (this.height !== height || this.decided) return;
          this.log({ ...emptyRecord(), kind: WalKind.timeout, timeout_step: TimeoutStepCode[step], round });
          await this.apply({ kind: 'timeout', step, height, round });
        });
        break;
      }
      case 'get_value':
        if (this.replaying) this.pendingGetValue = { height: out.height, round: out.round };
        else await this.proposeValue(out.round);
        break;
      case 'broadcast_proposal':
        await this.sendProposal(out.round, out.polRound, out.valueId);
        break;
      case 'broadcast_vote':
        await this.sendVote(out.type, out.round, out.valueId);
        break;
      case 'decide':
        await this.decide(out.round, out.valueId, out.commit);
        break;
      case 'equivocation':
        if (this.self !== null && bytesEqual(out.validator, this.self)) {
          // Our own vote from before a restart that lost the WAL, against the one the fresh machine
          // counted for itself but the signer refused to sign: nothing conflicting was signed.
          this.logger?.info(
            { height: out.height, round: out.round, type: out.type },
            'our vote from before the restart differs from the unsigned one',
          );
          break;
        }
        this.logger?.warn(
          { validator: toHex(out.validator), type: out.type, height: out.height, round: out.round },
          'validator signed two different votes',
        );
        this.reportEquivocation(out.validator, out.type, out.round);
        break;
    }
  }

  /** Folds one block's execution time into `msPerTx` (blocks too small to say are skipped). */
  private noteExecution(ms: number, txs: number): void {
    if (txs < MIN_MEASURED_TXS) return;
    this.msPerTx = 0.7 * this.msPerTx + 0.3 * (ms / txs);
  }

  /** Builds our block for `round` (get_value), logs it, and answers the machine. */
  private async proposeValue(round: number): Promise<void> {
    const key = this.key!;
    const params = this.chain.app.params;
    const budget = Math.max(MIN_BLOCK_TX_BUDGET, Math.floor(this.timeouts.proposeMs / EXECUTION_SHARE / this.msPerTx));
    const candidates = this.mempool.reap(Math.min(params.maxBlockTxs, budget), params.maxBlockBytes);
    const started = performance.now();
    // The header signature goes straight to the key, not through the Signer: a signed header
    // alone finalizes nothing (only a signed Proposal and votes count in consensus, and those go
    // through the Signer), so signing two headers at one height cannot cause a fork.
    this.lastPrepared = undefined;
    const built = await buildProposal(
      this.chain,
      { proposer: this.self!, nowMs: this.now(), candidates, lastCommit: this.lastCommit },
      async (signBytes) => key.sign(signBytes),
    );
    this.noteExecution(performance.now() - started, built.block.txs.length);
    const bytes = BlockCodec.encode(built.block);
    this.lastPrepared = toHex(built.hash);
    this.cacheBlock(built.block, bytes, built.finalized);
    this.log({ ...emptyRecord(), kind: WalKind.ownBlock, block: bytes, round });
    await this.apply({ kind: 'proposal_value', height: this.height, round, valueId: built.hash });
  }

  /**
   * Signs through the persisted signer once the WAL is durable. During replay a message the log
   * already holds is re-sent as it was; one it does not hold (a crash between signing and logging)
   * is signed again, and the signer returns the saved signature for the same bytes or refuses.
   */
  private async signOwn(
    round: number,
    step: SignStep,
    message: Uint8Array,
    signBytes: Uint8Array,
  ): Promise<Uint8Array | undefined> {
    const logged = this.own.get(`${round}/${step}`);
    if (logged) {
      if (bytesEqual(logged.message, message)) return logged.signature;
      this.logger?.error(
        { height: this.height, round, step },
        'replay wants to sign another message than the logged one; not sending',
      );
      return undefined;
    }
    await this.durable();
    try {
      return await this.signer!.sign({ height: this.height, round, step, signBytes });
    } catch (e) {
      this.logger?.error(
        { code: isTributaryError(e) ? e.code : undefined, height: this.height, round, step },
        'signer refused; not sending',
      );
      return undefined;
    }
  }

  private async sendProposal(round: number, polRound: number, valueId: Uint8Array): Promise<void> {
    const cached = this.blocks.get(toHex(valueId));
    if (!cached) {
      this.logger?.error({ height: this.height, round }, 'no block for our own proposal');
      return;
    }
    const proposal: Proposal = {
      chain_id: this.chainId,
      height: this.height,
      round,
      pol_round_plus_one: polRoundToWire(polRound),
      block_hash: valueId,
    };
    const proposalBytes = ProposalCodec.encode(proposal);
    const wasLogged = this.own.has(`${round}/proposal`);
    const signature = await this.signOwn(round, 'proposal', proposalBytes, proposalSignBytes(proposalBytes));
    if (!signature) return;
    const signed: SignedProposal = { proposal: proposalBytes, signature };
    const record: WalRecord = {
      ...emptyRecord(),
      kind: WalKind.proposal,
      proposal: signed,
      block: cached.bytes,
      valid: true,
    };
    if (!wasLogged) {
      this.log(record);
      this.own.set(`${round}/proposal`, { message: proposalBytes, signature });
    }
    this.seen.add(`p/${round}/${toHex(valueId)}`);
    await this.durable();
    this.ownGossip.push({
      topic: 'proposal',
      round,
      build: (resend) => ProposalMessageCodec.encode({ proposal: signed, resend }),
    });
    this.publish('proposal', ProposalMessageCodec.encode({ proposal: signed, resend: 0 }));
  }

  private async sendVote(type: MachineVoteType, round: number, valueId: Uint8Array | null): Promise<void> {
    const voteType = type === 'prevote' ? VoteType.prevote : VoteType.precommit;
    const blockHash = valueId ?? new Uint8Array();
    const fields = { chainId: this.chainId, type: voteType, height: this.height, round, blockHash };
    const wasLogged = this.own.has(`${round}/${type}`);
    const voteBytes = VoteCodec.encode({
      chain_id: this.chainId,
      type: voteType,
      height: this.height,
      round,
      block_hash: blockHash,
    });
    const signature = await this.signOwn(round, type, voteBytes, voteSignBytes(fields));
    if (!signature) return;
    const signed: SignedVote = { vote: voteBytes, validator: this.self!, signature };
    const parsed: ParsedVote = { signed, type, height: this.height, round, blockHash };
    const record: WalRecord = { ...emptyRecord(), kind: WalKind.vote, vote: signed };
    if (!wasLogged) {
      this.log(record);
      this.own.set(`${round}/${type}`, { message: voteBytes, signature });
    }
    this.seen.add(this.voteKey(parsed));
    this.noteVote(parsed);
    await this.durable();
    this.ownGossip.push({ topic: 'vote', round, build: (resend) => VoteMessageCodec.encode({ vote: signed, resend }) });
    this.publish('vote', VoteMessageCodec.encode({ vote: signed, resend: 0 }));
  }

  private publish(topic: 'proposal' | 'vote', bytes: Uint8Array): void {
    this.network.publish(topic, bytes).catch((e) => this.logger?.warn({ err: e, topic }, 'publish failed'));
  }

  /** Our messages of the last two rounds of this height again, in new envelopes (gossipsub drops bytes it has seen). */
  private async rebroadcast(): Promise<void> {
    if (this.decided || this.ownGossip.length === 0) return;
    const round = this.machine.snapshot().round;
    this.resend += 1;
    const again = this.ownGossip.filter((m) => m.round >= round - 1);
    // The proof of lock of our valid value (anyone's prevotes): a node that missed that round
    // (restarted, partitioned) cannot accept the value's re-proposal without it, and validators
    // locked on it prevote nothing else, so without these the height could stall for ever.
    const snap = this.machine.snapshot();
    const pol =
      snap.validRound >= 0 && snap.validValue
        ? (this.prevotes.get(`${snap.validRound}/${toHex(snap.validValue)}`) ?? [])
        : [];
    this.logger?.debug(
      { height: this.height, round, messages: again.length, pol: pol.length, peers: this.network.peers().length },
      're-broadcasting',
    );
    for (const m of again) this.publish(m.topic, m.build(this.resend));
    for (const vote of pol) this.publish('vote', VoteMessageCodec.encode({ vote, resend: this.resend }));
  }

  private onProgressTick(): void {
    if (this.stopped) return;
    const snap = this.machine?.snapshot();
    if (!snap) return;
    const stalled = this.lastProgressCheck.height === snap.height && this.lastProgressCheck.round === snap.round;
    this.lastProgressCheck = { height: snap.height, round: snap.round };
    if (stalled) {
      void this.enqueue(() => this.rebroadcast());
      this.requestCatchUp();
    }
  }

  private async decide(round: number, valueId: Uint8Array, committers: readonly Uint8Array[]): Promise<void> {
    const hex = toHex(valueId);
    const cached = this.blocks.get(hex);
    if (!cached) throw new TributaryError('consensus/block_unknown', `decided block ${hex} is not here`);
    const sigs: CommitSig[] = [];
    for (const validator of committers) {
      const signature = this.precommitSigs.get(`${round}/${hex}/${toHex(validator)}`);
      if (signature) sigs.push({ validator, signature });
    }
    const commit = makeCommit(this.height, round, valueId, sigs);
    const finalized =
      cached.finalized && this.lastPrepared === hex
        ? cached.finalized
        : await this.chain.verifyProposal(cached.block, { maxRound: round, knownTx: this.knownTx });
    this.lastPrepared = undefined;
    this.decided = true;
    const height = this.height;
    let stored: StoredBlock;
    try {
      stored = await this.chain.commitBlock(cached.block, commit, finalized);
    } catch (e) {
      // The decision stands (the WAL still holds it): start the height again from the log, which
      // decides again and retries the commit with a fresh execution.
      this.logger?.error(
        { err: e, code: isTributaryError(e) ? e.code : undefined, height },
        'commit failed; replaying the height',
      );
      this.reenter = true;
      this.later(500, () => this.enterHeight(height));
      return;
    }
    this.commits += 1;
    this.lastCommit = commit;
    await this.walTail.catch(() => undefined);
    await this.wal.prune(height);
    this.logger?.info(
      {
        height,
        round,
        txs: cached.block.txs.length,
        hash: toHex(stored.hash).slice(0, 16),
        signatures: sigs.length,
        mempool: this.mempool.size,
      },
      'committed block',
    );
    this.later(this.timeouts.commitWaitMs, () => this.enterHeight(height + 1));
  }

  // ---- Gossip ----

  private async validateGossip(check: () => Promise<unknown>): Promise<GossipVerdict> {
    try {
      await check();
      return 'accept';
    } catch (e) {
      return bftVerdict(e);
    }
  }

  /** Heights we take messages for: the current one (unless decided) and the next (kept for later). */
  private checkHeight(height: number): void {
    const next = this.chain.latestHeight + 1;
    if (height === next || height === next + 1) {
      if (height > next) this.requestCatchUpSoon();
      return;
    }
    if (height > next + 1) this.requestCatchUpSoon();
    throw new TributaryError('consensus/wrong_height', `message for height ${height}, we are at ${next}`);
  }

  private checkRound(height: number, round: number): void {
    if (height === this.height && round > this.currentRound + MAX_ROUND_AHEAD) {
      throw new TributaryError('consensus/far_round', `round ${round} is too far ahead`);
    }
  }

  private parseProposalUnchecked(data: Uint8Array): ParsedProposal {
    const msg = ProposalMessageCodec.decode(data);
    if (!msg.proposal) throw new TributaryError('consensus/malformed_message', 'proposal message without a proposal');
    const proposal = ProposalCodec.decode(msg.proposal.proposal);
    return { signed: msg.proposal, proposal, polRound: polRoundFromWire(proposal.pol_round_plus_one) };
  }

  /** Everything about a proposal gossip message that needs no block: codec, chain, height, round, proposer signature. */
  private async parseProposal(data: Uint8Array): Promise<ParsedProposal> {
    const parsed = this.parseProposalUnchecked(data);
    const p = parsed.proposal;
    if (p.chain_id !== this.chainId)
      throw new TributaryError('consensus/wrong_chain', `proposal for chain ${p.chain_id}`);
    if (p.block_hash.length !== 32)
      throw new TributaryError('consensus/malformed_message', 'block hash must be 32 bytes');
    if (parsed.polRound >= p.round)
      throw new TributaryError('consensus/malformed_message', 'proof-of-lock round must be before the round');
    this.checkHeight(p.height);
    this.checkRound(p.height, p.round);
    const set = await this.chain.validatorSet(p.height);
    const proposer = set.proposer(p.height, p.round);
    if (!verifyEd25519(proposer.publicKey, proposalSignBytes(parsed.signed.proposal), parsed.signed.signature)) {
      throw new TributaryError(
        'consensus/bad_proposal_signature',
        `proposal ${p.height}/${p.round} not signed by its proposer`,
      );
    }
    return parsed;
  }

  private parseVoteUnchecked(data: Uint8Array): ParsedVote {
    const msg = VoteMessageCodec.decode(data);
    if (!msg.vote) throw new TributaryError('consensus/malformed_message', 'vote message without a vote');
    checkValidatorField(msg.vote);
    const v = VoteCodec.decode(msg.vote.vote);
    if (!isVoteType(v.type)) throw new TributaryError('consensus/malformed_message', `unknown vote type ${v.type}`);
    return {
      signed: msg.vote,
      type: machineVoteType(v.type),
      height: v.height,
      round: v.round,
      blockHash: v.block_hash,
    };
  }

  /** Codec, chain, height, round, a known validator and its signature. */
  private async parseVote(data: Uint8Array): Promise<ParsedVote> {
    const parsed = this.parseVoteUnchecked(data);
    const v = VoteCodec.decode(parsed.signed.vote);
    if (v.chain_id !== this.chainId) throw new TributaryError('consensus/wrong_chain', `vote for chain ${v.chain_id}`);
    if (v.block_hash.length !== 0 && v.block_hash.length !== 32)
      throw new TributaryError('consensus/malformed_message', 'block hash must be 32 bytes or empty');
    this.checkHeight(v.height);
    this.checkRound(v.height, v.round);
    const set = await this.chain.validatorSet(v.height);
    const validator = set.get(parsed.signed.validator);
    if (!validator) throw new TributaryError('consensus/unknown_validator', 'vote from a validator not in the set');
    const signBytes = voteSignBytesOf(v);
    if (!verifyEd25519(validator.publicKey, signBytes, parsed.signed.signature)) {
      throw new TributaryError('consensus/bad_vote_signature', `bad vote signature at ${v.height}/${v.round}`);
    }
    return parsed;
  }

  private voteKey(v: ParsedVote): string {
    return `v/${v.round}/${v.type}/${toHex(v.signed.validator)}/${toHex(v.blockHash)}`;
  }

  private voteInput(v: ParsedVote): Input {
    return {
      kind: 'vote',
      type: v.type,
      height: v.height,
      round: v.round,
      valueId: v.blockHash.length === 0 ? null : v.blockHash,
      validator: v.signed.validator,
    };
  }

  private noteVote(v: ParsedVote): void {
    const position = `${v.round}/${v.type}/${toHex(v.signed.validator)}`;
    const atPosition = this.votesByPosition.get(position) ?? [];
    if (atPosition.length < 2) atPosition.push(v.signed); // two different ones are all evidence needs
    this.votesByPosition.set(position, atPosition);
    if (v.blockHash.length === 0) return;
    if (v.type === 'prevote') {
      const key = `${v.round}/${toHex(v.blockHash)}`;
      const list = this.prevotes.get(key) ?? [];
      list.push(v.signed);
      this.prevotes.set(key, list);
      return;
    }
    this.precommitSigs.set(`${v.round}/${toHex(v.blockHash)}/${toHex(v.signed.validator)}`, v.signed.signature);
  }

  private keepForLater(m: FutureMessage): void {
    if (this.future.length < MAX_FUTURE_MESSAGES) this.future.push(m);
  }

  private onVoteMessage(v: ParsedVote): void {
    void this.enqueue(() => this.handleVote(v)).catch(() => undefined);
  }

  private async handleVote(v: ParsedVote): Promise<void> {
    // Heights ahead (checkHeight let through at most the tip + 2) wait; a decided height takes nothing more.
    if (v.height > this.height) {
      this.keepForLater({ kind: 'vote', v });
      return;
    }
    if (v.height !== this.height || this.decided) return;
    const key = this.voteKey(v);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.log({ ...emptyRecord(), kind: WalKind.vote, vote: v.signed });
    this.noteVote(v);
    await this.apply(this.voteInput(v));
  }

  private onProposalMessage(p: ParsedProposal, from: string): void {
    const h = p.proposal.height;
    void this.enqueue(async () => {
      if (h > this.height) {
        this.keepForLater({ kind: 'proposal', p, from });
        return;
      }
      if (this.decided) return;
      if (h !== this.height) return;
      const key = `p/${p.proposal.round}/${toHex(p.proposal.block_hash)}`;
      if (this.seen.has(key)) return;
      // An equivocating proposer could make us fetch and execute any number of blocks: two per round is plenty.
      const perRound = `pr/${p.proposal.round}`;
      const count = this.proposalsPerRound.get(perRound) ?? 0;
      if (count >= 2) return;
      this.proposalsPerRound.set(perRound, count + 1);
      this.seen.add(key);
      // Fetch outside the queue; verify and act inside it.
      void this.fetchBlock(h, p.proposal.block_hash, from).then(
        (fetched) =>
          this.enqueue(async () => {
            if (this.height !== h || this.decided) return;
            await this.handleProposal(p, fetched);
          }),
        (e) => {
          // A later copy may come from a peer that has the block.
          this.seen.delete(key);
          if (this.height === h)
            this.proposalsPerRound.set(perRound, Math.max(0, (this.proposalsPerRound.get(perRound) ?? 1) - 1));
          this.logger?.debug(
            { code: isTributaryError(e) ? e.code : undefined, height: h },
            'could not fetch proposed block',
          );
        },
      );
    }).catch(() => undefined);
  }

  private async fetchBlock(height: number, hash: Uint8Array, from: string): Promise<CachedBlock> {
    const deadline = this.now() + 4 * this.timeouts.maxMs;
    for (let attempt = 0; ; attempt++) {
      const cached = this.blocks.get(toHex(hash));
      if (cached && this.height === height) return cached;
      if (this.stopped || this.height > height || this.now() > deadline) {
        throw new TributaryError('consensus/block_unknown', `block ${toHex(hash)} not found`);
      }
      const peers = [from, ...this.network.peers().filter((p) => p !== from)];
      for (const peer of peers) {
        try {
          const [bytes] = await this.network.request(
            peer,
            BftEngine.blockProtocol(this.chainId),
            BlockByHashRequestCodec.encode({ height, block_hash: hash }),
            {
              timeoutMs: BLOCK_FETCH_TIMEOUT_MS,
              maxResponses: 1,
              maxBytes: this.chain.app.params.maxBlockBytes + 64 * 1024,
            },
          );
          if (!bytes) continue;
          const block = BlockCodec.decode(bytes);
          if (!block.header || !bytesEqual(headerHash(block.header), hash)) continue;
          return { block, bytes };
        } catch {
          // try the next peer
        }
      }
      await new Promise((r) => setTimeout(r, Math.min(50 * (attempt + 1), 500)));
    }
  }

  /** processProposal: the block must verify against our tip and its time must not run ahead of our clock. */
  private async handleProposal(p: ParsedProposal, fetched: CachedBlock): Promise<void> {
    const { block, bytes } = fetched;
    const round = p.proposal.round;
    let valid = false;
    const hex = toHex(p.proposal.block_hash);
    let finalized: FinalizedBlock | undefined = this.lastPrepared === hex ? this.blocks.get(hex)?.finalized : undefined;
    try {
      const drift = this.chain.app.params.maxClockDriftMs;
      if (block.header!.time_ms > this.now() + drift) {
        throw new TributaryError(
          'consensus/clock_drift',
          `header time ${block.header!.time_ms} is more than ${drift} ms ahead of our clock`,
        );
      }
      if (!finalized) {
        this.lastPrepared = undefined;
        const started = performance.now();
        finalized = await this.chain.verifyProposal(block, { maxRound: round, knownTx: this.knownTx });
        this.noteExecution(performance.now() - started, block.txs.length);
        this.lastPrepared = hex;
      }
      valid = true;
    } catch (e) {
      this.logger?.info(
        {
          code: isTributaryError(e) ? e.code : undefined,
          err: isTributaryError(e) ? undefined : e,
          height: this.height,
          round,
        },
        'invalid proposal: prevoting nil',
      );
    }
    this.cacheBlock(block, bytes, finalized);
    this.log({ ...emptyRecord(), kind: WalKind.proposal, proposal: p.signed, block: bytes, valid });
    await this.apply({
      kind: 'proposal',
      height: this.height,
      round,
      polRound: p.polRound,
      valueId: p.proposal.block_hash,
      valid,
      proposer: this.set.proposer(this.height, round).address,
    });
  }

  // ---- Evidence ----

  /** Evidence of double signing seen so far (detected here or received), oldest first. */
  evidence(): Evidence[] {
    return [...this.evidenceSeen.values()];
  }

  /** Called once per new piece of evidence (the node hands it on: RPC, a future slashing module). */
  onEvidence(listener: (e: Evidence) => void): void {
    this.evidenceListeners.push(listener);
  }

  private reportEquivocation(validator: Uint8Array, type: MachineVoteType, round: number): void {
    const votes = this.votesByPosition.get(`${round}/${type}/${toHex(validator)}`) ?? [];
    if (votes.length < 2) return;
    this.recordEvidence({ first: votes[0]!, second: votes[1]! }, true);
  }

  private recordEvidence(e: Evidence, publish: boolean): void {
    const v = VoteCodec.decode(e.first!.vote);
    const key = `${toHex(e.first!.validator)}/${v.height}/${v.round}/${v.type}`;
    if (this.evidenceSeen.has(key)) return;
    this.evidenceSeen.set(key, e);
    this.logger?.warn(
      { validator: toHex(e.first!.validator), height: v.height, round: v.round, type: v.type },
      'double-sign evidence',
    );
    for (const l of this.evidenceListeners) l(e);
    if (this.key) void this.submitEvidence(e);
    if (publish) {
      const bytes = EvidenceCodec.encode(e);
      this.network.publish('evidence', bytes).catch((err) => this.logger?.warn({ err }, 'evidence gossip failed'));
    }
  }

  /**
   * Puts the evidence in a block: an evidence/submit transaction from this validator's account
   * through the mempool (gossiped, so whichever validator proposes next includes it). Every
   * validator that saw it submits; the first recorded wins, later ones fail as duplicates.
   */
  private async submitEvidence(e: Evidence): Promise<void> {
    try {
      const self = this.self!;
      const account = await readAccount(this.chain.app.queryContext(this.chain).state, self);
      const bytes = buildTx(
        this.key!,
        submitEvidenceTx,
        {
          validator: e.first!.validator,
          first_vote: e.first!.vote,
          first_signature: e.first!.signature,
          second_vote: e.second!.vote,
          second_signature: e.second!.signature,
        },
        {
          chainId: this.chainId,
          nonce: account.nonce + this.mempool.pendingCount(self),
          fee: this.chain.app.params.minFee,
        },
      );
      await this.mempool.add(bytes);
    } catch (err) {
      this.logger?.info(
        { code: isTributaryError(err) ? err.code : undefined, err: isTributaryError(err) ? undefined : err },
        'evidence not submitted',
      );
    }
  }

  /** Two votes of one known validator, same chain, height, round and type, different blocks, both signatures valid. */
  private async checkEvidence(data: Uint8Array): Promise<Evidence> {
    const e = EvidenceCodec.decode(data);
    if (!e.first || !e.second) throw new TributaryError('consensus/malformed_message', 'evidence needs two votes');
    checkValidatorField(e.first);
    checkValidatorField(e.second);
    const a = VoteCodec.decode(e.first.vote);
    const b = VoteCodec.decode(e.second.vote);
    const same = a.chain_id === b.chain_id && a.height === b.height && a.round === b.round && a.type === b.type;
    if (
      !same ||
      !bytesEqual(e.first.validator, e.second.validator) ||
      bytesEqual(a.block_hash, b.block_hash) ||
      !isVoteType(a.type)
    ) {
      throw new TributaryError('consensus/malformed_message', 'the two votes do not conflict');
    }
    if (a.chain_id !== this.chainId)
      throw new TributaryError('consensus/wrong_chain', `evidence for chain ${a.chain_id}`);
    // Validator sets are known around the tip only; older evidence is not ours to judge (ignored).
    if (a.height < this.chain.latestHeight - 8 || a.height > this.chain.latestHeight + 2) {
      throw new TributaryError('consensus/wrong_height', `evidence for height ${a.height}`);
    }
    const validator = (await this.chain.validatorSet(a.height)).get(e.first.validator);
    if (!validator)
      throw new TributaryError('consensus/unknown_validator', 'evidence against a validator not in the set');
    for (const [signed, vote] of [
      [e.first, a],
      [e.second, b],
    ] as const) {
      const signBytes = voteSignBytesOf(vote);
      if (!verifyEd25519(validator.publicKey, signBytes, signed.signature)) {
        throw new TributaryError(
          'consensus/bad_vote_signature',
          'a vote of the evidence is not signed by its validator',
        );
      }
    }
    return e;
  }

  // ---- Catching up ----

  private requestCatchUpSoon(): void {
    if (this.now() - this.lastCatchUpAt < 500) return;
    this.requestCatchUp();
  }

  private requestCatchUp(): void {
    if (this.catchingUp || this.stopped) return;
    this.catchingUp = true;
    this.lastCatchUpAt = this.now();
    void this.catchUp()
      .catch((e) =>
        this.logger?.warn(
          { code: isTributaryError(e) ? e.code : undefined, err: isTributaryError(e) ? undefined : e },
          'catch-up failed',
        ),
      )
      .finally(() => {
        this.catchingUp = false;
        this.lastCatchUpAt = this.now();
      });
  }

  /**
   * Asks peers for their height; if one is ahead, imports its blocks (every certificate,
   * transaction and root verified by Chain.importBlock) and restarts consensus at the new tip.
   */
  async catchUp(): Promise<number> {
    const before = this.chain.latestHeight;
    try {
      // Blocks keep coming while we import: ask again until no peer is ahead.
      while (!this.stopped && (await this.catchUpOnce()) > 0);
    } finally {
      // Also after a failed request part-way: the machine of an imported height must not stay.
      if (this.chain.latestHeight > before) {
        this.logger?.info(
          { height: this.chain.latestHeight, imported: this.chain.latestHeight - before },
          'caught up; back to consensus',
        );
        await this.enqueue(() => this.enterHeight(this.chain.latestHeight + 1));
      }
    }
    return this.chain.latestHeight - before;
  }

  private async catchUpOnce(): Promise<number> {
    let best: { peer: string; height: number } | undefined;
    for (const peer of this.network.peers()) {
      try {
        const status = await this.syncClient.requestStatus(peer);
        if (!best || status.height > best.height) best = { peer, height: status.height };
      } catch {
        // not a node of this chain, or gone
      }
    }
    if (best && best.height > this.bestPeerHeight) this.bestPeerHeight = best.height;
    if (!best || best.height <= this.chain.latestHeight) return 0;
    const target = best.height;
    const meter = new ProgressMeter(this.chain.latestHeight, target, this.now);
    let imported = 0;
    let lastLog = this.now();
    while (!this.stopped && this.chain.latestHeight < target) {
      const from = this.chain.latestHeight + 1;
      const count = Math.min(64, target - from + 1);
      const got = await this.syncClient.requestBlocks(best.peer, from, count);
      if (got.length === 0) break;
      const n = await this.enqueue(async () => {
        let done = 0;
        for (const { block, commit } of got) {
          if (block.header!.height !== this.chain.latestHeight + 1) continue;
          this.lastPrepared = undefined;
          await this.chain.importBlock(block, commit);
          // The machine of the imported height must not act any more (it was decided elsewhere).
          this.decided = true;
          done += 1;
        }
        if (done > 0) {
          this.lastCommit = undefined;
          await this.wal.prune(this.chain.latestHeight);
        }
        return done;
      });
      imported += n ?? 0;
      if (!n) break;
      const now = this.now();
      if (now - lastLog >= 1000 || this.chain.latestHeight >= target) {
        lastLog = now;
        // A node's stderr is its log stream, so sync progress is always log lines, never a bar.
        this.logger?.info(meter.figures(this.chain.latestHeight), 'syncing');
      }
    }
    return imported;
  }
}

function emptyRecord(): WalRecord {
  return {
    kind: 0,
    proposal: undefined,
    block: new Uint8Array(),
    valid: false,
    vote: undefined,
    timeout_step: 0,
    round: 0,
  };
}
