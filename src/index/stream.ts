import type { ChainEvent } from '../state/module.ts';
import { blockEvents, type CommittedBlock } from './committed-block.ts';

/*
 * The chain's one event stream: published once per block, right after its batch is synced and the
 * block is the tip (Chain.append). RPC subscriptions and indexers subscribe here instead of
 * polling. Delivery is synchronous and in block order, so a listener sees every block exactly
 * once and a query it makes on delivery already sees that block; a listener with slow work queues
 * it. A listener that throws cannot fail the commit (the block is already durable): its error goes
 * to `onListenerError`.
 */

export type BlockListener = (block: CommittedBlock) => void;
export type EventListener = (event: ChainEvent) => void;

export interface EventStreamOptions {
  onListenerError?(error: unknown): void;
}

export class ChainEventStream {
  private readonly listeners = new Set<BlockListener>();
  private readonly onListenerError: (error: unknown) => void;

  constructor(opts: EventStreamOptions = {}) {
    this.onListenerError =
      opts.onListenerError ??
      ((e) => process.emitWarning(`chain event listener failed: ${(e as Error)?.stack ?? String(e)}`));
  }

  /** Every committed block; returns the unsubscribe function. */
  subscribe(listener: BlockListener): () => void {
    // A wrapper per subscription, so the same function subscribed twice is two subscriptions.
    const entry: BlockListener = (b) => listener(b);
    this.listeners.add(entry);
    return () => void this.listeners.delete(entry);
  }

  /** Every event of every committed block (optionally of one type), with its place in the chain. */
  subscribeEvents(listener: EventListener, filter: { type?: string } = {}): () => void {
    return this.subscribe((block) => {
      for (const e of blockEvents(block)) if (filter.type === undefined || e.event.type === filter.type) listener(e);
    });
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  publish(block: CommittedBlock): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(block);
      } catch (e) {
        this.onListenerError(e);
      }
    }
  }
}
