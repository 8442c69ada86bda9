import { TributaryError } from '../errors.ts';
import type { RpcClient, SubscriptionStream, TxInclusion, TxRecord } from '../rpc/client.ts';
import type { CliErrorCode } from './errors.ts';

/*
 * `tx ... --wait`: the node tells us when the transaction is in a block (the `tx` inclusion
 * subscription over WebSocket, through the typed client), and only if that subscription cannot
 * be made (no WebSocket through a proxy, a node without it) does the CLI fall back to asking
 * tx_get every 100 ms. Either way it ends with the committed record (receipt and events).
 */

const POLL_MS = 100;

export interface WaitOutcome {
  tx: TxRecord;
  /** How the inclusion was learnt: "subscription", or "polling" after the subscription failed. */
  via: 'subscription' | 'polling';
}

function timeout(hash: string, timeoutMs: number): TributaryError {
  return new TributaryError<CliErrorCode>('cli/timeout', `transaction ${hash} not committed within ${timeoutMs} ms`);
}

const settled = (tx: TxRecord | null): tx is TxRecord =>
  tx !== null && (tx.status === 'committed' || tx.status === 'failed');

export async function waitForTx(rpc: RpcClient, hash: string, timeoutMs: number): Promise<WaitOutcome> {
  const deadline = Date.now() + timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(timeout(hash, timeoutMs)), timeoutMs);
  });
  let stream: SubscriptionStream<TxInclusion> | undefined;
  try {
    let inclusion: TxInclusion | undefined;
    try {
      // Few quick attempts: a node that has no WebSocket for us should cost little before polling.
      stream = rpc.subscribe('tx', { hash }, { maxAttempts: 2, minDelayMs: 100, connectTimeoutMs: 5_000 });
      const first = stream.next();
      const next = await Promise.race([first, expired]);
      inclusion = next.done ? undefined : next.value;
    } catch (e) {
      if (e instanceof TributaryError && e.code === 'cli/timeout') throw e;
      // The subscription failed: poll instead.
    } finally {
      stream?.close();
    }
    if (inclusion) {
      const tx = await rpc.call('tx_get', [hash]);
      if (settled(tx)) return { tx, via: 'subscription' };
    }
    const polled = await Promise.race([poll(rpc, hash, deadline, timeoutMs), expired]);
    return { tx: polled, via: 'polling' };
  } finally {
    clearTimeout(timer);
  }
}

async function poll(rpc: RpcClient, hash: string, deadline: number, timeoutMs: number): Promise<TxRecord> {
  for (;;) {
    const tx = await rpc.call('tx_get', [hash]);
    if (settled(tx)) return tx;
    if (Date.now() > deadline) throw timeout(hash, timeoutMs);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
