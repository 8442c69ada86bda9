import { descriptorLimit } from '../storage/descriptors.ts';

export { descriptorLimit };
import type { RpcConfig } from '../config.ts';
import { TributaryError } from '../errors.ts';

/*
 * The bounds and policies of the JSON-RPC transports, as pure functions and small classes with no
 * I/O of their own (except reading the descriptor limit): the HTTP server calls them today, and a
 * WebSocket transport applies the same ones to its messages and connections.
 */

// ---------------------------------------------------------------------------------------------
// Size-bounded serialisation

export type BoundedJson = { ok: true; text: string; bytes: number } | { ok: false; atLeastBytes: number };

/**
 * Containers shallower than this are walked (so that a huge result stops being written as soon as
 * it passes the cap); deeper ones are handed whole to JSON.stringify, which is several times faster
 * than a walk in JavaScript. With 2, a block's transactions or a list's entries are each
 * serialised natively: a 7.7 MB block costs about 1.4 times a plain JSON.stringify.
 */
const WALKED_DEPTH = 2;

const OVER = Symbol('over');

/**
 * A result already rendered as JSON text (a cached answer): written as it is, within the same
 * size caps as any other result.
 */
export class SerializedJson {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/**
 * JSON.stringify's output for `value`, or `{ok: false}` once it passes `maxBytes` (UTF-8 bytes).
 * Never builds a string much longer than the cap, so a result too big for any string (V8's
 * "Invalid string length") is a refusal here, not an exception.
 */
export function serializeBounded(value: unknown, maxBytes: number): BoundedJson {
  const parts: string[] = [];
  // UTF-16 units: never more than the UTF-8 bytes, so passing the cap in units passes it in bytes.
  let units = 0;
  const push = (s: string): void => {
    parts.push(s);
    units += s.length;
    if (units > maxBytes) throw OVER;
  };
  const native = (v: unknown): void => push(JSON.stringify(v) ?? 'null');
  const write = (v: unknown, depth: number): void => {
    if (v instanceof SerializedJson) {
      push(v.text);
    } else if (v === null || typeof v !== 'object' || depth >= WALKED_DEPTH || !isPlainContainer(v)) {
      native(v);
    } else if (Array.isArray(v)) {
      push('[');
      for (let i = 0; i < v.length; i++) {
        if (i > 0) push(',');
        const item: unknown = v[i];
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol') push('null');
        else write(item, depth + 1);
      }
      push(']');
    } else {
      writeObject(v, depth);
    }
  };
  const writeObject = (v: object, depth: number): void => {
    push('{');
    let first = true;
    for (const key of Object.keys(v)) {
      const field: unknown = (v as Record<string, unknown>)[key];
      if (field === undefined || typeof field === 'function' || typeof field === 'symbol') continue;
      push(`${first ? '' : ','}${JSON.stringify(key)}:`);
      first = false;
      write(field, depth + 1);
    }
    push('}');
  };
  try {
    write(value, 0);
  } catch (e) {
    if (e === OVER) return { ok: false, atLeastBytes: units };
    // A subtree too large for one string, or too deep for the stack: too large to send either way.
    if (e instanceof RangeError) return { ok: false, atLeastBytes: maxBytes + 1 };
    throw e;
  }
  const text = parts.join('');
  const bytes = Buffer.byteLength(text);
  return bytes > maxBytes ? { ok: false, atLeastBytes: bytes } : { ok: true, text, bytes };
}

/** Arrays and plain objects are walked; anything with its own JSON form (toJSON, boxed values) is not. */
function isPlainContainer(v: object): boolean {
  if (Array.isArray(v)) return true;
  const proto: unknown = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
}

// ---------------------------------------------------------------------------------------------
// Response budget of one request (one call, or one batch)

/** What `data.limit` of a limit error names. */
export type LimitName =
  | 'request_bytes'
  | 'header_bytes'
  | 'response_bytes'
  | 'batch_response_bytes'
  | 'batch_items'
  | 'connections'
  | 'connections_per_client'
  | 'headers_timeout_ms'
  | 'request_timeout_ms'
  | 'message_bytes'
  | 'subscriptions';

export function limitError(
  code:
    | 'rpc/request_too_large'
    | 'rpc/response_too_large'
    | 'rpc/batch_too_large'
    | 'rpc/too_many_connections'
    | 'rpc/request_timeout'
    | 'rpc/too_many_subscriptions',
  limit: LimitName,
  max: number,
  actual?: number,
): TributaryError {
  const what: Record<LimitName, string> = {
    request_bytes: 'request body exceeds',
    header_bytes: 'request headers exceed',
    response_bytes: 'response exceeds',
    batch_response_bytes: "batch's responses exceed",
    batch_items: 'batch has more calls than',
    connections: 'open connections reached',
    connections_per_client: "this client's open connections reached",
    headers_timeout_ms: 'request headers not received within',
    request_timeout_ms: 'request not received within',
    message_bytes: 'WebSocket message exceeds',
    subscriptions: "this connection's subscriptions reached",
  };
  const unit = limit.endsWith('_bytes') ? ' bytes' : limit.endsWith('_ms') ? ' ms' : '';
  const data: Record<string, unknown> = { limit, max };
  if (actual !== undefined) data.actual = actual;
  return new TributaryError(code, `${what[limit]} ${max}${unit}`, data);
}

/**
 * Serialises the results of one request within its caps: each result at most `maxResponseBytes`,
 * a batch's results together at most `maxBatchBytes`. Every result's size counts, also one refused
 * for its size (that work was done), so once a batch has spent its budget the remaining calls are
 * answered `rpc/batch_too_large` without being run: a batch of a hundred heavy reads runs a few.
 */
export class ResponseBudget {
  private spentBytes = 0;
  private readonly maxResponseBytes: number;
  private readonly maxBatchBytes: number | undefined;

  /** `maxBatchBytes` undefined: a single call, bounded by `maxResponseBytes` alone. */
  constructor(maxResponseBytes: number, maxBatchBytes?: number) {
    this.maxResponseBytes = maxResponseBytes;
    this.maxBatchBytes = maxBatchBytes;
  }

  get spent(): number {
    return this.spentBytes;
  }

  /** A batch whose budget is gone: later calls are refused unrun. */
  get exhausted(): boolean {
    return this.maxBatchBytes !== undefined && this.spentBytes >= this.maxBatchBytes;
  }

  /** The error for a call not run because the batch's budget is spent. */
  refusal(): TributaryError {
    return limitError('rpc/batch_too_large', 'batch_response_bytes', this.maxBatchBytes ?? 0, this.spentBytes);
  }

  /** The JSON text of `result`, or the limit error to answer in its place. */
  serialize(result: unknown): { text: string } | { error: TributaryError } {
    const remaining = this.maxBatchBytes === undefined ? Infinity : this.maxBatchBytes - this.spentBytes;
    const batchBinds = remaining < this.maxResponseBytes;
    const out = serializeBounded(result, batchBinds ? remaining : this.maxResponseBytes);
    if (out.ok) {
      this.spentBytes += out.bytes;
      return { text: out.text };
    }
    this.spentBytes += out.atLeastBytes;
    return batchBinds
      ? { error: limitError('rpc/batch_too_large', 'batch_response_bytes', this.maxBatchBytes ?? 0, this.spentBytes) }
      : { error: limitError('rpc/response_too_large', 'response_bytes', this.maxResponseBytes) };
  }
}

// ---------------------------------------------------------------------------------------------
// Connections

export interface ConnectionRefusal {
  limit: 'connections' | 'connections_per_client';
  max: number;
}

/** Open connections in total and per client address; a refused connection is never counted. */
export class ConnectionLimiter {
  readonly max: number;
  readonly maxPerClient: number;
  private total = 0;
  private readonly perClient = new Map<string, number>();

  constructor(max: number, maxPerClient: number) {
    this.max = max;
    this.maxPerClient = maxPerClient;
  }

  get open(): number {
    return this.total;
  }

  /** Counts the connection in, or says which cap refuses it. */
  tryOpen(client: string): ConnectionRefusal | undefined {
    if (this.total >= this.max) return { limit: 'connections', max: this.max };
    const mine = this.perClient.get(client) ?? 0;
    if (mine >= this.maxPerClient) return { limit: 'connections_per_client', max: this.maxPerClient };
    this.total++;
    this.perClient.set(client, mine + 1);
    return undefined;
  }

  close(client: string): void {
    const mine = this.perClient.get(client) ?? 0;
    if (mine <= 1) this.perClient.delete(client);
    else this.perClient.set(client, mine - 1);
    if (mine > 0) this.total--;
  }
}

/**
 * Connections a process with `limit` descriptors may give to sockets: half is kept for LevelDB
 * (its table files), the log, the signer state and peers (at least 256 of them, but never so many
 * that under a quarter is left for connections).
 */
export function connectionCapForDescriptors(limit: number): number {
  const reserve = Math.max(256, Math.ceil(limit / 2));
  return Math.max(Math.floor(limit / 4), limit - reserve);
}

// ---------------------------------------------------------------------------------------------
// Browser safety: Host allow-list (against DNS rebinding), JSON-only bodies, CORS only on request

/** Loopback names; the listen address is added to these, "*" allows any. */
const WILDCARD_ADDRESSES = new Set(['0.0.0.0', '::', '[::]']);

/** The Host header's name, lower-case, without the port ("[::1]:8545" -> "[::1]"). */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(0, end + 1);
  }
  const colon = h.indexOf(':');
  return colon < 0 || colon !== h.lastIndexOf(':') ? h : h.slice(0, colon);
}

/** Media types a JSON-RPC POST may declare (parameters such as charset are allowed). */
const JSON_MEDIA_TYPES = new Set(['application/json', 'application/json-rpc', 'application/jsonrequest']);

export function isJsonContentType(header: string | undefined): boolean {
  if (!header) return false;
  const type = (header.split(';', 1)[0] ?? '').trim().toLowerCase();
  return JSON_MEDIA_TYPES.has(type);
}

/** Which Host names and browser Origins a node serves. */
export class HttpPolicy {
  private readonly anyHost: boolean;
  private readonly hosts: Set<string>;
  private readonly anyOrigin: boolean;
  private readonly origins: Set<string>;

  constructor(config: Pick<RpcConfig, 'allowedHosts' | 'corsOrigins'>, listenHost: string) {
    this.anyHost = config.allowedHosts.includes('*');
    this.hosts = new Set(config.allowedHosts.map(hostName));
    const listen = listenHost.includes(':') && !listenHost.startsWith('[') ? `[${listenHost}]` : listenHost;
    if (!WILDCARD_ADDRESSES.has(listen)) this.hosts.add(hostName(listen));
    this.anyOrigin = config.corsOrigins.includes('*');
    this.origins = new Set(config.corsOrigins.map((o) => o.trim().toLowerCase().replace(/\/+$/, '')));
  }

  /** No Host at all is HTTP/1.0 from a program, never a browser. */
  hostAllowed(header: string | undefined): boolean {
    return header === undefined || this.anyHost || this.hosts.has(hostName(header));
  }

  get corsEnabled(): boolean {
    return this.anyOrigin || this.origins.size > 0;
  }

  originAllowed(origin: string): boolean {
    return this.anyOrigin || this.origins.has(origin.trim().toLowerCase());
  }
}

// ---------------------------------------------------------------------------------------------
// Effective limits of a node

export interface ConnectionLimits {
  maxConnections: number;
  maxConnectionsPerClient: number;
  /** Set when the descriptor limit lowered `maxConnections` below the configured value. */
  descriptorLimit: number | undefined;
  loweredForDescriptors: boolean;
}

/** Checks the rpc section and applies the descriptor reserve. */
export function resolveConnectionLimits(config: RpcConfig, descriptors = descriptorLimit()): ConnectionLimits {
  for (const key of [
    'maxBodyBytes',
    'maxBatch',
    'maxResponseBytes',
    'maxBatchResponseBytes',
    'maxConnections',
    'maxConnectionsPerClient',
    'headersTimeoutMs',
    'requestTimeoutMs',
    'idleTimeoutMs',
    'maxSubscriptionsPerConnection',
    'maxQueuedNotifications',
    'maxBufferedBytes',
    'pingIntervalMs',
  ] as const) {
    const v = config[key];
    if (!Number.isSafeInteger(v) || v <= 0)
      throw new TributaryError('config/invalid', `rpc.${key} must be a positive integer, got ${String(v)}`);
  }
  if (config.headersTimeoutMs > config.requestTimeoutMs) {
    throw new TributaryError('config/invalid', 'rpc.headersTimeoutMs must not exceed rpc.requestTimeoutMs');
  }
  for (const key of ['allowedHosts', 'corsOrigins'] as const) {
    const v: unknown = config[key];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
      throw new TributaryError('config/invalid', `rpc.${key} must be a list of strings`);
  }
  const cap = descriptors === undefined ? Infinity : connectionCapForDescriptors(descriptors);
  return {
    maxConnections: Math.min(config.maxConnections, cap),
    maxConnectionsPerClient: config.maxConnectionsPerClient,
    descriptorLimit: descriptors,
    loweredForDescriptors: cap < config.maxConnections,
  };
}

// ---------------------------------------------------------------------------------------------
// Sharing the event loop with block production

/** Lets timers and I/O callbacks (the engine's among them) run before the next piece of RPC work. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Keeps RPC reads to a share of the event loop when the loop is saturated, so that block production
 * (its timer, LevelDB callbacks, the signer's fsync) still finds the loop free. Two rules:
 *  - a token bucket over the loop's busy time (`performance.eventLoopUtilization`): busy time
 *    drains it, wall time refills it at `share`, and no call starts while it is empty: an idle or
 *    lightly used node never waits, a saturated one gives RPC about `share` of the loop, and after
 *    one long call (a read that held the loop for a second) the next waits until the loop has been
 *    free for about as long;
 *  - at most `maxInFlight` calls run at once, so that calls admitted together cannot then hold
 *    the loop back to back, each unmeasured until it has run.
 * Waiting calls start in arrival order. Wall-clock time is fine here: this is scheduling, not state.
 * Defaults: a share of 0.85 and 16 at once. One at a time with half the loop held `account_get` at
 * 4,700-8,200 req/s in bench/rpc.ts, each call waiting for the one before it to come back from LevelDB.
 */
export class LoopShare {
  private readonly share: number;
  private readonly burstMs: number;
  private readonly maxInFlight: number;
  private tokensMs: number;
  private lastWallMs: number;
  private lastElu: ReturnType<typeof performance.eventLoopUtilization>;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private pumping = false;

  constructor(opts: { share?: number; burstMs?: number; maxInFlight?: number } = {}) {
    this.share = opts.share ?? 0.85;
    this.burstMs = opts.burstMs ?? 200;
    this.maxInFlight = opts.maxInFlight ?? 16;
    this.tokensMs = this.burstMs;
    this.lastWallMs = performance.now();
    this.lastElu = performance.eventLoopUtilization();
  }

  /** Resolves when the call may run, with the function to call when it is done. */
  async acquire(): Promise<() => void> {
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.inFlight--;
      void this.pump();
    };
    if (this.waiting.length === 0 && this.inFlight < this.maxInFlight) {
      this.refill();
      if (this.tokensMs > 0) {
        this.inFlight++;
        return release;
      }
    }
    await new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      void this.pump();
    });
    return release;
  }

  /** Starts waiting calls while there is room and budget; one pump runs at a time. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.waiting.length > 0 && this.inFlight < this.maxInFlight) {
        this.refill();
        if (this.tokensMs <= 0) {
          await new Promise((resolve) => setTimeout(resolve, Math.min(50, Math.ceil(-this.tokensMs / this.share))));
          continue;
        }
        this.inFlight++;
        this.waiting.shift()?.();
      }
    } finally {
      this.pumping = false;
    }
  }

  private refill(): void {
    const now = performance.now();
    const elu = performance.eventLoopUtilization();
    const busyMs = elu.active - this.lastElu.active;
    this.tokensMs = Math.min(this.burstMs, this.tokensMs + (now - this.lastWallMs) * this.share - busyMs);
    this.lastWallMs = now;
    this.lastElu = elu;
  }
}
