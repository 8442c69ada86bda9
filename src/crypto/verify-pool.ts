import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { verifyEd25519 } from './ed25519.ts';
import type { VerifyBatch } from './verify-worker.ts';

type InlinePolicy = 'when-idle' | 'always' | 'never';

interface Pending {
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
  resolve: (ok: boolean) => void;
}

const MAX_BATCH = 512;
/**
 * A flush is cut into messages of at most this many signatures, spread over the workers: the
 * caller can act on the first results (admission checks each transaction on the main thread)
 * while a worker still verifies the rest, instead of waiting for the whole batch.
 */
const CHUNK = 25;
/**
 * Below this share of busy time on the main thread's event loop (over the last sampling period),
 * a flush of several chunks verifies its first chunk on the main thread while the workers take
 * the rest: one client submitting a batch at a time otherwise waits for the worker with the main
 * thread idle (bench/rpc.ts, 1 client, OpenSSL: batch p50 16-17 ms against 19-20, 4,505-4,735
 * tx/s against 3,750-4,488; libsodium: 6,450-7,420 tx/s against 5,960-7,065 in alternating runs;
 * at 0.5 it hardly ever applied, since admission alone keeps the loop ~60 % busy). A saturated
 * main thread (it executes blocks) leaves every signature to the workers.
 */
const INLINE_BELOW_UTILIZATION = 0.9;
const UTILIZATION_SAMPLE_MS = 100;

/**
 * Ed25519 verification on worker threads, so the main thread can execute blocks while other
 * cores check signatures. Requests made in the same turn of the event loop travel together, in
 * messages of CHUNK (not one per signature: posting a message costs about as much as a verify).
 * The workers run the very same `verifyEd25519` (the rule of ./ed25519-rule.ts, then libsodium, or
 * OpenSSL where sodium-native has no build), so the acceptance rule does not change; only lengths
 * are checked here, and the worker decides the rest. Hand-written because no maintained package
 * spreads batches of Ed25519 verifications over worker threads.
 */
export class SignatureVerifier {
  private readonly workers: Worker[];
  private readonly inFlight: number[];
  private readonly waiting = new Map<number, { worker: number; items: Pending[] }>();
  private queue: Pending[] = [];
  private flushScheduled = false;
  private nextId = 1;
  private closed = false;
  /** Signatures a flush verified on the main thread (its first chunk), so tests can tell the policies apart. */
  verifiedInline = 0;
  private utilizationMark = performance.eventLoopUtilization();
  private mainIdle = false;

  /** When a flush verifies its first chunk on the main thread: `when-idle` in a node; the others for tests. */
  private readonly inlineFirstChunk: InlinePolicy;

  private constructor(workers: Worker[], inlineFirstChunk: InlinePolicy) {
    this.inlineFirstChunk = inlineFirstChunk;
    this.workers = workers;
    this.inFlight = workers.map(() => 0);
    workers.forEach((w, index) => {
      w.on('message', (m: { id: number; results: Uint8Array }) => this.settle(m.id, m.results));
      w.on('error', () => this.failWorker(index));
      w.unref();
    });
  }

  /** Workers = cores - 1 (the main thread keeps one); none on a single core, where it verifies inline. */
  static create(
    workerCount = Math.max(0, availableParallelism() - 1),
    inlineFirstChunk: InlinePolicy = 'when-idle',
  ): SignatureVerifier {
    const workers = Array.from(
      { length: workerCount },
      // The worker's own file: the .ts source, or its .js in a compiled build (npm run build).
      () =>
        new Worker(
          new URL(import.meta.url.endsWith('.js') ? './verify-worker.js' : './verify-worker.ts', import.meta.url),
        ),
    );
    return new SignatureVerifier(workers, inlineFirstChunk);
  }

  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
    if (this.workers.length === 0 || this.closed) return Promise.resolve(verifyEd25519(publicKey, message, signature));
    return new Promise((resolve) => {
      this.queue.push({ publicKey, message, signature, resolve });
      if (this.queue.length >= MAX_BATCH) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Whether the loop was mostly idle over the last sample (re-sampled at most every 100 ms). */
  private mainThreadIdle(): boolean {
    const delta = performance.eventLoopUtilization(this.utilizationMark);
    if (delta.idle + delta.active >= UTILIZATION_SAMPLE_MS) {
      this.mainIdle = delta.utilization < INLINE_BELOW_UTILIZATION;
      this.utilizationMark = performance.eventLoopUtilization();
    }
    return this.mainIdle;
  }

  private flush(): void {
    this.flushScheduled = false;
    // Taken before the workers' chunks are posted, verified after: they start first.
    const inline =
      this.queue.length > CHUNK &&
      this.inlineFirstChunk !== 'never' &&
      (this.inlineFirstChunk === 'always' || this.mainThreadIdle())
        ? this.queue.splice(0, CHUNK)
        : [];
    this.postQueued();
    this.verifiedInline += inline.length;
    for (const p of inline) p.resolve(verifyEd25519(p.publicKey, p.message, p.signature));
  }

  private postQueued(): void {
    while (this.queue.length > 0) {
      const items = this.queue.splice(0, CHUNK);
      // Lengths are checked here: a malformed key or signature never reaches a worker.
      const valid = items.filter((p) => {
        if (p.publicKey.length === 32 && p.signature.length === 64) return true;
        p.resolve(false);
        return false;
      });
      if (valid.length === 0) continue;
      let worker = 0;
      for (let i = 1; i < this.workers.length; i++) if (this.inFlight[i]! < this.inFlight[worker]!) worker = i;
      const count = valid.length;
      const publicKeys = new Uint8Array(count * 32);
      const signatures = new Uint8Array(count * 64);
      const offsets = new Uint32Array(count + 1);
      let total = 0;
      valid.forEach((p, i) => {
        offsets[i] = total;
        total += p.message.length;
      });
      offsets[count] = total;
      const messages = new Uint8Array(total);
      valid.forEach((p, i) => {
        publicKeys.set(p.publicKey, i * 32);
        signatures.set(p.signature, i * 64);
        messages.set(p.message, offsets[i]!);
      });
      const id = this.nextId++;
      this.waiting.set(id, { worker, items: valid });
      // A worker keeps the process alive only while it has work: idle pools never block an exit.
      if (this.inFlight[worker] === 0) this.workers[worker]!.ref();
      this.inFlight[worker]! += count;
      const batch: VerifyBatch = { id, count, publicKeys, signatures, messages, offsets };
      this.workers[worker]!.postMessage(batch, [publicKeys.buffer, signatures.buffer, messages.buffer, offsets.buffer]);
    }
  }

  private settle(id: number, results: Uint8Array): void {
    const entry = this.waiting.get(id);
    if (!entry) return;
    this.waiting.delete(id);
    this.inFlight[entry.worker]! -= entry.items.length;
    if (this.inFlight[entry.worker] === 0) this.workers[entry.worker]!.unref();
    entry.items.forEach((p, i) => {
      p.resolve(results[i] === 1);
    });
  }

  /** A dead worker's batches are verified inline, so no caller waits forever. */
  private failWorker(index: number): void {
    for (const [id, entry] of this.waiting) {
      if (entry.worker !== index) continue;
      this.waiting.delete(id);
      for (const p of entry.items) p.resolve(verifyEd25519(p.publicKey, p.message, p.signature));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.flush();
    for (const [id, entry] of this.waiting) {
      this.waiting.delete(id);
      for (const p of entry.items) p.resolve(verifyEd25519(p.publicKey, p.message, p.signature));
    }
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
