import { chainEventView } from './events.ts';
import { hex0x as hx, type JsonValue } from '../codec/json.ts';
import type { Event } from '../codec/core.ts';
import type { Chain } from '../consensus/chain.ts';
import { formatAddress } from '../crypto/address.ts';
import { fromHex } from '../crypto/hash.ts';
import { TributaryError } from '../errors.ts';
import { blockEvents, type BlockWithEvents } from '../index/committed-block.ts';
import { listElements, moduleEvents } from '../state/events.ts';
import type { ChainEvent } from '../state/module.ts';
import {
  blockStart,
  decodeEventCursor,
  encodeEventCursor,
  type EventStreamPosition,
  isAfter,
  positionAfter,
} from './cursor.ts';
import { rpcError } from './errors.ts';
import { schema } from './openrpc.ts';
import { SUBSCRIBE_OPTIONS_SCHEMA } from './schemas.ts';
import { limitError } from './limits.ts';
import type { RpcContext, RpcMethod } from './methods.ts';
import { parseBlockTag } from './params.ts';

/*
 * Subscriptions over a WebSocket connection (src/rpc/ws.ts carries them): `newHeads`, filtered
 * `events` and one transaction's inclusion. Every subscription delivers blocks in height order,
 * each exactly once: it keeps the next height it owes (`next`) and, while that height is already
 * committed, reads it from the block store (a resume, or blocks committed between the subscribe
 * call and its start); once it has caught up with the tip it attaches to the chain's event stream
 * in the same synchronous step in which it saw the tip, so no block falls between the replay and
 * the live part, and a live block below `next` is dropped as already delivered.
 *
 * A position in the chain is an `EventStreamPosition` (src/rpc/cursor.ts): block `height` is the
 * next one owed, from after (slot, eventIndex) on; clients see it as the opaque cursor string
 * `chain_getEvents` pages with. It does not depend on a filter, so any subscription resumes from
 * any cursor (and from any `chain_getEvents` cursor); every `events` notification carries the
 * cursor after it.
 */

type Cursor = EventStreamPosition;

/** What a subscription hands its connection: the notification's result, and the cursor after it. */
export interface SubscriptionSink {
  /**
   * Sends a notification (`resultJson`: the result, already serialised); false when the
   * connection's buffer is full (the subscription is then lagging and stops; the connection
   * reports its `cursor` and closes).
   */
  deliver(subscription: string, resultJson: string): boolean;
  /**
   * Sends one notification whose result is a JSON array of `count` results (`resultsJson`: its
   * text as UTF-8 bytes, shared by every subscriber it is sent to); false as for `deliver`. The
   * caps count each of its results as a notification.
   */
  deliverMany(subscription: string, resultsJson: Buffer, count: number): boolean;
  /**
   * The most results and bytes one `deliverMany` may carry (half the connection's caps, where a
   * replay waits for room): a larger one could never fit, and the client would lag forever.
   */
  readonly batchLimits: { readonly count: number; readonly bytes: number };
  /** Whether the connection's buffer is below half its caps (where a replay may send). */
  readonly hasRoom: boolean;
  /** Resolves when `hasRoom` (or the connection closes): replay waits here instead of lagging. */
  room(): Promise<void>;
  /** The connection is gone or closing: stop. */
  readonly closed: boolean;
  /** The subscription has nothing more to send (a `tx` subscription after its inclusion). */
  finished(subscription: string): void;
  /** An unexpected failure (storage): the connection reports it and closes. */
  failed(subscription: string, error: unknown): void;
}

/** Decides which events an `events` subscription sends. */
export interface EventMatcher {
  matches(event: Event): boolean;
  /** The filter in one canonical text: subscriptions with equal keys are sent the same events. */
  readonly key: string;
}

/**
 * Events per notification of a batched subscription at most: a block's events go out in as few
 * frames as this allows (one frame and one write per block and subscriber instead of one per
 * event, and the frame's bytes are shared by every subscriber with the same filter), while a
 * frame stays a few hundred kilobytes, well inside the connection's byte cap.
 */
export const MAX_EVENTS_PER_NOTIFICATION = 1000;

export type SubscriptionKind = 'newHeads' | 'events' | 'tx';

export interface SubscriptionRequest {
  kind: SubscriptionKind;
  /** First height owed (newHeads, events); default: the block after the tip when subscribing. */
  from?: Cursor;
  matcher?: EventMatcher;
  txHash?: Uint8Array;
  /** `events` only: each notification's result is the list of up to MAX_EVENTS_PER_NOTIFICATION events. */
  batch?: boolean;
}

export class Subscription {
  readonly id: string;
  readonly kind: SubscriptionKind;
  private readonly chain: Chain;
  private readonly sink: SubscriptionSink;
  private readonly matcher: EventMatcher | undefined;
  private readonly txHash: Uint8Array | undefined;
  private readonly batch: boolean;
  /** The next position owed. */
  private next: Cursor;
  private detach: (() => void) | undefined;
  private stopped = false;

  constructor(id: string, chain: Chain, sink: SubscriptionSink, request: SubscriptionRequest) {
    this.id = id;
    this.kind = request.kind;
    this.chain = chain;
    this.sink = sink;
    this.matcher = request.matcher;
    this.txHash = request.txHash;
    this.batch = request.kind === 'events' && request.batch === true;
    this.next = request.from ?? blockStart(chain.latestHeight + 1);
  }

  /** The position a client resumes from to miss nothing this subscription has not sent. */
  get cursor(): Cursor {
    return { ...this.next };
  }

  /** Starts delivery (after the subscribe call's answer is sent, so notifications follow it). */
  start(): void {
    void this.catchUp().catch((e: unknown) => {
      if (!this.stopped) this.sink.failed(this.id, e);
      this.stop();
    });
  }

  stop(): void {
    this.stopped = true;
    this.detach?.();
    this.detach = undefined;
  }

  private get done(): boolean {
    return this.stopped || this.sink.closed;
  }

  /** Reads committed blocks from the store until the tip, then attaches to the live stream. */
  private async catchUp(): Promise<void> {
    if (this.kind === 'tx') return this.catchUpTx();
    while (!this.done) {
      if (this.next.height > this.chain.latestHeight) {
        // Synchronous from the check to the attach: no block can be published in between.
        this.detach = this.chain.events.subscribe((block) => this.onLive(block));
        return;
      }
      const block = await this.storedBlock(this.next.height);
      if (this.done) return;
      if (!(await this.replayBlock(block))) return;
    }
  }

  private async catchUpTx(): Promise<void> {
    const hash = this.txHash!;
    while (!this.done) {
      const tip = this.chain.latestHeight;
      const location = await this.chain.blocks.getTxLocation(hash);
      if (this.done) return;
      if (location) {
        const block = await this.storedBlock(location.height);
        if (this.done) return;
        this.deliverTx(block, location.index);
        return;
      }
      if (this.chain.latestHeight === tip) {
        this.detach = this.chain.events.subscribe((block) => this.onLive(block));
        return;
      }
    }
  }

  /** A stored block as far as subscribers read it: the receipts name their transactions, nothing is decoded. */
  private async storedBlock(height: number): Promise<BlockWithEvents> {
    // The header and hash only: the receipts name the transactions, whose bytes are never read.
    const stored = await this.chain.blocks.getHeader(height);
    const results = await this.chain.blocks.getReceipts(height);
    if (!stored || !results) {
      throw new TributaryError('index/missing_block', `block ${height} or its receipts are missing`, { height });
    }
    return {
      header: stored.header,
      hash: stored.hash,
      txs: results.receipts.map((r) => ({ hash: r.tx_hash })),
      receipts: results.receipts,
      endBlockEvents: results.end_block_events,
    };
  }

  /**
   * The stream calls listeners inside the commit, and the block producer's next interval starts
   * only once the commit returns: a hundred subscribers' writes there made every block later
   * (596 -> 1,731 ms in bench/rpc.ts). Delivery runs in a turn of the loop of its own instead,
   * still in block order (immediates run first in, first out).
   */
  private onLive(block: BlockWithEvents): void {
    setImmediate(() => this.deliverLive(block));
  }

  private deliverLive(block: BlockWithEvents): void {
    if (this.done) return;
    if (this.kind === 'tx') {
      const hash = this.txHash!;
      const index = block.txs.findIndex((t) => Buffer.compare(t.hash, hash) === 0);
      if (index >= 0) this.deliverTx(block, index);
      return;
    }
    const height = block.header.height;
    if (height < this.next.height) return;
    if (height > this.next.height) {
      // Never happens while the stream publishes every block in order; replay rather than skip.
      this.detach?.();
      this.detach = undefined;
      this.start();
      return;
    }
    this.deliverBlock(block);
  }

  /** The notifications block `next.height` owes from `next.event` on, each with the cursor after it. */
  private *owed(block: BlockWithEvents): Generator<{ text: string; after: Cursor }> {
    const height = block.header.height;
    const texts = serialisedOf(block);
    if (this.kind === 'newHeads') {
      if (this.next.slot === 0) {
        texts.head ??= JSON.stringify(headView(block));
        yield { text: texts.head, after: blockStart(height + 1) };
      }
      return;
    }
    const events = eventsOf(block, texts);
    for (let at = 0; at < events.length; at++) {
      const e = events[at]!;
      if (!isAfter(e, this.next)) continue;
      if (this.matcher?.matches(e.event) === false) continue;
      yield eventNotification(texts, height, at);
    }
  }

  /**
   * The batched form of `owed`: its notifications in runs of up to MAX_EVENTS_PER_NOTIFICATION.
   * A run is fixed by the filter and the event it starts from, so it is built once per block for
   * every subscription with that filter (its bytes, the cursor after it, where the next starts):
   * a hundred subscribers of the same events cost one pass over the block, not a hundred.
   */
  private *owedBatches(block: BlockWithEvents): Generator<{ bytes: Buffer; count: number; after: Cursor }> {
    const height = block.header.height;
    const texts = serialisedOf(block);
    texts.batches ??= new Map();
    const events = eventsOf(block, texts);
    let at = 0;
    while (at < events.length && !isAfter(events[at]!, this.next)) at++;
    const limits = this.sink.batchLimits;
    const maxCount = Math.max(1, Math.min(MAX_EVENTS_PER_NOTIFICATION, limits.count));
    while (at < events.length) {
      const key = `${this.matcher?.key ?? ''}|${at}|${maxCount}|${limits.bytes}`;
      let run = texts.batches.get(key);
      if (!run) {
        const parts: string[] = [];
        let size = 2;
        let after: Cursor = blockStart(height + 1);
        let end = at;
        for (; end < events.length && parts.length < maxCount; end++) {
          if (this.matcher?.matches(events[end]!.event) === false) continue;
          const { text, after: eventAfter } = eventNotification(texts, height, end);
          // One event always goes, as it would unbatched.
          const bytes = Buffer.byteLength(text) + 1;
          if (parts.length > 0 && size + bytes > limits.bytes) break;
          size += bytes;
          after = eventAfter;
          parts.push(text);
        }
        const bytes = parts.length > 0 ? Buffer.from(`[${parts.join(',')}]`) : undefined;
        run = { bytes, count: parts.length, after, next: end };
        texts.batches.set(key, run);
      }
      if (run.bytes) yield { bytes: run.bytes, count: run.count, after: run.after };
      at = run.next;
    }
  }

  /** What the block owes this subscription, batched or a notification per result, each with the cursor after it. */
  private *notifications(block: BlockWithEvents): Generator<{ send: () => boolean; after: Cursor }> {
    if (this.batch) {
      for (const { bytes, count, after } of this.owedBatches(block))
        yield { send: () => this.sendMany(bytes, count), after };
    } else {
      for (const { text, after } of this.owed(block)) yield { send: () => this.send(text), after };
    }
  }

  /** A live block: sent at once (the connection's caps decide); false once lagging. */
  private deliverBlock(block: BlockWithEvents): boolean {
    for (const { send, after } of this.notifications(block)) {
      if (!send()) return false;
      this.next = after;
    }
    this.next = blockStart(block.header.height + 1);
    return true;
  }

  /** A stored block: each notification waits for room, so a replay never overflows the buffer. */
  private async replayBlock(block: BlockWithEvents): Promise<boolean> {
    for (const { send, after } of this.notifications(block)) {
      if (!this.sink.hasRoom) await this.sink.room();
      if (this.done || !send()) return false;
      this.next = after;
    }
    this.next = blockStart(block.header.height + 1);
    return true;
  }

  private deliverTx(block: BlockWithEvents, index: number): void {
    const receipt = block.receipts[index]!;
    this.send(
      JSON.stringify({
        hash: hx(block.txs[index]!.hash),
        height: block.header.height,
        index,
        blockHash: hx(block.hash),
        status: receipt.failed ? 'failed' : 'committed',
        errorCode: receipt.failed ? receipt.error_code : null,
      }),
    );
    this.stop();
    this.sink.finished(this.id);
  }

  private send(resultJson: string): boolean {
    if (this.sink.deliver(this.id, resultJson)) return true;
    this.stop();
    return false;
  }

  private sendMany(resultsJson: Buffer, count: number): boolean {
    if (this.sink.deliverMany(this.id, resultsJson, count)) return true;
    this.stop();
    return false;
  }
}

/**
 * Each block's notification results, serialised once for every subscriber that is sent them: with
 * 100 subscribers each event's view was built and stringified 100 times, which took the CPU block
 * production needed (the block interval went from 596 to 2,251 ms in bench/rpc.ts); the events are
 * positioned once too. Keyed by the
 * block object the stream publishes, and gone with it. The cursor after an event is the same for
 * every subscriber, so one text serves them all.
 */
interface SerialisedBlock {
  head?: string;
  /** The block's events in chain order, positioned once. */
  events?: ChainEvent[];
  /** `events[i]`'s notification result, serialised. */
  eventTexts: (string | undefined)[];
  /**
   * Batched subscriptions' runs by filter key and first event (owedBatches): the result list's
   * bytes (none when the filter matched nothing in it), the cursor after it, the next run's start.
   */
  batches?: Map<string, { bytes: Buffer | undefined; count: number; after: Cursor; next: number }>;
}

const serialised = new WeakMap<BlockWithEvents, SerialisedBlock>();

function serialisedOf(block: BlockWithEvents): SerialisedBlock {
  let texts = serialised.get(block);
  if (!texts) serialised.set(block, (texts = { eventTexts: [] }));
  return texts;
}

/** The block's events in chain order, positioned once. */
function eventsOf(block: BlockWithEvents, texts: SerialisedBlock): ChainEvent[] {
  texts.events ??= [...blockEvents(block)];
  return texts.events;
}

/** Event `at` of the block: its notification result (serialised once) and the cursor after it. */
function eventNotification(texts: SerialisedBlock, height: number, at: number): { text: string; after: Cursor } {
  const events = texts.events!;
  // After a block's last event the cursor is the next block's start: one cursor per position.
  const after = at + 1 === events.length ? blockStart(height + 1) : positionAfter(events[at]!);
  texts.eventTexts[at] ??= JSON.stringify(eventNotificationView(events[at]!, after));
  return { text: texts.eventTexts[at]!, after };
}

function headView(block: BlockWithEvents): JsonValue {
  const h = block.header;
  return {
    hash: hx(block.hash),
    height: h.height,
    timeMs: h.time_ms,
    parentHash: hx(h.parent_hash),
    proposer: formatAddress(h.proposer),
    stateRoot: hx(h.state_root),
    resultsRoot: hx(h.results_root),
    txCount: block.txs.length,
  };
}

/** An event as `chain_getEvents` returns it, with the stream cursor right after it. */
export function eventNotificationView(e: ChainEvent, cursor: Cursor): JsonValue {
  return {
    ...(chainEventView(e) as Record<string, JsonValue>),
    cursor: encodeEventCursor(cursor),
  };
}

// ---------------------------------------------------------------------------------------------
// Filters: the index's rules (a type, attributes of indexed fields; a list field matches when it
// holds the value), with several attributes ANDed and several values of one attribute ORed.

export function eventMatcher(chain: Chain, raw: unknown): EventMatcher | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw rpcError('rpc/invalid_params', 'filter: expected {type?, attributes?}', { param: 'filter' });
  }
  const { type, attributes, ...rest } = raw as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0)
    throw rpcError('rpc/invalid_params', `filter: unknown field "${extra[0]}"`, { param: 'filter' });
  if (type !== undefined && typeof type !== 'string') {
    throw rpcError('rpc/invalid_params', 'filter.type: expected a string', { param: 'filter' });
  }
  if (attributes === undefined) {
    return type === undefined ? undefined : { matches: (e) => e.type === type, key: JSON.stringify([type]) };
  }
  if (type === undefined) {
    throw rpcError('rpc/invalid_params', 'filter.attributes needs filter.type', { param: 'filter' });
  }
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    throw rpcError('rpc/invalid_params', 'filter.attributes: expected {field: value | [values]}', {
      param: 'filter',
    });
  }
  const definition = moduleEvents(chain.app.registry.modules).get(type);
  const wanted: { key: string; values: Set<string>; list: boolean }[] = [];
  for (const [key, value] of Object.entries(attributes)) {
    const field = definition?.fields[key];
    if (!field?.indexed) {
      throw new TributaryError('index/not_indexed', `${type}.${key} is not an indexed event field`, {
        type,
        field: key,
      });
    }
    const values = Array.isArray(value) ? value : [value];
    if (values.length === 0 || !values.every((v) => typeof v === 'string')) {
      throw rpcError(
        'rpc/invalid_params',
        `filter.attributes.${key}: expected a string or a non-empty list of strings`,
        {
          param: 'filter',
        },
      );
    }
    wanted.push({ key, values: new Set(values as string[]), list: field.list === true });
  }
  const key = JSON.stringify([
    type,
    wanted.map((w) => [w.key, [...w.values].sort()]).sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0)),
  ]);
  return {
    key,
    matches(e: Event): boolean {
      if (e.type !== type) return false;
      return wanted.every((w) =>
        e.attributes.some(
          (a) =>
            a.key === w.key && (w.list ? listElements(a.value).some((v) => w.values.has(v)) : w.values.has(a.value)),
        ),
      );
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The methods

/** What a connection offers the subscribe methods (RpcContext.subscriptions; absent over HTTP). */
export interface SubscriptionHost {
  readonly maxSubscriptions: number;
  readonly count: number;
  /** Registers a subscription; it starts once the call's answer is sent. */
  add(request: SubscriptionRequest): string;
  remove(id: string): boolean;
}

function hostOf(ctx: RpcContext): SubscriptionHost {
  if (!ctx.subscriptions) {
    throw rpcError('rpc/websocket_required', 'subscriptions are served over WebSocket only (ws:// on this port)');
  }
  return ctx.subscriptions;
}

export const subscriptionMethods: RpcMethod[] = [
  {
    name: 'chain_subscribe',
    description:
      'WebSocket only: subscribe to "newHeads", "events" (filter {type, attributes: {field: value | [values]}}, ' +
      'indexed fields only; batch: true for lists of up to 1,000 events per notification) or "tx" (hash; one notification once included). newHeads and events resume with ' +
      'fromHeight or cursor (opaque: from a notification, a lagging error or a chain_getEvents page). Returns the subscription id; ' +
      'notifications are chain_subscription {subscription, result}',
    params: [
      { name: 'kind', kind: 'string', schema: { enum: ['newHeads', 'events', 'tx'] } },
      { name: 'options', kind: 'json', optional: true, schema: SUBSCRIBE_OPTIONS_SCHEMA },
    ],
    kind: 'query',
    result: schema.string('the subscription id'),
    async handler(ctx, p) {
      const host = hostOf(ctx);
      const kind = p.kind as string;
      if (kind !== 'newHeads' && kind !== 'events' && kind !== 'tx') {
        throw rpcError('rpc/invalid_params', `kind: expected "newHeads", "events" or "tx", got "${kind}"`, {
          param: 'kind',
        });
      }
      const options = (p.options ?? {}) as Record<string, unknown>;
      if (typeof options !== 'object' || Array.isArray(options)) {
        throw rpcError('rpc/invalid_params', 'options: expected an object', { param: 'options' });
      }
      const allowed =
        kind === 'tx'
          ? ['hash']
          : kind === 'events'
            ? ['filter', 'fromHeight', 'cursor', 'batch']
            : ['fromHeight', 'cursor'];
      for (const key of Object.keys(options)) {
        if (!allowed.includes(key)) {
          throw rpcError('rpc/invalid_params', `options: "${key}" does not apply to ${kind}`, { param: 'options' });
        }
      }
      if (host.count >= host.maxSubscriptions) {
        throw limitError('rpc/too_many_subscriptions', 'subscriptions', host.maxSubscriptions);
      }
      const request: SubscriptionRequest = { kind };
      if (kind === 'tx') {
        const hash = options.hash;
        if (typeof hash !== 'string' || !/^(0x)?[0-9a-fA-F]{64}$/.test(hash)) {
          throw rpcError('rpc/invalid_params', 'options.hash: expected a 32-byte hex hash', { param: 'options' });
        }
        request.txHash = fromHex(hash);
      } else {
        if (options.fromHeight !== undefined && options.cursor !== undefined) {
          throw rpcError('rpc/invalid_params', 'options: give fromHeight or cursor, not both', { param: 'options' });
        }
        if (options.cursor !== undefined) {
          const from = decodeEventCursor(options.cursor, 'options.cursor');
          // Height 0 has no block to replay: a position in it owes everything from block 1 on.
          request.from = from.height === 0 ? blockStart(1) : from;
        } else if (options.fromHeight !== undefined) {
          const tag = parseBlockTag(options.fromHeight, 'fromHeight');
          if (!('height' in tag) || tag.height < 1) {
            throw rpcError('rpc/invalid_params', 'fromHeight: expected a height >= 1', { param: 'options' });
          }
          request.from = blockStart(tag.height);
        }
        if (request.from && request.from.height > ctx.chain.latestHeight + 1) {
          throw rpcError(
            'rpc/not_found',
            `height ${request.from.height} is above the next height ${ctx.chain.latestHeight + 1}`,
          );
        }
        if (kind === 'events') {
          request.matcher = eventMatcher(ctx.chain, options.filter);
          if (options.batch !== undefined && typeof options.batch !== 'boolean') {
            throw rpcError('rpc/invalid_params', 'options.batch: expected a boolean', { param: 'options' });
          }
          request.batch = options.batch === true;
        }
      }
      return host.add(request);
    },
  },
  {
    name: 'chain_unsubscribe',
    description: 'WebSocket only: ends a subscription of this connection; false if it does not exist (any more)',
    params: [{ name: 'subscription', kind: 'string' }],
    kind: 'query',
    result: schema.boolean(),
    async handler(ctx, p) {
      return hostOf(ctx).remove(p.subscription as string);
    },
  },
];
