import type { Logger } from 'pino';
import { toHex } from '../crypto/hash.ts';
import { TributaryError, isTributaryError } from '../errors.ts';
import type { Application, Simulation } from '../state/app.ts';
import { badSignature, type DecodedTx } from '../state/tx.ts';
import type { WorkingState } from '../state/working-state.ts';
import type { SignatureVerifier } from '../crypto/verify-pool.ts';
import type { CheckStateOwner } from './chain.ts';
import { DEFAULT_MEMPOOL_LIMITS, type MempoolLimits } from './mempool-limits.ts';

export type MempoolErrorCode =
  | 'mempool/full'
  | 'mempool/duplicate'
  | 'mempool/sender_limit'
  | 'mempool/queue_full'
  | 'mempool/not_ready';

export { DEFAULT_MEMPOOL_LIMITS, type MempoolLimits } from './mempool-limits.ts';

interface SenderUse {
  count: number;
  bytes: number;
}

interface QueuedTx {
  tx: DecodedTx;
  atMs: number;
}

/** Transactions rechecked per turn of the lock after a commit, before yielding to other work. */
const RECHECK_CHUNK = 256;
/** Weight of the newest sample in the running cost of a check (node-local timing, never consensus). */
const COST_SAMPLE_WEIGHT = 0.2;

/**
 * Pending transactions, and the one owner of the check state (committed state plus every pending
 * transaction). Admission runs every stateless check and then the transaction itself against the
 * check state, so a sender's transactions are pending only in nonce order and only while the
 * sender can pay for them. Arrival order is kept, which is also per-sender nonce order, and
 * blocks are reaped in it.
 *
 * As geth's pool does, a transaction whose nonce is ahead of the sender's next one is not refused
 * but queued (at most `maxQueuedPerSender` nonces ahead), and promoted to pending as soon as the
 * gap before it fills; queued transactions that wait longer than `queuedTtlMs` are dropped at the
 * next commit. So a client may submit its transactions in concurrent batches, in any order. Each
 * sender's pending plus queued transactions are capped in count and bytes (`mempool/sender_limit`).
 *
 * The check state is a single write buffer with a checkpoint stack, which concurrent callers would
 * corrupt, so admission, the post-commit recheck and every commit (`Chain.commitBlock` takes this
 * lock through `CheckStateOwner`) are serialised by one lock. Reaping needs no lock: it reads the
 * pending list synchronously, and a proposal leaves out whatever no longer applies. After a commit
 * the recheck runs in chunks and yields between them, so it never holds up the next proposal or
 * commit; new admissions wait for it, since they must see every earlier pending transaction.
 */
export class Mempool implements CheckStateOwner {
  private readonly app: Application;
  private checkState: WorkingState;
  /** Bumped at every commit; a recheck of an older generation stops. */
  private generation = 0;
  private rechecking: Promise<void> = Promise.resolve();
  /** Pending ids still to recheck against the current check state, and how far it got. */
  private recheckQueue: string[] = [];
  private recheckAt = 0;
  private readonly limits: MempoolLimits;
  private readonly logger: Logger | undefined;
  private readonly pending = new Map<string, DecodedTx>(); // insertion order = arrival order
  private bytes = 0;
  private readonly pendingBySender = new Map<string, number>();
  /** Pending plus queued, per sender: what the per-sender caps count. */
  private readonly useBySender = new Map<string, SenderUse>();
  /** Per sender, by nonce: transactions waiting for the gap before them to fill. */
  private readonly queued = new Map<string, Map<number, QueuedTx>>();
  private readonly queuedById = new Map<string, { sender: string; nonce: number }>();
  private queuedCount = 0;
  private readonly now: () => number;
  private readonly notReady: () => string | undefined;
  /** The lock: who holds it, and who waits (commits first, then everyone else in arrival order). */
  private held = false;
  private readonly lockWaiters: (() => void)[] = [];
  private readonly lockWaitersFirst: (() => void)[] = [];
  private readonly verifier: SignatureVerifier | undefined;
  /** Running cost of one `checkTx` on this node, in microseconds (0 until measured). */
  private checkMicros = 0;

  /** With a `verifier`, signatures are checked on worker threads; without, inline. */
  constructor(
    app: Application,
    limits: Partial<MempoolLimits> = {},
    logger?: Logger,
    verifier?: SignatureVerifier,
    now: () => number = Date.now,
    /** Why the node cannot commit blocks now (storage refusing writes), or undefined. */
    notReady: () => string | undefined = () => undefined,
  ) {
    this.app = app;
    this.notReady = notReady;
    this.limits = { ...DEFAULT_MEMPOOL_LIMITS, ...limits };
    this.now = now;
    this.logger = logger;
    this.verifier = verifier;
    this.checkState = app.newCheckState();
  }

  get size(): number {
    return this.pending.size;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  /** Transactions waiting for a gap in their sender's nonces to fill. */
  get queuedSize(): number {
    return this.queuedCount;
  }

  /**
   * How many pending transactions this node takes: `maxTxs`, lowered to what one recheck gets
   * through in `recheckBudgetMs` at the measured cost of a check, but not below `minCapacity`.
   * Every commit rechecks the whole pool, on every node, and admissions wait for it; a pool
   * allowed to grow past what a block interval can recheck (50,000 transactions is seconds of
   * CPU) makes each commit's recheck outlast the next commit, so admissions stall. Refusing with
   * `mempool/full` instead is the back-pressure clients see, as in CometBFT's size-capped pool.
   */
  get capacity(): number {
    const { maxTxs, recheckBudgetMs, minCapacity } = this.limits;
    if (recheckBudgetMs <= 0 || this.checkMicros === 0) return maxTxs;
    return Math.min(maxTxs, Math.max(minCapacity, Math.floor((recheckBudgetMs * 1000) / this.checkMicros)));
  }

  /** Pending transactions not yet rechecked since the last commit. */
  get recheckRemaining(): number {
    return this.recheckQueue.length - this.recheckAt;
  }

  /** Runs `fn` with the mempool to itself, after everything queued before it. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.queueForLock(fn, this.lockWaiters);
  }

  /**
   * Runs `fn` with the mempool to itself as soon as the current holder is done, ahead of queued
   * admissions: a commit must never wait behind a flood of submissions (thousands can be queued),
   * or the flood would stop block production. Order among admissions is unchanged.
   */
  exclusiveFirst<T>(fn: () => Promise<T>): Promise<T> {
    return this.queueForLock(fn, this.lockWaitersFirst);
  }

  private queueForLock<T>(fn: () => Promise<T>, queue: (() => void)[]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      queue.push(() => {
        // Through a promise, so that a synchronous throw also releases the lock.
        Promise.resolve()
          .then(fn)
          .then(resolve, reject)
          .finally(() => {
            this.held = false;
            this.runNextHolder();
          });
      });
      if (!this.held) this.runNextHolder();
    });
  }

  private runNextHolder(): void {
    if (this.held) return;
    const next = this.lockWaitersFirst.shift() ?? this.lockWaiters.shift();
    if (!next) return;
    this.held = true;
    next();
  }

  /** Decode, verify and admit; resolves to the transaction, rejects with a coded error. */
  async add(bytes: Uint8Array): Promise<DecodedTx> {
    const reason = this.notReady();
    if (reason !== undefined) {
      // Nothing can be committed now: admitting would only grow a queue no block drains.
      throw new TributaryError('mempool/not_ready', `the node cannot commit blocks now (${reason}); try again later`, {
        reason,
      });
    }
    // Before any decoding or signature work: refusing a full pool must cost next to nothing, or
    // the refusals themselves take the CPU an overloaded node needs.
    if (this.pending.size >= this.capacity) throw this.full();
    // Stateless checks need no shared state and run before the lock. The signature check starts
    // now (on a worker when there is one); every admission then waits for the same recheck and
    // takes its place in the lock queue in the order it came, so admission order is arrival
    // order however verification interleaves.
    const tx = this.app.decodeTx(bytes, this.verifier === undefined);
    const verified = this.verifier?.verify(tx.body.sender_pubkey, tx.signBytes, tx.signature);
    return this.onSettledCheckState(async () => {
      if (verified && !(await verified)) throw badSignature();
      const id = toHex(tx.hash);
      const sender = toHex(tx.sender);
      if (this.pending.has(id) || this.queuedById.has(id)) {
        throw new TributaryError('mempool/duplicate', 'transaction is already pending', { hash: id });
      }
      if (this.pending.size >= this.capacity || this.bytes + bytes.length > this.limits.maxBytes) throw this.full();
      const use = this.useBySender.get(sender) ?? { count: 0, bytes: 0 };
      if (use.count >= this.limits.maxTxsPerSender || use.bytes + bytes.length > this.limits.maxBytesPerSender) {
        throw new TributaryError(
          'mempool/sender_limit',
          `this sender already has ${use.count} transactions (${use.bytes} bytes) waiting; the limit is ` +
            `${this.limits.maxTxsPerSender} (${this.limits.maxBytesPerSender} bytes)`,
          { count: use.count, max: this.limits.maxTxsPerSender },
        );
      }
      const started = process.hrtime.bigint();
      try {
        await this.app.checkTx(this.checkState, tx);
      } catch (e) {
        if (isTributaryError(e) && e.code === 'tx/nonce_too_high') return this.enqueue(tx, sender, e);
        throw e;
      }
      this.sampleCheckCost(started, 1);
      this.addPending(id, sender, tx);
      await this.promote(sender);
      return tx;
    });
  }

  /**
   * Simulates a transaction on the check state (so the mempool's pending transactions count: the
   * nonce to use is `account_nextNonce`'s) and leaves it as it was. The signature is not checked:
   * the fee it reports is what the sender then signs over. Admits nothing.
   */
  async simulate(bytes: Uint8Array): Promise<Simulation> {
    const tx = this.app.decodeTx(bytes, false);
    return this.onSettledCheckState(() => this.app.simulateTx(this.checkState, tx));
  }

  /**
   * Runs `fn` holding the lock on a check state no recheck is rebuilding: a commit may start a
   * recheck while this waits for the lock, and then it waits for that recheck and tries again.
   */
  private async onSettledCheckState<T>(fn: () => Promise<T>): Promise<T> {
    for (;;) {
      await this.afterRecheck();
      const outcome = await this.exclusive(async () =>
        this.recheckQueue.length > 0 ? undefined : { value: await fn() },
      );
      if (outcome) return outcome.value;
    }
  }

  /** Waits until no recheck is running, including one started by a commit while waiting. */
  private async afterRecheck(): Promise<void> {
    for (;;) {
      const current = this.rechecking;
      await current;
      if (current === this.rechecking) return;
    }
  }

  private full(): TributaryError {
    return new TributaryError(
      'mempool/full',
      `mempool is full (${this.pending.size} transactions, ${this.bytes} bytes); retry after the next block`,
      { pending: this.pending.size, max: this.capacity },
    );
  }

  private sampleCheckCost(started: bigint, checks: number): void {
    if (checks === 0) return;
    const micros = Number(process.hrtime.bigint() - started) / 1000 / checks;
    this.checkMicros =
      this.checkMicros === 0 ? micros : this.checkMicros + COST_SAMPLE_WEIGHT * (micros - this.checkMicros);
  }

  private addPending(id: string, sender: string, tx: DecodedTx): void {
    this.pending.set(id, tx);
    this.bytes += tx.bytes.length;
    this.pendingBySender.set(sender, (this.pendingBySender.get(sender) ?? 0) + 1);
    const use = this.useBySender.get(sender) ?? { count: 0, bytes: 0 };
    this.useBySender.set(sender, { count: use.count + 1, bytes: use.bytes + tx.bytes.length });
  }

  /** Holds a transaction whose nonce is ahead; `tooHigh` says which nonce is next. */
  private enqueue(tx: DecodedTx, sender: string, tooHigh: TributaryError): DecodedTx {
    const expected = Number(tooHigh.data?.expected);
    if (tx.body.nonce - expected > this.limits.maxQueuedPerSender) throw tooHigh;
    const mine = this.queued.get(sender) ?? new Map<number, QueuedTx>();
    if (mine.has(tx.body.nonce)) {
      throw new TributaryError('mempool/duplicate', `a transaction with nonce ${tx.body.nonce} is already queued`);
    }
    if (mine.size >= this.limits.maxQueuedPerSender || this.queuedCount >= this.limits.maxQueued) {
      throw new TributaryError('mempool/queue_full', `no room to queue nonce ${tx.body.nonce} ahead of ${expected}`, {
        expected,
      });
    }
    mine.set(tx.body.nonce, { tx, atMs: this.now() });
    this.queued.set(sender, mine);
    this.queuedById.set(toHex(tx.hash), { sender, nonce: tx.body.nonce });
    this.queuedCount += 1;
    const use = this.useBySender.get(sender) ?? { count: 0, bytes: 0 };
    this.useBySender.set(sender, { count: use.count + 1, bytes: use.bytes + tx.bytes.length });
    return tx;
  }

  private unqueue(sender: string, nonce: number): QueuedTx | undefined {
    const mine = this.queued.get(sender);
    const entry = mine?.get(nonce);
    if (!mine || !entry) return undefined;
    mine.delete(nonce);
    if (mine.size === 0) this.queued.delete(sender);
    this.queuedById.delete(toHex(entry.tx.hash));
    this.queuedCount -= 1;
    this.release(sender, entry.tx.bytes.length);
    return entry;
  }

  private release(sender: string, bytes: number): void {
    const use = this.useBySender.get(sender);
    if (!use) return;
    if (use.count <= 1) this.useBySender.delete(sender);
    else this.useBySender.set(sender, { count: use.count - 1, bytes: use.bytes - bytes });
  }

  /** Inside the lock: moves the sender's queued transactions whose turn has come into pending. */
  private async promote(sender: string): Promise<void> {
    for (;;) {
      const mine = this.queued.get(sender);
      if (!mine) return;
      const lowest = Math.min(...mine.keys());
      const entry = mine.get(lowest)!;
      try {
        await this.app.checkTx(this.checkState, entry.tx);
      } catch (e) {
        if (isTributaryError(e) && e.code === 'tx/nonce_too_high') return; // the gap is still open
        this.unqueue(sender, lowest); // stale nonce or no longer valid: dropped
        this.logger?.debug({ code: isTributaryError(e) ? e.code : 'unknown' }, 'queued transaction dropped');
        continue;
      }
      this.unqueue(sender, lowest);
      this.addPending(toHex(entry.tx.hash), sender, entry.tx);
    }
  }

  /** Pending or queued. */
  get(hash: Uint8Array): DecodedTx | undefined {
    return this.pending.get(toHex(hash)) ?? this.findQueued(hash);
  }

  isQueued(hash: Uint8Array): boolean {
    return this.findQueued(hash) !== undefined;
  }

  private findQueued(hash: Uint8Array): DecodedTx | undefined {
    const at = this.queuedById.get(toHex(hash));
    return at ? this.queued.get(at.sender)?.get(at.nonce)?.tx : undefined;
  }

  /** The next transactions for a block, in arrival order, within the block's limits. */
  reap(maxTxs: number, maxBytes: number): DecodedTx[] {
    const out: DecodedTx[] = [];
    let bytes = 0;
    for (const tx of this.pending.values()) {
      if (out.length >= maxTxs || bytes + tx.bytes.length > maxBytes) break;
      out.push(tx);
      bytes += tx.bytes.length;
    }
    return out;
  }

  /**
   * Right after a block commits, inside the lock (`Chain.commitBlock`): drop what it included or
   * dropped, start a new check state on the committed state, and recheck the rest in the background.
   */
  afterCommit(removed: readonly Uint8Array[]): void {
    for (const hash of removed) this.remove(toHex(hash));
    this.checkState = this.app.newCheckState();
    this.recheckQueue = [...this.pending.keys()];
    this.recheckAt = 0;
    const generation = ++this.generation;
    const run = this.recheckQueue.length > 0 ? this.recheck(generation) : this.exclusive(() => this.afterRecheckDone());
    // Only a bug can throw here (checkTx failures are caught per transaction). Admissions must not
    // wait on it forever: what was not rechecked stays pending, and a proposal leaves it out if invalid.
    this.rechecking = run.catch((e: unknown) => {
      this.logger?.error({ err: e }, 'mempool recheck failed');
      if (generation === this.generation) this.recheckQueue = [];
    });
  }

  /** Inside the lock, once the check state holds every pending transaction again. */
  private async afterRecheckDone(): Promise<void> {
    const cutoff = this.now() - this.limits.queuedTtlMs;
    for (const [sender, mine] of [...this.queued]) {
      for (const [nonce, q] of [...mine]) if (q.atMs < cutoff) this.unqueue(sender, nonce);
      await this.promote(sender);
    }
  }

  /** Re-runs every pending transaction against the new check state, evicting what no longer fits. */
  private async recheck(generation: number): Promise<void> {
    while (generation === this.generation && this.recheckAt < this.recheckQueue.length) {
      await this.exclusive(async () => {
        const end = Math.min(this.recheckAt + RECHECK_CHUNK, this.recheckQueue.length);
        const started = process.hrtime.bigint();
        const from = this.recheckAt;
        while (generation === this.generation && this.recheckAt < end) {
          const id = this.recheckQueue[this.recheckAt++]!;
          const tx = this.pending.get(id);
          if (!tx) continue;
          try {
            await this.app.checkTx(this.checkState, tx);
          } catch (e) {
            this.remove(id);
            this.logger?.debug({ tx: id, code: isTributaryError(e) ? e.code : 'unknown' }, 'evicted on recheck');
          }
        }
        this.sampleCheckCost(started, this.recheckAt - from);
        if (generation === this.generation && this.recheckAt >= this.recheckQueue.length) {
          this.recheckQueue = [];
          await this.afterRecheckDone();
        }
      });
      // Let timers (the next proposal) and I/O run between chunks.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private remove(id: string): void {
    const tx = this.pending.get(id);
    if (!tx) return;
    this.pending.delete(id);
    this.bytes -= tx.bytes.length;
    const sender = toHex(tx.sender);
    const left = (this.pendingBySender.get(sender) ?? 1) - 1;
    if (left === 0) this.pendingBySender.delete(sender);
    else this.pendingBySender.set(sender, left);
    this.release(sender, tx.bytes.length);
  }

  /** Next nonce for a sender counting its pending transactions (what a wallet should sign next). */
  pendingCount(sender: Uint8Array): number {
    return this.pendingBySender.get(toHex(sender)) ?? 0;
  }
}
