import WebSocket, { type RawData } from 'ws';
import { TributaryError, type ErrorCode } from '../errors.ts';
import type { CoreMethod, CoreMethods, SubscriptionItems, SubscriptionKind } from './client-types.ts';

export type * from './client-types.ts';
export { CORE_METHOD_NAMES } from './client-types.ts';

/**
 * `rpc/error`: the node answered with an error that carried no code (never one of ours).
 * `rpc/unreachable`: no answer (HTTP), or a subscription that could not reconnect.
 * `rpc/timeout`: an HTTP call or a WebSocket handshake/subscribe took longer than allowed.
 */
export type RpcClientErrorCode = 'rpc/unreachable' | 'rpc/error' | 'rpc/timeout';

/*
 * The typed TypeScript client of the node's JSON-RPC (the CLI, the tests and indexers use it):
 * HTTP calls and batches, and WebSocket subscriptions as async iterators that survive drops.
 *
 * WebSocket through the `ws` package rather than Node's global WebSocket: the client needs ping
 * frames (a heartbeat that notices a dead connection while no notification is due; the WHATWG
 * API can neither send a ping nor see a pong) and to stop reading the socket when its consumer is
 * slow (`pause`), so that a slow consumer turns into the node's explicit lagging close instead of
 * an unbounded buffer in the client.
 */

export interface RpcClientOptions {
  /** Per HTTP call; default 30 s. */
  timeoutMs?: number;
}

export type BatchOutcome<T = unknown> = { ok: true; result: T } | { ok: false; error: TributaryError };

interface Reply {
  id?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: Record<string, unknown> };
  method?: string;
  params?: { subscription?: string; result?: unknown; error?: Reply['error'] };
}

/** A JSON-RPC error as a coded TributaryError (the node sends its string code in error.data.code). */
export function errorFromReply(error: NonNullable<Reply['error']>): TributaryError {
  return new TributaryError((error.data?.code as ErrorCode | undefined) ?? 'rpc/error', error.message, {
    ...error.data,
    rpcCode: error.code,
  });
}

export class RpcClient {
  readonly url: string;
  private readonly timeoutMs: number;
  private nextId = 1;

  constructor(url: string, options: RpcClientOptions = {}) {
    this.url = url;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** The WebSocket address of the same server (ws:// for http://, wss:// for https://). */
  get wsUrl(): string {
    return this.url.replace(/^http/, 'ws');
  }

  call<M extends CoreMethod>(method: M, params?: CoreMethods[M]['params']): Promise<CoreMethods[M]['result']>;
  call<T = unknown>(method: string, params?: unknown[] | Record<string, unknown>): Promise<T>;
  async call(method: string, params: unknown[] | Record<string, unknown> = []): Promise<unknown> {
    const body = (await this.post({ jsonrpc: '2.0', id: this.nextId++, method, params })) as Reply;
    if (Array.isArray(body) || typeof body !== 'object' || body === null) {
      throw new TributaryError('rpc/error', `${this.url} answered something other than a JSON-RPC reply`);
    }
    if (body.error) throw errorFromReply(body.error);
    return body.result;
  }

  /**
   * Several calls in one request; the outcomes in the order of `calls`, each a result or its
   * coded error. A refusal of the whole batch (rpc/batch_too_large, ...) throws.
   */
  async batch<T = unknown>(
    calls: readonly { method: string; params?: unknown[] | Record<string, unknown> }[],
  ): Promise<BatchOutcome<T>[]> {
    if (calls.length === 0) return [];
    const first = this.nextId;
    this.nextId += calls.length;
    const body = await this.post(
      calls.map((c, i) => ({ jsonrpc: '2.0', id: first + i, method: c.method, params: c.params ?? [] })),
    );
    if (!Array.isArray(body)) {
      const reply = body as Reply;
      if (reply?.error) throw errorFromReply(reply.error);
      throw new TributaryError('rpc/error', `${this.url} answered a batch with something other than a list`);
    }
    // Replies may come in any order: matched by id.
    const byId = new Map<unknown, Reply>((body as Reply[]).map((r) => [r.id, r]));
    return calls.map((_c, i) => {
      const reply = byId.get(first + i);
      if (!reply) return { ok: false, error: new TributaryError('rpc/error', `no reply to call ${i} of the batch`) };
      if (reply.error) return { ok: false, error: errorFromReply(reply.error) };
      return { ok: true, result: reply.result as T };
    });
  }

  /**
   * Follows `kind` over WebSocket: every item exactly once, in chain order, across drops,
   * heartbeat timeouts and the node's lagging closes (it reconnects with backoff and resumes
   * from the last item it received). Iterate it with `for await`; `close()` or leaving the loop
   * ends it. A `tx` subscription ends after its one inclusion notice.
   */
  subscribe<K extends SubscriptionKind>(
    kind: K,
    options: SubscribeOptions = {},
    stream: StreamOptions = {},
  ): SubscriptionStream<SubscriptionItems[K]> {
    return new SubscriptionStream<SubscriptionItems[K]>(this.wsUrl, kind, options, stream);
  }

  private async post(payload: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      if ((e as Error).name === 'TimeoutError') {
        throw new TributaryError('rpc/timeout', `${this.url} did not answer within ${this.timeoutMs} ms`);
      }
      throw new TributaryError(
        'rpc/unreachable',
        `cannot reach ${this.url}: ${(e as Error).cause ?? (e as Error).message}`,
      );
    }
    // A body that is not JSON is no JSON-RPC node: left uncoded, so the CLI prints it as [internal].
    return await res.json();
  }
}

// ---------------------------------------------------------------------------------------------
// Subscriptions

export interface SubscribeOptions {
  /** `events`: {type, attributes} (indexed fields only). */
  filter?: { type?: string; attributes?: Record<string, string | string[]> };
  /** `newHeads`, `events`: the first height wanted (default: the block after the tip). */
  fromHeight?: number;
  /** `newHeads`, `events`: resume after this cursor (a notification's, or a chain_getEvents page's). */
  cursor?: string;
  /** `tx`: the transaction's hash. */
  hash?: string;
}

export interface StreamOptions {
  /** First reconnect delay; doubled per failed attempt up to `maxDelayMs`. Default 100 ms. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Consecutive failed connection attempts before the stream fails with rpc/unreachable. Default 20. */
  maxAttempts?: number;
  /** A ping this often; a connection silent for two of them is dropped and re-made. Default 10 s. */
  heartbeatMs?: number;
  /** Opening the socket and the subscribe answer. Default 10 s. */
  connectTimeoutMs?: number;
  /** Items held for the consumer; past it the socket is not read (the node then closes us as lagging). */
  maxBuffered?: number;
}

/** What happened to a stream so far (for logs, metrics and tests). */
export interface StreamStats {
  delivered: number;
  connections: number;
  reconnects: number;
  /** Closes by the node because this client read too slowly (rpc/subscription_lagging). */
  lagging: number;
  /** Connections dropped for want of a pong. */
  heartbeatTimeouts: number;
}

/** Subscribe answers that retrying cannot change: the stream fails with them. */
const FATAL_CODES = new Set<string>([
  'rpc/invalid_params',
  'rpc/invalid_cursor',
  'rpc/method_not_found',
  'rpc/not_found',
  'index/not_indexed',
  'rpc/forbidden_host',
  'rpc/forbidden_origin',
]);

export class SubscriptionStream<T> implements AsyncIterableIterator<T> {
  readonly kind: SubscriptionKind;
  readonly stats: StreamStats = { delivered: 0, connections: 0, reconnects: 0, lagging: 0, heartbeatTimeouts: 0 };
  private readonly url: string;
  private readonly options: SubscribeOptions;
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxAttempts: number;
  private readonly heartbeatMs: number;
  private readonly connectTimeoutMs: number;
  private readonly maxBuffered: number;
  private readonly queue: T[] = [];
  private waiter: (() => void) | undefined;
  private ws: WebSocket | undefined;
  private paused = false;
  private closed = false;
  private finished = false;
  private failure: TributaryError | undefined;
  /** Resume point: the cursor after the last event received, or the next head height. */
  private resumeCursor: string | undefined;
  private resumeHeight: number | undefined;

  constructor(url: string, kind: SubscriptionKind, options: SubscribeOptions, stream: StreamOptions) {
    this.url = url;
    this.kind = kind;
    this.options = options;
    this.minDelayMs = stream.minDelayMs ?? 100;
    this.maxDelayMs = stream.maxDelayMs ?? 5_000;
    this.maxAttempts = stream.maxAttempts ?? 20;
    this.heartbeatMs = stream.heartbeatMs ?? 10_000;
    this.connectTimeoutMs = stream.connectTimeoutMs ?? 10_000;
    this.maxBuffered = stream.maxBuffered ?? 1_000;
    this.resumeCursor = options.cursor;
    this.resumeHeight = options.fromHeight;
    void this.run();
  }

  /** The cursor after the last event handed to the consumer's queue (events streams). */
  get cursor(): string | undefined {
    return this.resumeCursor;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.queue.length > 0) {
        const value = this.queue.shift()!;
        this.stats.delivered++;
        if (this.paused && this.queue.length <= this.maxBuffered / 2) {
          this.paused = false;
          this.ws?.resume();
        }
        return { value, done: false };
      }
      if (this.failure) throw this.failure;
      if (this.closed || this.finished) return { value: undefined, done: true };
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
  }

  async return(): Promise<IteratorResult<T>> {
    this.close();
    return { value: undefined, done: true };
  }

  close(): void {
    this.closed = true;
    this.ws?.terminate();
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private fail(error: TributaryError): void {
    this.failure = error;
    this.ws?.terminate();
    this.wake();
  }

  private async run(): Promise<void> {
    let attempts = 0;
    while (!this.closed && !this.finished && !this.failure) {
      let subscribed = false;
      try {
        subscribed = await this.connectOnce();
      } catch (e) {
        if (e instanceof TributaryError && FATAL_CODES.has(e.code)) {
          this.fail(e);
          return;
        }
      }
      if (this.closed || this.finished || this.failure) return;
      attempts = subscribed ? 0 : attempts + 1;
      if (attempts >= this.maxAttempts) {
        this.fail(
          new TributaryError('rpc/unreachable', `${this.url}: no subscription after ${this.maxAttempts} attempts`),
        );
        return;
      }
      // Exponential backoff with jitter, so that many clients dropped at once do not return at once.
      const delay = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** Math.max(0, attempts - 1));
      await new Promise((r) => setTimeout(r, delay / 2 + Math.random() * (delay / 2)));
      this.stats.reconnects++;
    }
  }

  /** The subscribe params for this (re)connection: always from a known point, so nothing falls between. */
  private subscribeParams(tip: number | undefined): [string, Record<string, unknown>] {
    if (this.kind === 'tx') return ['tx', { hash: this.options.hash }];
    const from: Record<string, unknown> = {};
    if (this.resumeCursor !== undefined) from.cursor = this.resumeCursor;
    else from.fromHeight = this.resumeHeight ?? (tip ?? 0) + 1;
    if (this.kind === 'events' && this.options.filter) from.filter = this.options.filter;
    // Lists of events per notification: one frame per block instead of one per event.
    if (this.kind === 'events') from.batch = true;
    return [this.kind, from];
  }

  /**
   * One connection: open, (learn the tip when no start was given), subscribe, receive until it
   * ends. Resolves when it closes, with whether the subscription was made; throws a coded error
   * the node answered the subscribe with.
   */
  private connectOnce(): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      const ws = new WebSocket(this.url, { perMessageDeflate: false, handshakeTimeout: this.connectTimeoutMs });
      this.ws = ws;
      this.paused = false;
      this.stats.connections++;
      let subscription: string | undefined;
      let alive = true;
      let settled = false;
      const settle = (error?: unknown) => {
        if (settled) return;
        settled = true;
        clearInterval(heartbeat);
        clearTimeout(connectTimer);
        ws.removeAllListeners('message');
        if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
        if (error) reject(error);
        else resolve(subscription !== undefined);
      };
      const connectTimer = setTimeout(
        () =>
          settle(new TributaryError('rpc/timeout', `${this.url}: no subscription within ${this.connectTimeoutMs} ms`)),
        this.connectTimeoutMs,
      );
      const heartbeat = setInterval(() => {
        // A paused socket is not read, so its pongs are not either: no verdict while paused.
        if (this.paused) return;
        if (!alive) {
          this.stats.heartbeatTimeouts++;
          settle();
          return;
        }
        alive = false;
        if (ws.readyState === WebSocket.OPEN) ws.ping();
      }, this.heartbeatMs);
      const send = (id: number, method: string, params: unknown) =>
        ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      ws.on('pong', () => {
        alive = true;
      });
      ws.on('error', () => settle());
      ws.on('close', () => settle());
      ws.on('unexpected-response', (_req, res) => {
        res.resume();
        settle();
      });
      ws.on('open', () => {
        const needsTip = this.kind !== 'tx' && this.resumeCursor === undefined && this.resumeHeight === undefined;
        if (needsTip) send(1, 'chain_status', []);
        else send(2, 'chain_subscribe', this.subscribeParams(undefined));
      });
      ws.on('message', (data: RawData) => {
        alive = true;
        let m: Reply;
        try {
          m = JSON.parse(data.toString()) as Reply;
        } catch {
          settle();
          return;
        }
        if (m.id === 1) {
          if (m.error) return settle(errorFromReply(m.error));
          // Pinned once: a reconnect resumes from here even if nothing arrived in between.
          this.resumeHeight = (m.result as { height: number }).height + 1;
          send(2, 'chain_subscribe', this.subscribeParams(undefined));
          return;
        }
        if (m.id === 2) {
          if (m.error) return settle(errorFromReply(m.error));
          subscription = m.result as string;
          clearTimeout(connectTimer);
          return;
        }
        if (m.method !== 'chain_subscription' || m.params?.subscription !== subscription) return;
        if (m.params?.error) {
          // Lagging or a node-side failure: the node closes the socket next; resume from our own point.
          if (m.params.error.data?.code === 'rpc/subscription_lagging') this.stats.lagging++;
          return;
        }
        const result = m.params!.result;
        if (this.kind === 'events' && Array.isArray(result)) for (const item of result) this.accept(item as T);
        else this.accept(result as T);
      });
    });
  }

  private accept(item: T): void {
    if (this.closed) return;
    if (this.kind === 'events') this.resumeCursor = (item as { cursor: string }).cursor;
    else if (this.kind === 'newHeads') {
      this.resumeHeight = (item as { height: number }).height + 1;
      this.resumeCursor = undefined;
    }
    this.queue.push(item);
    if (this.kind === 'tx') {
      this.finished = true;
      this.ws?.close();
    } else if (!this.paused && this.queue.length >= this.maxBuffered) {
      this.paused = true;
      this.ws?.pause();
    }
    this.wake();
  }
}
