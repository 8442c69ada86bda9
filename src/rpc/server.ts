import {
  createServer,
  maxHeaderSize,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { JsonValue } from '../codec/json.ts';
import type { Chain } from '../consensus/chain.ts';
import type { Mempool } from '../consensus/mempool.ts';
import type { RpcConfig } from '../config.ts';
import { isTributaryError } from '../errors.ts';
import { rpcError, toJsonRpcError, type JsonRpcError } from './errors.ts';
import {
  ConnectionLimiter,
  type ConnectionLimits,
  HttpPolicy,
  LoopShare,
  ResponseBudget,
  type SerializedJson,
  isJsonContentType,
  limitError,
  resolveConnectionLimits,
  yieldToEventLoop,
} from './limits.ts';
import { buildMethodTable, type RpcContext, type RpcMethod } from './methods.ts';
import { RenderedBlocks } from './rendered-blocks.ts';
import { subscriptionMethods } from './subscriptions.ts';
import { WsTransport } from './ws.ts';
import { parseCallParams } from './params.ts';

/** A call's method name, when it has one (before the call is checked). */
function methodName(call: unknown): string | undefined {
  const method = typeof call === 'object' && call !== null ? (call as { method?: unknown }).method : undefined;
  return typeof method === 'string' ? method : undefined;
}

interface JsonRpcResponse {
  jsonrpc: '2.0';
  id: string | number | null;
  result?: JsonValue | SerializedJson;
  error?: JsonRpcError;
}

/** After a refusal that closes the connection, how long the rest of the request is read and dropped. */
const LINGER_MS = 2000;

/** Refused connections are summed into one warning per this period. */
const REFUSAL_WARNING_PERIOD_MS = 10_000;

/** The HTTP status that goes with a refusal, where it is not 200. */
const HTTP_STATUS: Partial<Record<string, number>> = {
  'rpc/request_too_large': 413,
  'rpc/too_many_connections': 503,
  'rpc/request_timeout': 408,
  'rpc/forbidden_host': 403,
  'rpc/forbidden_origin': 403,
  'rpc/unsupported_media_type': 415,
};

/**
 * JSON-RPC 2.0 over HTTP (POST /, single or batch) and, on the same port, over WebSocket (the
 * `upgrade` event, src/rpc/ws.ts, answered by the same `respond`). GET /health answers for load
 * balancers, as do GET /livez (the process answers) and GET /readyz (it can commit and is not
 * catching up or alone).
 * Every failure is a JSON-RPC error with a number and a stable string code in `data.code`; a
 * handler that throws something uncoded is logged and answered as an internal error, and the
 * server keeps serving.
 *
 * Bounds (src/rpc/limits.ts): each result and each batch's results are serialised within byte
 * caps (a limit error in their place, never a 500 or an unbounded string), open connections are
 * capped in total (below the descriptor limit, so that storage keeps its files) and per client
 * address, headers, bodies and idle connections are timed out, and browsers are kept out unless
 * configured (Host allow-list, JSON content types only, CORS only for listed origins).
 */
export class RpcServer {
  private readonly ctx: RpcContext;
  /** JSON-RPC over WebSocket on the same port (src/rpc/ws.ts), made in `listen`. */
  private ws: WsTransport | undefined;
  private readonly config: RpcConfig;
  private readonly logger: Logger | undefined;
  readonly methods: Map<string, RpcMethod>;
  private server: Server | undefined;
  private readonly limits: ConnectionLimits;
  private readonly limiter: ConnectionLimiter;
  /** Replaced in `listen` by one that knows the address actually listened on. */
  private policy: HttpPolicy;
  /** Sockets refused at connection: their requests, if any arrive, are not served. */
  private readonly refused = new WeakSet<Socket>();
  /** Sockets whose current response has started: a late timeout must not write into it. */
  private readonly responding = new WeakSet<Socket>();
  /** Sockets whose request body is being read: a timeout there is the request timeout, not the headers one. */
  private readonly readingBody = new WeakSet<Socket>();
  /** Every call, from any connection or batch, waits its turn here when the loop is saturated. */
  private readonly loopShare = new LoopShare();
  private refusedSinceWarning = 0;
  private lastRefusalWarningMs = -Infinity;

  /** Why the node cannot commit blocks now, or undefined: `/health` answers 503 with it. */
  private readonly notReady: () => string | undefined;
  /** Calls running now, and whether `close` has begun: new calls are then refused with a code. */
  private running = 0;
  private closing = false;
  private readonly unready: () => string | undefined;
  private readonly observe: ((method: string, seconds: number, errorCode: string | undefined) => void) | undefined;

  constructor(opts: {
    chain: Chain;
    mempool: Mempool;
    config: RpcConfig;
    logger?: Logger;
    extraMethods?: RpcMethod[];
    notReady?: () => string | undefined;
    /** Called once per call that ran: its method, duration and error code if it failed (metrics). */
    observe?: (method: string, seconds: number, errorCode: string | undefined) => void;
    /** Why the node should not get traffic though it can commit (syncing, no peers): /readyz. */
    unready?: () => string | undefined;
  }) {
    this.observe = opts.observe;
    this.unready = opts.unready ?? (() => undefined);
    this.notReady = opts.notReady ?? (() => opts.chain.storageFault());
    this.ctx = { chain: opts.chain, mempool: opts.mempool, renderedBlocks: new RenderedBlocks() };
    this.config = opts.config;
    this.logger = opts.logger;
    this.methods = buildMethodTable(opts.chain.app.registry.queries, [
      ...subscriptionMethods,
      ...(opts.extraMethods ?? []),
    ]);
    this.limits = resolveConnectionLimits(opts.config);
    this.limiter = new ConnectionLimiter(this.limits.maxConnections, this.limits.maxConnectionsPerClient);
    this.policy = new HttpPolicy(opts.config, opts.config.host);
  }

  /** Open connections counted against the caps. */
  get openConnections(): number {
    return this.limiter.open;
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    const config = this.config;
    const limits = this.limits;
    this.policy = new HttpPolicy(config, host);
    if (limits.loweredForDescriptors) {
      this.logger?.warn(
        {
          descriptorLimit: limits.descriptorLimit,
          maxConnections: limits.maxConnections,
          configured: config.maxConnections,
        },
        'rpc connection cap lowered to keep descriptors for storage',
      );
    }
    const server = createServer(
      {
        headersTimeout: config.headersTimeoutMs,
        requestTimeout: config.requestTimeoutMs,
        keepAliveTimeout: Math.min(5000, config.idleTimeoutMs),
        // Node checks both timeouts on this period (30 s by default, which would let them run late).
        connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(config.headersTimeoutMs / 4))),
      },
      (req, res) => this.onRequest(req, res),
    );
    // No traffic either way for this long closes the socket (Node destroys it when nobody listens for 'timeout').
    server.timeout = config.idleTimeoutMs;
    server.on('connection', (socket: Socket) => this.onConnection(socket));
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.onClientError(err, socket));
    const ws = new WsTransport({
      dispatcher: this,
      ctx: this.ctx,
      chain: this.ctx.chain,
      config,
      policy: this.policy,
      logger: this.logger,
      isRefused: (socket) => this.refused.has(socket),
    });
    this.ws = ws;
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => ws.handleUpgrade(req, socket, head));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const a = server.address() as AddressInfo;
        resolve({ host: a.address, port: a.port });
      });
    });
  }

  /**
   * Stops taking connections, waits (up to `drainMs`) for the calls already running, then cuts
   * every connection. Waiting matters at shutdown: the node closes the database right after, and a
   * call still reading it would fail with an uncoded error.
   */
  async close(drainMs = 5_000): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.closing = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const wsClosed = this.ws?.close();
    const deadline = Date.now() + drainMs;
    while (this.running > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    server.closeAllConnections();
    await wsClosed;
    await closed;
  }

  /**
   * The answer to one JSON-RPC message (a call or a batch) as JSON text, undefined when nothing
   * is to be sent (notifications only). Transport-independent: the size caps apply here.
   */
  async respond(body: string, ctx: RpcContext = this.ctx): Promise<string | undefined> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return JSON.stringify(failure(null, rpcError('rpc/parse_error', 'request body is not valid JSON')));
    }
    if (!Array.isArray(parsed)) {
      const budget = new ResponseBudget(this.config.maxResponseBytes);
      return this.answerCall(parsed, budget, ctx);
    }
    if (parsed.length === 0) return JSON.stringify(failure(null, rpcError('rpc/invalid_request', 'empty batch')));
    if (parsed.length > this.config.maxBatch) {
      return JSON.stringify(
        failure(null, limitError('rpc/batch_too_large', 'batch_items', this.config.maxBatch, parsed.length)),
      );
    }
    const budget = new ResponseBudget(this.config.maxResponseBytes, this.config.maxBatchResponseBytes);
    const parts: string[] = [];
    for (let i = 0; i < parsed.length; ) {
      // Between calls, timers and I/O (block production among them) get their turn.
      if (i > 0) await yieldToEventLoop();
      if (budget.exhausted) {
        const text = this.refuseUnrun(parsed[i], budget);
        if (text !== undefined) parts.push(text);
        i++;
        continue;
      }
      // A run of submissions is admitted together: the mempool keeps their arrival order, and
      // their signatures travel to the verifier as one batch. One at a time, each would wait for
      // its own worker round trip: a batch of 100 transfers took 46 ms at p50, and 22 ms together.
      let end = i + 1;
      if (this.isSubmit(parsed[i])) while (end < parsed.length && this.isSubmit(parsed[end])) end++;
      const texts = await Promise.all(parsed.slice(i, end).map((item) => this.answerCall(item, budget, ctx)));
      for (const text of texts) if (text !== undefined) parts.push(text);
      i = end;
    }
    return parts.length === 0 ? undefined : `[${parts.join(',')}]`;
  }

  private isSubmit(call: unknown): boolean {
    const method = methodName(call);
    return method !== undefined && this.methods.get(method)?.kind === 'submit';
  }

  /** One call of a request, serialised within the request's budget; undefined for a notification. */
  private async answerCall(call: unknown, budget: ResponseBudget, ctx: RpcContext): Promise<string | undefined> {
    // Reads take turns on the loop; submissions do not (they wait on the mempool and the
    // signature workers, and batching those is what makes admission fast).
    const method = methodName(call);
    const isRead = method !== undefined && this.methods.get(method)?.kind !== 'submit';
    const release = isRead ? await this.loopShare.acquire() : undefined;
    try {
      const response = await this.handleCall(call, ctx);
      if (!response) return undefined;
      if (response.error) return JSON.stringify(response);
      const out = budget.serialize(response.result);
      if ('error' in out) return JSON.stringify(failure(response.id, out.error));
      return `{"jsonrpc":"2.0","id":${JSON.stringify(response.id)},"result":${out.text}}`;
    } finally {
      release?.();
    }
  }

  /** A call the batch's budget no longer covers: answered with the limit, not run. */
  private refuseUnrun(call: unknown, budget: ResponseBudget): string | undefined {
    const { id } = typeof call === 'object' && call !== null ? (call as Record<string, unknown>) : {};
    if (id === undefined) return undefined;
    const replyId = typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : null;
    return JSON.stringify(failure(replyId, budget.refusal()));
  }

  /** One call; undefined for a notification (no id), which gets no answer. */
  async handleCall(call: unknown, ctx: RpcContext = this.ctx): Promise<JsonRpcResponse | undefined> {
    if (typeof call !== 'object' || call === null || Array.isArray(call)) {
      return failure(null, rpcError('rpc/invalid_request', 'a call must be a JSON object'));
    }
    const { jsonrpc, method, params, id } = call as Record<string, unknown>;
    const validId =
      id === undefined || id === null || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
    const replyId = validId ? ((id as string | number | undefined) ?? null) : null;
    if (jsonrpc !== '2.0' || typeof method !== 'string' || !validId) {
      return failure(replyId, rpcError('rpc/invalid_request', 'expected {"jsonrpc":"2.0","method":string,"id":...}'));
    }
    const m = this.methods.get(method);
    let response: JsonRpcResponse;
    if (this.closing) {
      response = failure(replyId, rpcError('rpc/shutting_down', 'the node is shutting down'));
    } else if (!m) {
      response = failure(replyId, rpcError('rpc/method_not_found', `method "${method}" does not exist`, { method }));
    } else {
      this.running++;
      const started = performance.now();
      let errorCode: string | undefined;
      try {
        const result = await m.handler(ctx, parseCallParams(m.params, params));
        response = { jsonrpc: '2.0', id: replyId, result };
      } catch (e) {
        if (!isTributaryError(e)) this.logger?.error({ err: e, method }, 'uncoded error in rpc handler');
        errorCode = isTributaryError(e) ? e.code : 'rpc/internal_error';
        response = { jsonrpc: '2.0', id: replyId, error: toJsonRpcError(e, m.kind) };
      } finally {
        this.running--;
      }
      this.observe?.(method, (performance.now() - started) / 1000, errorCode);
    }
    return id === undefined ? undefined : response;
  }

  // -------------------------------------------------------------------------------------------
  // HTTP

  private onConnection(socket: Socket): void {
    const client = clientAddress(socket);
    const refusal = this.limiter.tryOpen(client);
    if (!refusal) {
      socket.once('close', () => this.limiter.close(client));
      return;
    }
    // Refused at once: the descriptor goes back as soon as these few bytes are written.
    this.refused.add(socket);
    this.logger?.debug({ client, limit: refusal.limit, max: refusal.max }, 'rpc connection refused');
    this.noteRefusal(refusal.limit);
    const error = limitError('rpc/too_many_connections', refusal.limit, refusal.max);
    socket.on('error', () => {});
    socket.end(rawResponse(503, JSON.stringify(failure(null, error))));
    socket.destroySoon();
  }

  /** A flood is worth one warning per period, not one line per connection. */
  private noteRefusal(limit: string): void {
    this.refusedSinceWarning++;
    const now = Date.now();
    if (now - this.lastRefusalWarningMs < REFUSAL_WARNING_PERIOD_MS) return;
    this.logger?.warn(
      { refused: this.refusedSinceWarning, limit, open: this.limiter.open },
      'rpc connections refused at the cap',
    );
    this.refusedSinceWarning = 0;
    this.lastRefusalWarningMs = now;
  }

  /** Malformed requests and timeouts the HTTP parser reports: a coded answer if none has started, then close. */
  private onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    this.logger?.debug({ code: err.code, client: socket.remoteAddress }, 'rpc client error');
    if (!socket.writable || this.responding.has(socket) || this.refused.has(socket) || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    let status = 400;
    let error = rpcError('rpc/invalid_request', 'malformed HTTP request');
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      status = 408;
      error = this.readingBody.has(socket)
        ? limitError('rpc/request_timeout', 'request_timeout_ms', this.config.requestTimeoutMs)
        : limitError('rpc/request_timeout', 'headers_timeout_ms', this.config.headersTimeoutMs);
    } else if (err.code === 'HPE_HEADER_OVERFLOW') {
      status = 431;
      error = limitError('rpc/request_too_large', 'header_bytes', maxHeaderSize);
    }
    socket.end(rawResponse(status, JSON.stringify(failure(null, error))));
    lingerThenClose(socket);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.refused.has(req.socket) || req.socket.writableEnded) {
      req.socket.destroy();
      return;
    }
    // The idle timeout is for a silent connection, not for a call the node is still working on
    // (an overloaded node answering a large batch would otherwise cut the client off mid-call).
    const socket = req.socket;
    socket.setTimeout(0);
    res.once('finish', () => {
      this.responding.delete(socket);
      if (!socket.destroyed) socket.setTimeout(this.config.idleTimeoutMs);
    });
    this.handleHttp(req, res).catch((e: unknown) => {
      if (req.destroyed || res.destroyed || req.socket.destroyed) {
        this.logger?.debug({ err: e }, 'rpc request aborted by the client');
        return;
      }
      this.logger?.error({ err: e }, 'rpc request failed');
      if (res.headersSent) res.destroy();
      else this.send(res, 500, JSON.stringify(failure(null, rpcError('rpc/internal_error', 'internal error'))));
    });
  }

  private async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const policy = this.policy;
    const host = req.headers.host;
    if (!policy.hostAllowed(host)) {
      return this.refuse(
        res,
        rpcError('rpc/forbidden_host', `host "${host}" is not served here (rpc.allowedHosts)`, { host }),
      );
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !policy.originAllowed(origin)) {
      return this.refuse(
        res,
        rpcError('rpc/forbidden_origin', `origin "${origin}" is not allowed (rpc.corsOrigins)`, { origin }),
      );
    }
    const cors: OutgoingHttpHeaders =
      origin !== undefined ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {};
    if (req.method === 'OPTIONS') {
      const preflight =
        origin !== undefined
          ? {
              'access-control-allow-methods': 'GET, POST, OPTIONS',
              'access-control-allow-headers': 'content-type',
              'access-control-max-age': '600',
            }
          : {};
      return this.sendEmpty(res, 204, { ...cors, ...preflight, allow: 'GET, POST, OPTIONS' });
    }
    if (req.method === 'GET' && req.url === '/livez') {
      // Alive: the process answers. Whether it should get traffic is /readyz's question.
      return this.send(res, 200, JSON.stringify({ status: 'ok' }), cors);
    }
    if (req.method === 'GET' && req.url === '/readyz') {
      const reason = this.notReady() ?? this.unready();
      return this.send(
        res,
        reason === undefined ? 200 : 503,
        JSON.stringify({
          ...(reason === undefined ? { status: 'ok' } : { status: 'unavailable', reason }),
          height: this.ctx.chain.latestHeight,
        }),
        cors,
      );
    }
    if (req.method === 'GET' && (req.url === '/health' || req.url === '/')) {
      const chain = this.ctx.chain;
      const reason = this.notReady();
      const health = reason === undefined ? { status: 'ok' } : { status: 'unavailable', reason };
      return this.send(
        res,
        reason === undefined ? 200 : 503,
        JSON.stringify({ ...health, chainId: chain.app.chainId, height: chain.latestHeight }),
        cors,
      );
    }
    if (req.method !== 'POST') {
      return this.sendEmpty(res, 405, { ...cors, allow: 'GET, POST, OPTIONS' });
    }
    if (!isJsonContentType(req.headers['content-type'])) {
      const type = req.headers['content-type'] ?? null;
      return this.refuse(
        res,
        rpcError('rpc/unsupported_media_type', 'a JSON-RPC request must be sent as application/json', {
          contentType: type,
        }),
        cors,
      );
    }
    this.readingBody.add(req.socket);
    const body = await readBody(req, this.config.maxBodyBytes);
    this.readingBody.delete(req.socket);
    if (body === 'aborted') {
      this.logger?.debug({ client: req.socket.remoteAddress }, 'rpc request aborted by the client');
      return;
    }
    if (body === undefined) {
      return this.refuse(res, limitError('rpc/request_too_large', 'request_bytes', this.config.maxBodyBytes), cors);
    }
    const text = await this.respond(body);
    if (res.destroyed) {
      this.logger?.debug({ client: req.socket.remoteAddress }, 'rpc client left before its answer');
      return;
    }
    if (text === undefined) {
      return this.sendEmpty(res, 204, cors);
    }
    this.send(res, 200, text, cors);
  }

  /**
   * A refusal before the body is read, with its HTTP status. The connection then closes, but
   * gently: a plain close with the client's bytes still unread sends a reset, which can wipe the
   * answer from the client's buffers before it is read.
   */
  private refuse(res: ServerResponse, error: unknown, headers: OutgoingHttpHeaders = {}): void {
    const body = failure(null, error);
    const status = HTTP_STATUS[String(body.error?.data.code)] ?? 400;
    res.setHeader('connection', 'close');
    if (res.socket) lingerThenClose(res.socket);
    this.send(res, status, JSON.stringify(body), headers);
  }

  private sendEmpty(res: ServerResponse, status: number, headers: OutgoingHttpHeaders): void {
    this.responding.add(res.req.socket);
    res.writeHead(status, headers);
    res.end();
  }

  private send(res: ServerResponse, status: number, text: string, headers: OutgoingHttpHeaders = {}): void {
    this.responding.add(res.req.socket);
    res.writeHead(status, {
      ...headers,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  }
}

function failure(id: string | number | null, e: unknown): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: toJsonRpcError(e, 'query') };
}

/** The client's address for the per-client cap (IPv4 clients of a dual-stack listener without the ::ffff: prefix). */
function clientAddress(socket: Socket): string {
  const a = socket.remoteAddress ?? 'unknown';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** A whole HTTP response as bytes, for sockets the HTTP server has no response object on. */
function rawResponse(status: number, body: string): string {
  const reason: Record<number, string> = {
    400: 'Bad Request',
    408: 'Request Timeout',
    431: 'Request Header Fields Too Large',
    503: 'Service Unavailable',
  };
  return (
    `HTTP/1.1 ${status} ${reason[status] ?? 'Error'}\r\nconnection: close\r\ncontent-type: application/json\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/**
 * Closes `socket` after what is being written: our side half-closes at once, whatever the client
 * still sends is read and dropped, and the socket is destroyed when the client closes or after
 * LINGER_MS. Node calls `destroySoon` when a `connection: close` response finishes; here that
 * becomes the half-close.
 */
function lingerThenClose(socket: Socket): void {
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.on('error', () => {});
  socket.destroySoon = () => {
    if (!socket.writableEnded) socket.end();
    socket.resume();
  };
}

/**
 * Reads the body; undefined as soon as it passes `limit` bytes (the rest is read and dropped, not
 * buffered); 'aborted' when the client goes away first.
 */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined | 'aborted'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    // 'error' (aborted) comes before 'close'; either way a body that never ended is no request.
    req.on('error', () => resolve('aborted'));
    req.on('close', () => {
      if (!req.complete) resolve('aborted');
    });
  });
}
