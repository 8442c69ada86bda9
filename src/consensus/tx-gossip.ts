import type { Logger } from 'pino';
import { verdictFor, type GossipVerdict, type P2pNetwork } from '../p2p/network.ts';
import type { DecodedTx } from '../state/tx.ts';
import { Mempool } from './mempool.ts';
import { TxBatchCodec } from './messages.ts';

/** A batch is sent when it holds this many transactions or bytes, or this long after its first one. */
const BATCH_MAX_TXS = 512;
const BATCH_MAX_BYTES = 512 * 1024;
const BATCH_MAX_DELAY_MS = 10;
/**
 * Admissions waiting for the mempool lock at once. Commits take the same lock in arrival order, so
 * an unbounded flood of admissions (RPC and gossip) would hold every commit behind all of them.
 */
const MAX_ADMISSIONS_IN_FLIGHT = 128;

/**
 * A mempool whose admissions (from RPC) are gossiped on the `tx` topic in small batches
 * (`TxBatch`), and which admits what peers gossip through the same `add` checks: a batch is
 * forwarded only when this node admitted something new from it. A transaction that fails with a
 * code `verdictFor` calls invalid (bad signature or encoding) rejects the whole batch and counts
 * against the peer; nonce, fee or duplicate failures are normal between mempools and do not.
 */
export class GossipMempool extends Mempool {
  private network: P2pNetwork | undefined;
  private gossipLogger: Logger | undefined;
  private batch: Uint8Array[] = [];
  private batchBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  /** Subscribes to the tx topic; from now on admissions are published. */
  attach(network: P2pNetwork, logger?: Logger): void {
    this.network = network;
    this.gossipLogger = logger;
    network.onGossip(
      'tx',
      (data) => this.admitBatch(data),
      () => undefined, // admitted by the validator already
    );
  }

  override async add(bytes: Uint8Array): Promise<DecodedTx> {
    const tx = await this.admit(bytes);
    if (this.network) this.queueForGossip(bytes);
    return tx;
  }

  private async admit(bytes: Uint8Array): Promise<DecodedTx> {
    if (this.inFlight >= MAX_ADMISSIONS_IN_FLIGHT) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight += 1;
    try {
      return await super.add(bytes);
    } finally {
      this.inFlight -= 1;
      this.waiting.shift()?.();
    }
  }

  private async admitBatch(data: Uint8Array): Promise<GossipVerdict> {
    let txs: Uint8Array[];
    try {
      txs = TxBatchCodec.decode(data).txs;
    } catch (e) {
      return verdictFor(e);
    }
    // All at once: signatures are checked in parallel, admission keeps this order.
    const verdicts = await Promise.all(
      txs.map((tx) =>
        this.admit(tx).then(
          () => 'accept' as const,
          (e: unknown) => verdictFor(e),
        ),
      ),
    );
    if (verdicts.includes('reject')) return 'reject';
    return verdicts.includes('accept') ? 'accept' : 'ignore';
  }

  private queueForGossip(bytes: Uint8Array): void {
    this.batch.push(bytes);
    this.batchBytes += bytes.length;
    if (this.batch.length >= BATCH_MAX_TXS || this.batchBytes >= BATCH_MAX_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), BATCH_MAX_DELAY_MS);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.batch.length === 0) return;
    const txs = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    this.network
      ?.publish('tx', TxBatchCodec.encode({ txs }))
      .catch((e) => this.gossipLogger?.warn({ err: e }, 'transaction gossip failed'));
  }
}
