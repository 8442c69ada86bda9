import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Chain } from '../consensus/chain.ts';
import type { RpcConfig } from '../config.ts';
import { isTributaryError, type TributaryError } from '../errors.ts';
import { encodeEventCursor } from './cursor.ts';
import { rpcError, toJsonRpcError } from './errors.ts';
import { type HttpPolicy, limitError } from './limits.ts';
import type { RpcContext } from './methods.ts';
import {
  Subscription,
  type SubscriptionHost,
  type SubscriptionRequest,
  type SubscriptionSink,
} from './subscriptions.ts';

/*
 * JSON-RPC 2.0 over WebSocket on the HTTP server's port (the `upgrade` event; `ws` with
 * `noServer`). A message is a call or a batch, answered by the same `respond` as an HTTP body, so
 * the method table, parameter checks, error numbers, batch caps and response caps are the HTTP
 * ones; the upgrade request passes the same Host and Origin policy, and the socket is one of the
 * connections the HTTP server already counts against its caps. What only WebSocket has:
 *  - messages above `rpc.maxBodyBytes` are answered `rpc/request_too_large` (limit
 *    `message_bytes`) and dropped; above twice that, `ws` refuses the frame from its header and
 *    closes with 1009, without reading it;
 *  - subscriptions (src/rpc/subscriptions.ts), with a bounded buffer per connection: what is sent
 *    and not yet written to the socket (`maxQueuedNotifications` messages, `maxBufferedBytes` on
 *    `bufferedAmount`). A notification that does not fit makes the client lagging: each of its
 *    subscriptions gets one error notification (`rpc/subscription_lagging`, `data.cursor` to resume
 *    from), then the socket closes with CLOSE_LAGGING. Nothing is ever skipped;
 *  - a ping every `pingIntervalMs`; a connection that has not answered the previous one is
 *    terminated.
 * permessage-deflate is off: it would cost the node CPU per message and inflate small frames.
 * `ws` is the transport only; no JSON-RPC-over-WebSocket library (rpc-websockets and the like) is
 * used because the envelope must be the HTTP path's own `respond`, so that the limits, codes and
 * method table exist once, and none of them bounds a subscriber's buffer or resumes from a cursor.
 */

/** Close codes (also in the README). */
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_TOO_BIG = 1009;
export const CLOSE_INTERNAL = 1011;
/** The client read too slowly: its subscriptions' cursors were sent just before. */
export const CLOSE_LAGGING = 4008;

export const NOTIFICATION_METHOD = 'chain_subscription';
const CLOSE_ENVELOPE = Buffer.from('}}');

/**
 * What JSON.stringify({jsonrpc, method, params: {subscription, result}}) writes before the result:
 * notifications wrap a result serialised once for every subscriber (subscriptions.ts).
 */
const envelopeHead = (subscription: string): string =>
  `{"jsonrpc":"2.0","method":${JSON.stringify(NOTIFICATION_METHOD)},"params":{"subscription":${JSON.stringify(subscription)},"result":`;

/** bufferedAmount counts frames: the payload and the server's (unmasked) frame header. */
const frameSize = (payload: number): number => payload + (payload < 126 ? 2 : payload < 65_536 ? 4 : 10);

/**
 * Calls of one connection running at once; past it the connection's socket is not read until one
 * ends, so a client that sends without waiting queues in its own TCP window, not in the node.
 */
const MAX_CALLS_IN_FLIGHT = 32;

/** How long a shutdown waits for clients to answer the close frame before cutting them. */
const SHUTDOWN_CLOSE_MS = 1000;

export interface WsDispatcher {
  respond(body: string, ctx: RpcContext): Promise<string | undefined>;
}

export class WsTransport {
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<WsConnection>();
  private readonly heartbeat: NodeJS.Timeout;
  private closing = false;
  private readonly opts: ConnectionOptions;

  constructor(opts: ConnectionOptions) {
    this.opts = opts;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: 2 * opts.config.maxBodyBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.heartbeat = setInterval(() => this.beat(), opts.config.pingIntervalMs);
    this.heartbeat.unref();
  }

  get openConnections(): number {
    return this.connections.size;
  }

  handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => {});
    if (this.opts.isRefused(socket) || socket.writableEnded) {
      socket.destroy();
      return;
    }
    const policy = this.opts.policy;
    const host = req.headers.host;
    const origin = req.headers.origin;
    let refusal: TributaryError | undefined;
    let status = 403;
    if (this.closing) {
      refusal = rpcError('rpc/shutting_down', 'the node is shutting down');
      status = 503;
    } else if (!policy.hostAllowed(host)) {
      refusal = rpcError('rpc/forbidden_host', `host "${host}" is not served here (rpc.allowedHosts)`, { host });
    } else if (origin !== undefined && !policy.originAllowed(origin)) {
      refusal = rpcError('rpc/forbidden_origin', `origin "${origin}" is not allowed (rpc.corsOrigins)`, { origin });
    }
    if (refusal) {
      const body = JSON.stringify({ jsonrpc: '2.0', id: null, error: toJsonRpcError(refusal, 'query') });
      socket.end(
        `HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : 'Service Unavailable'}\r\nconnection: close\r\n` +
          `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req));
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const connection = new WsConnection(ws, this.opts);
    this.connections.add(connection);
    ws.once('close', () => {
      connection.stopAll();
      this.connections.delete(connection);
    });
    this.opts.logger?.debug({ client: req.socket.remoteAddress }, 'rpc websocket opened');
  }

  private beat(): void {
    for (const c of this.connections) c.beat();
  }

  /** Says goodbye to every client (1001), then cuts those that do not answer. */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeat);
    for (const c of this.connections) c.shutdown();
    const deadline = Date.now() + SHUTDOWN_CLOSE_MS;
    while (this.connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const c of this.connections) c.terminate();
    this.wss.close();
  }
}

/** One WebSocket client: its calls, its subscriptions and its outgoing buffer. */
class WsConnection implements SubscriptionSink {
  private readonly ws: WebSocket;
  private readonly config: RpcConfig;
  private readonly opts: ConnectionOptions;
  private readonly subscriptions = new Map<string, Subscription>();
  private nextId = 1;
  /**
   * Sizes of the messages handed to `ws.send` that may still be in `bufferedAmount`, oldest first,
   * and their sum: the messages still waiting are the newest ones whose sizes add up to
   * `bufferedAmount` (`waiting`). Counted this way, not by write callbacks, because those fire a
   * tick after the kernel took the bytes: a burst the socket swallows at once is no backlog.
   */
  private readonly sentSizes: number[] = [];
  /** Notifications in each of those messages (a batched one holds many; a reply counts one). */
  private readonly sentCounts: number[] = [];
  private sentHead = 0;
  private sentBytes = 0;
  private sentNotifications = 0;
  private readonly roomWaiters: (() => void)[] = [];
  private alive = true;
  private ending = false;
  private callsInFlight = 0;

  constructor(ws: WebSocket, opts: ConnectionOptions) {
    this.ws = ws;
    this.opts = opts;
    this.config = opts.config;
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('error', (e) => this.opts.logger?.debug({ err: e }, 'rpc websocket error'));
  }

  get closed(): boolean {
    return this.ending || this.ws.readyState !== WebSocket.OPEN;
  }

  // ------------------------------------------------------------------ calls

  private onMessage(data: RawData, _isBinary: boolean): void {
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (bytes.length > this.config.maxBodyBytes) {
      const error = limitError('rpc/request_too_large', 'message_bytes', this.config.maxBodyBytes, bytes.length);
      this.reply(JSON.stringify({ jsonrpc: '2.0', id: null, error: toJsonRpcError(error, 'query') }));
      return;
    }
    // Subscriptions made by this message start once its answer is sent: notifications follow it.
    const started: Subscription[] = [];
    const subscriptions = this.subscriptions;
    const host: SubscriptionHost = {
      maxSubscriptions: this.config.maxSubscriptionsPerConnection,
      get count() {
        return subscriptions.size;
      },
      add: (request) => this.add(request, started),
      remove: (id) => this.remove(id),
    };
    if (++this.callsInFlight >= MAX_CALLS_IN_FLIGHT) this.ws.pause();
    this.opts.dispatcher
      .respond(bytes.toString('utf8'), { ...this.opts.ctx, subscriptions: host })
      .finally(() => {
        if (this.callsInFlight-- === MAX_CALLS_IN_FLIGHT && this.ws.readyState === WebSocket.OPEN) this.ws.resume();
      })
      .then((text) => {
        if (text !== undefined) this.reply(text);
        for (const s of started) {
          if (this.subscriptions.get(s.id) !== s) continue;
          // A subscribe whose answer a batch cap replaced: the client never learnt the id.
          if (text?.includes(`"result":${JSON.stringify(s.id)}`)) s.start();
          else this.remove(s.id);
        }
      })
      .catch((e: unknown) => {
        this.opts.logger?.error({ err: e }, 'rpc websocket message failed');
        const error = rpcError('rpc/internal_error', 'internal error');
        this.reply(JSON.stringify({ jsonrpc: '2.0', id: null, error: toJsonRpcError(error, 'query') }));
      });
  }

  /** An answer to a call. A client that leaves earlier answers unread past the byte cap is cut off. */
  private reply(text: string): void {
    if (this.closed) return;
    if (this.ws.bufferedAmount > this.config.maxBufferedBytes) {
      this.lagging({ limit: 'buffered_bytes', max: this.config.maxBufferedBytes });
      return;
    }
    this.write(text);
  }

  private write(text: string, payload = Buffer.byteLength(text)): void {
    const size = frameSize(payload);
    // Drops what is written already (also keeps the list short on a connection without subscriptions).
    void this.waiting;
    this.ws.send(text, () => this.wake());
    this.recordSent(size, 1);
  }

  private recordSent(size: number, notifications: number): void {
    this.sentSizes.push(size);
    this.sentCounts.push(notifications);
    this.sentBytes += size;
    this.sentNotifications += notifications;
  }

  /** Notifications handed to the socket and not yet written by it (each event of a batch counts). */
  private get waiting(): number {
    const buffered = this.ws.bufferedAmount;
    while (this.sentHead < this.sentSizes.length && this.sentBytes - this.sentSizes[this.sentHead]! >= buffered) {
      this.sentBytes -= this.sentSizes[this.sentHead]!;
      this.sentNotifications -= this.sentCounts[this.sentHead++]!;
    }
    if (this.sentHead > 1024 && this.sentHead * 2 > this.sentSizes.length) {
      this.sentSizes.splice(0, this.sentHead);
      this.sentCounts.splice(0, this.sentHead);
      this.sentHead = 0;
    }
    return this.sentNotifications;
  }

  // ------------------------------------------------------------------ subscriptions (SubscriptionHost)

  private add(request: SubscriptionRequest, started: Subscription[]): string {
    const id = `0x${(this.nextId++).toString(16)}`;
    const subscription = new Subscription(id, this.opts.chain, this, request);
    this.subscriptions.set(id, subscription);
    started.push(subscription);
    return id;
  }

  private remove(id: string): boolean {
    const s = this.subscriptions.get(id);
    if (!s) return false;
    s.stop();
    this.subscriptions.delete(id);
    return true;
  }

  stopAll(): void {
    for (const s of this.subscriptions.values()) s.stop();
    this.subscriptions.clear();
    this.wake(true);
  }

  // ------------------------------------------------------------------ SubscriptionSink

  deliver(subscription: string, resultJson: string): boolean {
    if (this.closed) return false;
    const text = `${envelopeHead(subscription)}${resultJson}}}`;
    const bytes = Buffer.byteLength(text);
    if (!this.fits(1, bytes)) return false;
    this.write(text, bytes);
    return true;
  }

  /** Whether `count` more notifications of `bytes` fit the caps; if not, the client is lagging. */
  private fits(count: number, bytes: number): boolean {
    if (this.waiting + count > this.config.maxQueuedNotifications) {
      this.lagging({ limit: 'queued_notifications', max: this.config.maxQueuedNotifications });
      return false;
    }
    if (this.ws.bufferedAmount + bytes > this.config.maxBufferedBytes) {
      this.lagging({ limit: 'buffered_bytes', max: this.config.maxBufferedBytes });
      return false;
    }
    return true;
  }

  deliverMany(subscription: string, resultsJson: Buffer, count: number): boolean {
    if (this.closed) return false;
    const head = Buffer.from(envelopeHead(subscription));
    if (!this.fits(count, head.length + resultsJson.length + CLOSE_ENVELOPE.length)) return false;
    // One message in three fragments: the envelope's head, the result list whose bytes every
    // subscriber with the same filter shares (written as they are, never copied into a frame of
    // its own: with 100 subscribers that copy was nearly half of the fan-out), the envelope's end.
    // Nothing else is sent on this socket in between: the three calls run in one go.
    const size = frameSize(head.length) + frameSize(resultsJson.length) + frameSize(CLOSE_ENVELOPE.length);
    this.ws.send(head, { binary: false, fin: false });
    this.ws.send(resultsJson, { binary: false, fin: false });
    this.ws.send(CLOSE_ENVELOPE, { binary: false, fin: true }, () => this.wake());
    this.recordSent(size, count);
    return true;
  }

  get batchLimits(): { count: number; bytes: number } {
    return {
      count: Math.max(1, Math.floor(this.config.maxQueuedNotifications / 2)),
      // Less the envelope, well under a kilobyte.
      bytes: Math.max(1, Math.floor(this.config.maxBufferedBytes / 2) - 1024),
    };
  }

  /** Half the caps: replay waits for this much room, so that it fills the buffer without overflowing it. */
  get hasRoom(): boolean {
    return (
      this.waiting <= this.config.maxQueuedNotifications / 2 &&
      this.ws.bufferedAmount <= this.config.maxBufferedBytes / 2
    );
  }

  room(): Promise<void> {
    if (this.closed || this.hasRoom) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  private wake(all = false): void {
    while (this.roomWaiters.length > 0 && (all || this.closed || this.hasRoom)) this.roomWaiters.shift()?.();
  }

  finished(subscription: string): void {
    this.subscriptions.delete(subscription);
  }

  failed(subscription: string, error: unknown): void {
    if (this.closed) return;
    if (!isTributaryError(error)) this.opts.logger?.error({ err: error, subscription }, 'rpc subscription failed');
    this.notifyError(subscription, error);
    this.end(CLOSE_INTERNAL, 'subscription failed');
  }

  /**
   * The client does not read fast enough: every subscription is told where to resume (its
   * cursor: the first position it has not been sent), then the connection closes.
   */
  private lagging(limit: { limit: 'queued_notifications' | 'buffered_bytes'; max: number }): void {
    if (this.ending) return;
    for (const s of this.subscriptions.values()) {
      const cursor = s.cursor;
      const error = rpcError(
        'rpc/subscription_lagging',
        `the client reads too slowly (${limit.limit} reached ${limit.max}); resume from the cursor`,
        { ...limit, cursor: encodeEventCursor(cursor), kind: s.kind },
      );
      this.notifyError(s.id, error);
    }
    // Operators want to know when clients are cut off (and tests wait for it): one line per connection.
    this.opts.logger?.info(
      { ...limit, subscriptions: this.subscriptions.size },
      'rpc websocket client lagging: told its cursors and closed',
    );
    this.end(CLOSE_LAGGING, 'subscription lagging');
  }

  private notifyError(subscription: string, error: unknown): void {
    const text = JSON.stringify({
      jsonrpc: '2.0',
      method: NOTIFICATION_METHOD,
      params: { subscription, error: toJsonRpcError(error, 'query') },
    });
    // Past the caps on purpose: one message per subscription, and then the connection ends.
    this.ws.send(text);
  }

  private end(code: number, reason: string): void {
    this.ending = true;
    this.stopAll();
    this.ws.close(code, reason);
  }

  // ------------------------------------------------------------------ liveness and shutdown

  beat(): void {
    if (!this.alive) {
      this.opts.logger?.debug('rpc websocket missed its pong: terminated');
      this.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  shutdown(): void {
    if (this.ws.readyState === WebSocket.OPEN) this.end(CLOSE_GOING_AWAY, 'node shutting down');
  }

  terminate(): void {
    this.ending = true;
    this.stopAll();
    this.ws.terminate();
  }
}

interface ConnectionOptions {
  dispatcher: WsDispatcher;
  ctx: Omit<RpcContext, 'subscriptions'>;
  chain: Chain;
  config: RpcConfig;
  policy: HttpPolicy;
  logger?: Logger;
  /** Sockets the HTTP server refused at its connection caps. */
  isRefused(socket: Socket): boolean;
}
