import type { Logger } from 'pino';
import { toHex } from '../crypto/hash.ts';
import { TributaryError, isTributaryError } from '../errors.ts';
import type { Application } from '../state/app.ts';
import { badSignature, type DecodedTx } from '../state/tx.ts';
import type { WorkingState } from '../state/working-state.ts';
import type { SignatureVerifier } from '../crypto/verify-pool.ts';
import type { CheckStateOwner } from './chain.ts';

export type MempoolErrorCode = 'mempool/full' | 'mempool/duplicate';

export interface MempoolLimits {
  maxTxs: number;
  maxBytes: number;
}

export const DEFAULT_MEMPOOL_LIMITS: MempoolLimits = { maxTxs: 50_000, maxBytes: 64 * 1024 * 1024 };

/** Transactions rechecked per turn of the lock after a commit, before yielding to other work. */
const RECHECK_CHUNK = 256;

/**
 * Pending transactions, and the one owner of the check state (committed state plus every pending
 * transaction). Admission runs every stateless check and then the transaction itself against the
 * check state, so a sender's transactions are admitted only in nonce order and only while the
 * sender can pay for them. Arrival order is kept, which is also per-sender nonce order, and
 * blocks are reaped in it.
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
  private readonly countBySender = new Map<string, number>();
  private lock: Promise<unknown> = Promise.resolve();
  private readonly verifier: SignatureVerifier | undefined;

  /** With a `verifier`, signatures are checked on worker threads; without, inline. */
  constructor(app: Application, limits: MempoolLimits = DEFAULT_MEMPOOL_LIMITS, logger?: Logger, verifier?: SignatureVerifier) {
    this.app = app;
    this.limits = limits;
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

  /** Pending transactions not yet rechecked since the last commit. */
  get recheckRemaining(): number {
    return this.recheckQueue.length - this.recheckAt;
  }

  /** Runs `fn` with the mempool to itself. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Decode, verify and admit; resolves to the transaction, rejects with a coded error. */
  async add(bytes: Uint8Array): Promise<DecodedTx> {
    // Stateless checks need no shared state and run before the lock. The signature check starts
    // now (on a worker when there is one); every admission then waits for the same recheck and
    // takes its place in the lock queue in the order it came, so admission order is arrival
    // order however verification interleaves.
    const tx = this.app.decodeTx(bytes, this.verifier === undefined);
    const verified = this.verifier?.verify(tx.body.sender_pubkey, tx.signBytes, tx.signature);
    for (;;) {
      await this.afterRecheck();
      const admitted = await this.exclusive(async () => {
        // A commit may have started a recheck while this one waited for the lock: wait for it.
        if (this.recheckQueue.length > 0) return undefined;
        if (verified && !(await verified)) throw badSignature();
        const id = toHex(tx.hash);
        if (this.pending.has(id)) throw new TributaryError('mempool/duplicate', 'transaction is already pending', { hash: id });
        if (this.pending.size >= this.limits.maxTxs || this.bytes + bytes.length > this.limits.maxBytes) {
          throw new TributaryError('mempool/full', `mempool is full (${this.pending.size} transactions, ${this.bytes} bytes)`);
        }
        await this.app.checkTx(this.checkState, tx);
        this.pending.set(id, tx);
        this.bytes += bytes.length;
        const sender = toHex(tx.sender);
        this.countBySender.set(sender, (this.countBySender.get(sender) ?? 0) + 1);
        return tx;
      });
      if (admitted) return admitted;
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

  get(hash: Uint8Array): DecodedTx | undefined {
    return this.pending.get(toHex(hash));
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
    if (this.recheckQueue.length > 0) this.rechecking = this.recheck(++this.generation);
  }

  /** Re-runs every pending transaction against the new check state, evicting what no longer fits. */
  private async recheck(generation: number): Promise<void> {
    while (generation === this.generation && this.recheckAt < this.recheckQueue.length) {
      await this.exclusive(async () => {
        const end = Math.min(this.recheckAt + RECHECK_CHUNK, this.recheckQueue.length);
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
        if (generation === this.generation && this.recheckAt >= this.recheckQueue.length) this.recheckQueue = [];
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
    const left = (this.countBySender.get(sender) ?? 1) - 1;
    if (left === 0) this.countBySender.delete(sender);
    else this.countBySender.set(sender, left);
  }

  /** Next nonce for a sender counting its pending transactions (what a wallet should sign next). */
  pendingCount(sender: Uint8Array): number {
    return this.countBySender.get(toHex(sender)) ?? 0;
  }
}
