import type { Logger } from 'pino';
import { toHex } from '../crypto/hash.ts';
import { TributaryError, isTributaryError } from '../errors.ts';
import type { Application } from '../state/app.ts';
import { badSignature, type DecodedTx } from '../state/tx.ts';
import type { SignatureVerifier } from '../crypto/verify-pool.ts';

export type MempoolErrorCode = 'mempool/full' | 'mempool/duplicate';

export interface MempoolLimits {
  maxTxs: number;
  maxBytes: number;
}

export const DEFAULT_MEMPOOL_LIMITS: MempoolLimits = { maxTxs: 50_000, maxBytes: 64 * 1024 * 1024 };

/**
 * Pending transactions. Admission runs every stateless check and then the transaction itself
 * against the check state (committed state plus every pending transaction), so a sender's
 * transactions are admitted only in nonce order and only while the sender can pay for them.
 * Arrival order is kept, which is also per-sender nonce order, and blocks are reaped in it.
 *
 * Admission, reaping and the post-commit recheck are serialised through one lock: the check
 * state is a single write buffer with a checkpoint stack, which concurrent callers would corrupt.
 */
export class Mempool {
  private readonly app: Application;
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
  }

  get size(): number {
    return this.pending.size;
  }

  get sizeBytes(): number {
    return this.bytes;
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
    // now (on a worker when there is one), but the transaction takes its place in the lock queue
    // at once, so admission order is arrival order however verification interleaves.
    const tx = this.app.decodeTx(bytes, this.verifier === undefined);
    const verified = this.verifier?.verify(tx.body.sender_pubkey, tx.signBytes, tx.signature);
    return this.exclusive(async () => {
      if (verified && !(await verified)) throw badSignature();
      const id = toHex(tx.hash);
      if (this.pending.has(id)) throw new TributaryError('mempool/duplicate', 'transaction is already pending', { hash: id });
      if (this.pending.size >= this.limits.maxTxs || this.bytes + bytes.length > this.limits.maxBytes) {
        throw new TributaryError('mempool/full', `mempool is full (${this.pending.size} transactions, ${this.bytes} bytes)`);
      }
      await this.app.checkTx(tx);
      this.pending.set(id, tx);
      this.bytes += bytes.length;
      const sender = toHex(tx.sender);
      this.countBySender.set(sender, (this.countBySender.get(sender) ?? 0) + 1);
      return tx;
    });
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
   * After a block commits (call inside `exclusive`): drop what it included or dropped, then re-run
   * everything still pending against the new state and evict what no longer fits.
   */
  async afterCommit(removed: Iterable<Uint8Array>): Promise<void> {
    for (const hash of removed) this.remove(toHex(hash));
    this.app.resetCheckState();
    for (const [id, tx] of [...this.pending]) {
      try {
        await this.app.checkTx(tx);
      } catch (e) {
        this.remove(id);
        this.logger?.debug({ tx: id, code: isTributaryError(e) ? e.code : 'unknown' }, 'evicted on recheck');
      }
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
