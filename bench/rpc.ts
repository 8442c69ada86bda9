import { type ChildProcess, fork, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import autocannon from 'autocannon';
import { CLI, prepareDevnet } from '../scripts/devnet.ts';
import { homePaths, type NodeConfig } from '../src/config.ts';
import { addressFromPublicKey, formatAddress } from '../src/crypto/address.ts';
import { SigningKey } from '../src/crypto/ed25519.ts';
import { toHex } from '../src/crypto/hash.ts';
import { transferTx } from '../src/state/bank/module.ts';
import { buildTx } from '../src/state/tx.ts';
import { tempHome } from '../test/helpers/process.ts';
import { BACK_PRESSURE_CODES } from './back-pressure.ts';
import { mib, printTable, type BenchRow } from './table.ts';

/**
 * The JSON-RPC bars of issue 11 against one single-validator node process (solo engine, p2p off)
 * over real HTTP and WebSocket on loopback. Every load generator is a child process of this one
 * (`fork` of this file with `--load`), so its CPU is counted apart from the node's; this process
 * only coordinates, follows `newHeads` over one WebSocket and reads the node's CPU and RSS from
 * /proc. Phases (BENCH_RPC_PHASES, default "reads,ingest,events"), each measured over a window
 * of BENCH_RPC_SECONDS (default 20) after BENCH_RPC_WARMUP_SECONDS (default 2) of load:
 *
 *  - reads: `account_get`, then `chain_getBlock`, each alone, from one autocannon process keeping
 *    keep-alive connections busy with one request each, one window per count in
 *    BENCH_RPC_READ_CONCURRENCY (default "16,64": where latency is low, and where throughput is
 *    highest), while a background client commits BENCH_RPC_BACKGROUND_RATE (default 500)
 *    transfers/s: requests/s and p50/p99 latency per method and count;
 *  - ingest: one client sending signed `bank/transfer`s in batches of 100 `tx_submit`, one batch
 *    at a time, then 4 such clients at once (BENCH_RPC_INGEST_CLIENTS, default "1,4", one window
 *    per count): committed transfers/s, counted from the `txCount` of each `newHeads` block that
 *    arrives inside the window;
 *  - events: one ingest client keeps transfers flowing while 1, then BENCH_RPC_SUBSCRIBERS (default
 *    100) WebSocket connections subscribe to `events` (every type): events/s delivered per
 *    subscriber and in total, and the block interval (median, p99 of header time differences) to
 *    compare with the ingest phase's (the same flow without subscribers); then one subscriber
 *    replaying the chain's history from height 1 under the background load, which the chain's
 *    own commit rate does not cap.
 *
 * Clients sign everything before the load starts (each ingest phase pre-signs
 * BENCH_RPC_PRESIGN_RATE, default 10,000, tx/s for warmup + window, split over its clients; a
 * client that runs out says so in its row). Senders: BENCH_RPC_SENDERS (default 1,000) per
 * client, each client its own, all funded at genesis; keys are derived from their index, so a
 * client process needs only its range. The node's RPC caps per client address are raised so that
 * 100 subscribers and the readers fit (every client here is 127.0.0.1); everything else is the
 * default config. BENCH_RPC_BLOCK_INTERVAL_MS (default 500); BENCH_RPC_KEEP keeps the home and log.
 *
 * Every way out stops the node and the load processes: everything after the first spawn is inside
 * one try/finally, SIGINT/SIGTERM kill them before exiting, an `exit` hook kills whatever is left,
 * and a load process exits by itself when this process goes (its IPC channel closes).
 */

const env = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${raw}`);
  return n;
};

const SECONDS = env('BENCH_RPC_SECONDS', 20);
const WARMUP_SECONDS = env('BENCH_RPC_WARMUP_SECONDS', 2);
const SENDERS = Math.max(1, Math.floor(env('BENCH_RPC_SENDERS', 1000)));
const PRESIGN_RATE = env('BENCH_RPC_PRESIGN_RATE', 10_000);
const BACKGROUND_RATE = env('BENCH_RPC_BACKGROUND_RATE', 500);
/** A comma-separated list of counts from the environment, e.g. "16,64". */
const countsFromEnv = (name: string, fallback: string): number[] =>
  (process.env[name] ?? fallback).split(',').map((item) => {
    const n = Number(item.trim());
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name}: "${item}" is not a count`);
    return n;
  });
/** Connections of each reads window, one window per entry: a latency point and a throughput point. */
const READ_CONCURRENCY = countsFromEnv('BENCH_RPC_READ_CONCURRENCY', '16,64');
const SUBSCRIBERS = Math.max(1, Math.floor(env('BENCH_RPC_SUBSCRIBERS', 100)));
const BLOCK_INTERVAL_MS = Math.floor(env('BENCH_RPC_BLOCK_INTERVAL_MS', 500));
const BATCHED_EVENTS = (process.env.BENCH_RPC_BATCHED_EVENTS ?? '1') !== '0';
const PHASES = new Set((process.env.BENCH_RPC_PHASES ?? 'reads,ingest,events').split(',').map((s) => s.trim()));
const BATCH = 100;
/** Client counts of the ingest windows, one window each (the issue's bar is 1, and it asks for 4). */
const INGEST_CLIENTS = countsFromEnv('BENCH_RPC_INGEST_CLIENTS', '1,4');
/** Subscriber connections per load process in the many-subscribers run. */
const SUBSCRIBERS_PER_PROCESS = 50;
const CHAIN_ID = 'bench-rpc';

/** Milliseconds since the epoch, high resolution, comparable across this machine's processes. */
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Sender keys from their index: the coordinator funds them, a client process re-derives its range. */
const senderKey = (i: number): SigningKey =>
  new SigningKey(createHash('sha256').update(`rpc-bench/sender/${i}`).digest());

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const fixed = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const perSecond = (count: number, ms: number): string =>
  ms > 0 ? Math.round((count * 1000) / ms).toLocaleString('en-US') : 'n/a';

// ---------------------------------------------------------------------------------------------
// HTTP: node:http with a keep-alive agent (no per-request connection, no fetch overhead in the
// load generator, whose CPU shares the cores with the node).

function post(agent: Agent, url: URL, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: '/',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A kept-alive socket the server closed meanwhile fails once; the retry opens a new one. */
const postRetry = (agent: Agent, url: URL, body: string): Promise<string> =>
  post(agent, url, body).catch(() => post(agent, url, body));

async function rpcCall<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

// ---------------------------------------------------------------------------------------------
// The protocol between the coordinator and a load process (IPC messages).

interface IngestConfig {
  url: string;
  fee: string;
  senderFrom: number;
  senderCount: number;
  txs: number;
  /** Transfers/s to pace at; 0: as fast as one batch at a time allows. */
  rate: number;
}

interface ReadConfig {
  url: string;
  method: 'account_get' | 'chain_getBlock';
  concurrency: number;
  addresses: string[];
  maxHeight: number;
}

interface SubscribeConfig {
  url: string;
  connections: number;
  fromHeight?: number;
  /** Lists of events per notification (`batch: true`), or one notification per event. */
  batch: boolean;
  /** A replay: the time and event count from the first notification to the first event at this height. */
  replayToHeight?: number;
}

type LoadInit =
  | { role: 'ingest'; config: IngestConfig }
  | { role: 'read'; config: ReadConfig }
  | { role: 'subscribe'; config: SubscribeConfig };

type ToLoad = { cmd: 'init'; init: LoadInit } | { cmd: 'start'; from: number; to: number } | { cmd: 'stop' };

interface IngestResult {
  submittedInWindow: number;
  refused: Record<string, number>;
  /** Round trips (ms) of the batches answered inside the window. */
  batchLatencies: number[];
  /** Epoch ms at which the pre-signed supply ran out, or null. */
  exhaustedAt: number | null;
}

interface ReadResult {
  /** Requests answered with a result inside the window. */
  ok: number;
  errors: number;
  meanResponseBytes: number;
  /** Send-to-answer time (ms) of every HTTP 200 answer inside the window. */
  latencies: number[];
}

interface SubscribeResult {
  /** Events each connection received inside the window. */
  perConnection: number[];
  lagged: number;
  closedEarly: number;
  /** The highest cursor height among the connections' last notifications (how far a replay got). */
  reachedHeight: number;
  /** With `replayToHeight`: events and milliseconds from the first notification until it was reached. */
  replay?: { events: number; ms: number };
}

type FromLoad =
  | { type: 'ready'; signMs?: number; signed?: number }
  | { type: 'result'; cpuMs: number; result: IngestResult | ReadResult | SubscribeResult }
  | { type: 'error'; message: string };

/** Every child process started here (node and load processes), for the kill-on-exit paths. */
const children = new Set<ChildProcess>();

function killAll(signal: NodeJS.Signals): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
}

/** A load process seen from the coordinator. */
class LoadProcess {
  readonly child: ChildProcess;
  /** Rejects if the process fails or exits before it has answered; always has a handler. */
  readonly failure: Promise<never>;
  private readonly waiters = new Map<string, (m: FromLoad) => void>();
  private readyInfo: FromLoad | undefined;

  private constructor(init: LoadInit) {
    const path = fileURLToPath(import.meta.url);
    // 'advanced': structured clone, so the latency arrays cross without a JSON round.
    this.child = fork(path, ['--load'], {
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    children.add(this.child);
    this.child.once('exit', () => children.delete(this.child));
    this.failure = new Promise<never>((_, reject) => {
      this.child.on('message', (m: FromLoad) => {
        if (m.type === 'error') reject(new Error(`load process (${init.role}): ${m.message}`));
        else this.waiters.get(m.type)?.(m);
      });
      this.child.once('exit', (code, signal) =>
        reject(new Error(`load process (${init.role}) exited (${signal ?? code}) before it answered`)),
      );
    });
    this.failure.catch(() => {});
    this.child.send({ cmd: 'init', init } satisfies ToLoad);
  }

  private next(type: FromLoad['type']): Promise<FromLoad> {
    const answer = new Promise<FromLoad>((resolve) => this.waiters.set(type, resolve));
    return Promise.race([answer, this.failure]);
  }

  /** Starts the process and waits until it is ready (signed, connected, subscribed). */
  static async start(init: LoadInit): Promise<LoadProcess> {
    const p = new LoadProcess(init);
    p.readyInfo = await p.next('ready');
    return p;
  }

  get ready(): Extract<FromLoad, { type: 'ready' }> {
    return this.readyInfo as Extract<FromLoad, { type: 'ready' }>;
  }

  begin(from: number, to: number): void {
    this.child.send({ cmd: 'start', from, to } satisfies ToLoad);
  }

  async finish<R>(): Promise<{ cpuMs: number; result: R }> {
    const answer = this.next('result');
    this.child.send({ cmd: 'stop' } satisfies ToLoad);
    const m = (await answer) as Extract<FromLoad, { type: 'result' }>;
    return { cpuMs: m.cpuMs, result: m.result as R };
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------
// Load processes (`node bench/rpc.ts --load`): wait for init, get ready, run from start to stop.

interface LoadControl {
  /** Resolves with the window when the coordinator says start. */
  started: Promise<{ from: number; to: number }>;
  /** Resolves when the coordinator says stop. */
  stopped: Promise<void>;
  isStopped(): boolean;
}

async function loadMain(): Promise<void> {
  const send = (m: FromLoad) => process.send!(m);
  /** The last message: the channel closes only once it has been handed over. */
  const sendLast = (m: FromLoad) =>
    new Promise<void>((resolve) => process.send!(m, undefined, {}, () => resolve())).then(() => process.disconnect());
  // The channel closed (the coordinator is gone, or the answer is sent): nothing is left to do.
  process.on('disconnect', () => process.exit());
  let onStart!: (w: { from: number; to: number }) => void;
  let onStop!: () => void;
  let stopped = false;
  const control: LoadControl = {
    started: new Promise((r) => (onStart = r)),
    stopped: new Promise((r) => (onStop = r)),
    isStopped: () => stopped,
  };
  const init = await new Promise<LoadInit>((resolve) => {
    process.on('message', (m: ToLoad) => {
      if (m.cmd === 'init') resolve(m.init);
      else if (m.cmd === 'start') onStart({ from: m.from, to: m.to });
      else {
        stopped = true;
        onStop();
      }
    });
  });
  try {
    const run =
      init.role === 'ingest'
        ? ingestLoad(init.config, control, send)
        : init.role === 'read'
          ? readLoad(init.config, control, send)
          : subscribeLoad(init.config, control, send);
    const { cpuMs, result } = await run;
    await sendLast({ type: 'result', cpuMs, result });
  } catch (e) {
    process.exitCode = 1;
    await sendLast({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
}

const cpuMsSince = (start: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1000;
};

/** Signed transfers in batches of `tx_submit`, one batch at a time (paced when `rate` is set). */
async function ingestLoad(
  config: IngestConfig,
  control: LoadControl,
  send: (m: FromLoad) => void,
): Promise<{ cpuMs: number; result: IngestResult }> {
  const keys = Array.from({ length: config.senderCount }, (_, i) => senderKey(config.senderFrom + i));
  const recipients = Array.from({ length: 64 }, (_, i) =>
    addressFromPublicKey(new SigningKey(createHash('sha256').update(`rpc-bench/recipient/${i}`).digest()).publicKey),
  );
  const fee = BigInt(config.fee);
  // Round-robin over the senders: a batch holds many senders with consecutive nonces each.
  const signStart = performance.now();
  const batches: string[][] = [];
  let calls: string[] = [];
  for (let i = 0; i < config.txs; i++) {
    const tx = buildTx(
      keys[i % keys.length]!,
      transferTx,
      { to: recipients[i % recipients.length]!, amount: 1n },
      { chainId: CHAIN_ID, nonce: Math.floor(i / keys.length), fee },
    );
    calls.push(`{"jsonrpc":"2.0","id":${calls.length},"method":"tx_submit","params":["0x${toHex(tx)}"]}`);
    if (calls.length === BATCH || i === config.txs - 1) {
      batches.push(calls);
      calls = [];
    }
  }
  const signMs = performance.now() - signStart;
  send({ type: 'ready', signMs, signed: config.txs });
  const window = await control.started;
  const cpu = process.cpuUsage();
  const url = new URL(config.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const refused: Record<string, number> = {};
  const latencies: number[] = [];
  let submittedInWindow = 0;
  let exhaustedAt: number | null = null;
  const begin = now();
  let sent = 0;
  for (let b = 0; b < batches.length && !control.isStopped(); b++) {
    if (config.rate > 0) await sleep(begin + (sent / config.rate) * 1000 - now());
    // As a client should: what the node refuses for back-pressure (a full pool or queue) is sent
    // again, in order, after a pause, before anything newer; dropping it would leave nonce gaps
    // that stall every later transfer of its senders.
    let pendingCalls = batches[b]!;
    let ok = 0;
    const t = now();
    while (pendingCalls.length > 0 && !control.isStopped()) {
      const text = await postRetry(agent, url, `[${pendingCalls.join(',')}]`);
      const answers = JSON.parse(text) as { id: number; error?: { data?: { code?: string } } }[];
      if (!Array.isArray(answers)) throw new Error(`tx_submit batch answered ${text.slice(0, 200)}`);
      const retry = new Set<number>();
      for (const a of answers) {
        if (a.error) {
          const code = a.error.data?.code ?? 'no code';
          refused[code] = (refused[code] ?? 0) + 1;
          if (BACK_PRESSURE_CODES.has(code)) retry.add(a.id);
        } else ok++;
      }
      pendingCalls = pendingCalls.filter((_, i) => retry.has(i));
      // Re-number the ids so that they keep naming positions in the resent batch.
      pendingCalls = pendingCalls.map((c, i) =>
        c.replace(/^\{"jsonrpc":"2.0","id":\d+,/, `{"jsonrpc":"2.0","id":${i},`),
      );
      if (pendingCalls.length > 0) await sleep(50);
    }
    const done = now();
    sent += batches[b]!.length;
    if (done >= window.from && done <= window.to) {
      submittedInWindow += ok;
      latencies.push(done - t);
    }
    if (b === batches.length - 1) exhaustedAt = done;
  }
  await control.stopped;
  agent.destroy();
  return {
    cpuMs: cpuMsSince(cpu),
    result: {
      submittedInWindow,
      refused,
      batchLatencies: latencies,
      exhaustedAt,
    },
  };
}

/** `concurrency` request loops over keep-alive connections, one method, until stop. */
async function readLoad(
  config: ReadConfig,
  control: LoadControl,
  send: (m: FromLoad) => void,
): Promise<{ cpuMs: number; result: ReadResult }> {
  send({ type: 'ready' });
  const window = await control.started;
  const body = (): string => {
    const param =
      config.method === 'account_get'
        ? `"${config.addresses[Math.floor(Math.random() * config.addresses.length)]}"`
        : String(1 + Math.floor(Math.random() * config.maxHeight));
    return `{"jsonrpc":"2.0","id":1,"method":"${config.method}","params":[${param}]}`;
  };
  let ok = 0;
  let errors = 0;
  let bytes = 0;
  // autocannon, not node:http: on two cores the generator's own CPU caps the rate it can measure,
  // and autocannon spends well under half of what http.request with an Agent did per request
  // (the node got ~80 % of a core while two such generators took ~90 %). Latencies are taken from
  // its response events, not its histogram, which counts whole milliseconds.
  const latencies: number[] = [];
  const run = (seconds: number, counted: boolean) =>
    new Promise<autocannon.Result>((resolve, reject) => {
      const instance = autocannon(
        {
          url: config.url,
          connections: config.concurrency,
          duration: Math.max(0.1, seconds),
          requests: [
            {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              setupRequest: (request) => ({ ...request, body: body() }),
              onResponse: (status, text) => {
                if (!counted) return;
                // No JSON.parse per answer: the generator's CPU would be the limit. An error answer has no result.
                if (status === 200 && text.includes('"result":')) {
                  ok++;
                  bytes += text.length;
                } else errors++;
              },
            },
          ],
        },
        (err, result) => (err ? reject(err) : resolve(result)),
      );
      if (counted) {
        instance.on('response', (_client, status, _bytes, responseTime) => {
          if (status === 200) latencies.push(responseTime);
        });
      }
    });
  // The warmup's connections and latencies are its own; the measured run starts at the window.
  await run((window.from - now()) / 1000, false);
  const cpu = process.cpuUsage();
  const measured = await run((window.to - now()) / 1000, true);
  return {
    cpuMs: cpuMsSince(cpu),
    result: {
      ok,
      // autocannon's own: connection errors, its timeouts among them. Answers without a result are counted above.
      errors: errors + measured.errors,
      meanResponseBytes: ok > 0 ? bytes / ok : 0,
      latencies,
    },
  };
}

/** The height of the last event in a notification frame (one event, or a batched list of them). */
function lastEventHeight(frame: Buffer): number {
  type Result = { height: number };
  const result = (JSON.parse(frame.toString('utf8')) as { params: { result: Result | Result[] } }).params.result;
  return (Array.isArray(result) ? result[result.length - 1]! : result).height;
}

/** `connections` WebSocket connections, each subscribed to every event; counts what arrives. */

async function subscribeLoad(
  config: SubscribeConfig,
  control: LoadControl,
  send: (m: FromLoad) => void,
): Promise<{ cpuMs: number; result: SubscribeResult }> {
  const wsUrl = config.url.replace(/^http/, 'ws');
  let window = { from: Infinity, to: -Infinity };
  const counts = new Array<number>(config.connections).fill(0);
  const last: (Buffer | undefined)[] = new Array(config.connections).fill(undefined);
  let lagged = 0;
  let closedEarly = 0;
  const sockets: WebSocket[] = [];
  const options = {
    ...(config.fromHeight === undefined ? {} : { fromHeight: config.fromHeight }),
    batch: config.batch,
  };
  // Every event's result carries its cursor once: events are counted by it, without parsing.
  const cursorKey = Buffer.from('"cursor":"');
  const replay: { firstAt?: number; events: number; ms: number; done: boolean } = { events: 0, ms: 0, done: false };
  const eventsIn = (data: Buffer): number => {
    let n = 0;
    for (let at = data.indexOf(cursorKey); at >= 0; at = data.indexOf(cursorKey, at + cursorKey.length)) n++;
    return n;
  };
  await Promise.all(
    Array.from(
      { length: config.connections },
      (_, i) =>
        new Promise<void>((resolve, reject) => {
          const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
          sockets.push(ws);
          let subscribed = false;
          // A notification begins with this prefix (the node's JSON.stringify key order) and then
          // "result" or "error": counted from the bytes, not parsed, so the reader keeps up.
          let prefix: Buffer | undefined;
          ws.once('open', () =>
            ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'chain_subscribe', params: ['events', options] })),
          );
          ws.on('message', (data: Buffer) => {
            if (!subscribed) {
              const answer = JSON.parse(data.toString('utf8')) as { result?: string; error?: { message: string } };
              if (typeof answer.result !== 'string') {
                reject(new Error(`chain_subscribe: ${answer.error?.message ?? 'no subscription id'}`));
                return;
              }
              subscribed = true;
              prefix = Buffer.from(
                `{"jsonrpc":"2.0","method":"chain_subscription","params":{"subscription":${JSON.stringify(answer.result)},"`,
              );
              resolve();
              return;
            }
            if (data.subarray(prefix!.length, prefix!.length + 5).toString() === 'error') {
              lagged++;
              return;
            }
            last[i] = data;
            const t = now();
            if (config.replayToHeight !== undefined && !replay.done) {
              replay.firstAt ??= t;
              replay.events += config.batch ? eventsIn(data) : 1;
              // One replaying reader: parsing its frames costs it little.
              if (lastEventHeight(data) >= config.replayToHeight) {
                replay.done = true;
                replay.ms = t - replay.firstAt;
              }
            }
            if (t >= window.from && t <= window.to) counts[i]! += config.batch ? eventsIn(data) : 1;
          });
          ws.on('error', reject);
          ws.once('close', () => {
            if (!control.isStopped()) closedEarly++;
            if (!subscribed) reject(new Error('websocket closed before it subscribed'));
          });
        }),
    ),
  );
  send({ type: 'ready' });
  window = await control.started;
  const cpu = process.cpuUsage();
  await control.stopped;
  const cpuMs = cpuMsSince(cpu);
  for (const ws of sockets) ws.terminate();
  let reachedHeight = 0;
  for (const data of last) {
    if (!data) continue;
    // The cursor is opaque (src/rpc/cursor.ts); the event's own height says how far the stream got.
    reachedHeight = Math.max(reachedHeight, lastEventHeight(data));
  }
  return {
    cpuMs,
    result: {
      perConnection: counts,
      lagged,
      closedEarly,
      reachedHeight,
      ...(replay.done ? { replay: { events: replay.events, ms: replay.ms } } : {}),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The coordinator

interface Head {
  height: number;
  timeMs: number;
  txCount: number;
  arrivedAt: number;
}

/** Follows `newHeads` over WebSocket: every block, with the moment it arrived here. */
class HeadFollower {
  readonly heads: Head[] = [];
  private readonly ws: WebSocket;
  private error: Error | undefined;

  private constructor(ws: WebSocket) {
    this.ws = ws;
  }

  static async open(url: string): Promise<HeadFollower> {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), { perMessageDeflate: false });
    const follower = new HeadFollower(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () =>
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'chain_subscribe', params: ['newHeads'] })),
      );
      ws.on('message', (data: Buffer) => {
        const m = JSON.parse(data.toString('utf8')) as {
          id?: number;
          result?: unknown;
          error?: { message: string };
          params?: { result?: { height: number; timeMs: number; txCount: number }; error?: { message: string } };
        };
        if (m.id === 1) {
          if (m.error) reject(new Error(`chain_subscribe newHeads: ${m.error.message}`));
          else resolve();
        } else if (m.params?.result) {
          const h = m.params.result;
          follower.heads.push({ height: h.height, timeMs: h.timeMs, txCount: h.txCount, arrivedAt: now() });
        } else if (m.params?.error) {
          follower.error ??= new Error(`newHeads: ${m.params.error.message}`);
        }
      });
      ws.once('error', (e) => {
        follower.error ??= e;
        reject(e);
      });
      ws.once('close', () => {
        follower.error ??= new Error('the newHeads connection closed');
      });
    });
    return follower;
  }

  throwIfFailed(): void {
    if (this.error) throw this.error;
  }

  /** Blocks that arrived inside [from, to]: their transactions and the intervals of their header times. */
  window(from: number, to: number): { blocks: number; txs: number; intervalP50: number; intervalP99: number } {
    const inside = this.heads.filter((h) => h.arrivedAt >= from && h.arrivedAt <= to);
    const intervals: number[] = [];
    for (let i = 1; i < inside.length; i++) intervals.push(inside[i]!.timeMs - inside[i - 1]!.timeMs);
    intervals.sort((a, b) => a - b);
    return {
      blocks: inside.length,
      txs: inside.reduce((n, h) => n + h.txCount, 0),
      intervalP50: percentile(intervals, 50),
      intervalP99: percentile(intervals, 99),
    };
  }

  close(): void {
    this.ws.terminate();
  }
}

/** The node process's CPU time (user + system, ms) and RSS, from /proc. */
function nodeCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
}

function nodeMemory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Hands out disjoint ranges of the funded senders, one per client. */
class SenderPool {
  private next = 0;
  readonly total: number;
  constructor(clients: number) {
    this.total = clients * SENDERS;
  }
  take(): number {
    const from = this.next;
    this.next += SENDERS;
    if (this.next > this.total) throw new Error('more clients than funded sender ranges');
    return from;
  }
}

interface Bench {
  url: string;
  pid: number;
  fee: string;
  heads: HeadFollower;
  senders: SenderPool;
  addresses: string[];
  /** Every load process of the phase running, for cleanup on failure. */
  loads: LoadProcess[];
}

/**
 * Runs one window: the loads start now, the window opens after the warmup and closes SECONDS
 * later; then every load reports. The node's CPU is sampled at both ends of the window.
 */
interface Measured<R> {
  from: number;
  to: number;
  /** The node's CPU time over the window, in % of one core. */
  nodeCpuPct: number;
  /** The node's RSS at the window's end. */
  nodeRss: number;
  results: { cpuMs: number; result: R }[];
}

async function measure<R>(b: Bench, loads: LoadProcess[]): Promise<Measured<R>> {
  const from = now() + WARMUP_SECONDS * 1000;
  const to = from + SECONDS * 1000;
  for (const l of loads) l.begin(from, to);
  const failures = Promise.race(loads.map((l) => l.failure));
  const waitUntil = async (t: number) => {
    while (now() < t) {
      await Promise.race([sleep(Math.min(200, t - now())), failures]);
      b.heads.throwIfFailed();
    }
  };
  await waitUntil(from);
  const cpu0 = nodeCpuMs(b.pid);
  await waitUntil(to);
  const cpu1 = nodeCpuMs(b.pid);
  const nodeRss = nodeMemory(b.pid).rss;
  const results = await Promise.all(loads.map((l) => l.finish<R>()));
  return { from, to, nodeCpuPct: ((cpu1 - cpu0) / (to - from)) * 100, nodeRss, results };
}

function nodeRow(m: Measured<unknown>): BenchRow {
  return {
    name: '  node CPU',
    value: fixed(m.nodeCpuPct, 0),
    unit: '% core',
    note: `RSS ${mib(m.nodeRss)} MiB at the end`,
  };
}

async function startIngest(b: Bench, clients: number, rate = 0, seconds = WARMUP_SECONDS + SECONDS) {
  const txs = Math.max(BATCH, Math.ceil(((rate > 0 ? rate : PRESIGN_RATE / clients) * seconds) / BATCH) * BATCH);
  const started = await Promise.all(
    Array.from({ length: clients }, () =>
      LoadProcess.start({
        role: 'ingest',
        config: { url: b.url, fee: b.fee, senderFrom: b.senders.take(), senderCount: SENDERS, txs, rate },
      }),
    ),
  );
  b.loads.push(...started);
  return started;
}

const cpuPct = (cpuMs: number, from: number, to: number): number => (cpuMs / (to - from)) * 100;

async function readsPhase(b: Bench): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  // The background client runs over every window (and their warmups), with some slack.
  const backgroundSeconds = 2 * READ_CONCURRENCY.length * (WARMUP_SECONDS + SECONDS) + 10;
  const [background] = BACKGROUND_RATE > 0 ? await startIngest(b, 1, BACKGROUND_RATE, backgroundSeconds) : [];
  background?.begin(now(), now() + backgroundSeconds * 1000);
  // Blocks to read: a couple of intervals of background load first.
  await sleep(Math.max(2 * BLOCK_INTERVAL_MS, 1000));
  for (const method of ['account_get', 'chain_getBlock'] as const) {
    for (const connections of READ_CONCURRENCY) {
      // chain_getBlock reads every block so far, uniformly (the tip alone is served from memory).
      const maxHeight = (await rpcCall<{ height: number }>(b.url, 'chain_status')).height;
      const reader = await LoadProcess.start({
        role: 'read',
        config: { url: b.url, method, concurrency: connections, addresses: b.addresses, maxHeight },
      });
      b.loads.push(reader);
      const m = await measure<ReadResult>(b, [reader]);
      const { cpuMs, result } = m.results[0]!;
      const latencies = [...result.latencies].sort((x, y) => x - y);
      const blocks = b.heads.window(m.from, m.to);
      rows.push(
        {
          name: `reads: ${method}, ${connections} connections`,
          value: perSecond(result.ok, m.to - m.from),
          unit: 'req/s',
          note: `HTTP keep-alive from autocannon, ${SECONDS} s; ${result.errors} errors; mean answer ${Math.round(result.meanResponseBytes)} B${method === 'chain_getBlock' ? `, heights 1-${maxHeight}` : `, ${b.addresses.length} accounts`}; ${blocks.txs} background transfers committed meanwhile`,
        },
        {
          name: '  latency p50 / p99',
          value: `${fixed(percentile(latencies, 50), 2)} / ${fixed(percentile(latencies, 99), 2)}`,
          unit: 'ms',
          note: 'send to answer, in the load process',
        },
        nodeRow(m),
        { name: '  load generator CPU', value: fixed(cpuPct(cpuMs, m.from, m.to), 0), unit: '% core' },
      );
      b.loads.splice(b.loads.indexOf(reader), 1);
    }
  }
  await background?.finish();
  b.loads.length = 0;
  return rows;
}

function ingestRows(label: string, b: Bench, m: Measured<IngestResult>, clients: LoadProcess[]): BenchRow[] {
  const blocks = b.heads.window(m.from, m.to);
  const submitted = m.results.reduce((n, r) => n + r.result.submittedInWindow, 0);
  const refused: Record<string, number> = {};
  for (const r of m.results)
    for (const [code, n] of Object.entries(r.result.refused)) refused[code] = (refused[code] ?? 0) + n;
  const refusedText = Object.entries(refused)
    .map(([code, n]) => `${n} ${code}`)
    .join(', ');
  const exhausted = m.results.filter((r) => r.result.exhaustedAt !== null && r.result.exhaustedAt < m.to).length;
  const signMs = clients.reduce((n, c) => n + (c.ready.signMs ?? 0), 0);
  const signed = clients.reduce((n, c) => n + (c.ready.signed ?? 0), 0);
  const loadCpu = m.results.reduce((n, r) => n + r.cpuMs, 0);
  const batches = m.results.flatMap((r) => r.result.batchLatencies).sort((x, y) => x - y);
  return [
    {
      name: `${label}: committed transfers/s`,
      value: perSecond(blocks.txs, m.to - m.from),
      unit: 'tx/s',
      note: `${clients.length} client(s), batches of ${BATCH} tx_submit one at a time; ${blocks.txs} in ${blocks.blocks} blocks arriving in ${SECONDS} s${exhausted > 0 ? `; ${exhausted} client(s) ran out of pre-signed transfers: raise BENCH_RPC_PRESIGN_RATE` : ''}`,
    },
    {
      name: '  admitted by tx_submit',
      value: perSecond(submitted, m.to - m.from),
      unit: 'tx/s',
      note: refusedText ? `refused over the whole run, and sent again: ${refusedText}` : 'none refused',
    },
    {
      name: '  batch round trip p50 / p99',
      value: `${fixed(percentile(batches, 50), 0)} / ${fixed(percentile(batches, 99), 0)}`,
      unit: 'ms',
      note: 'every client',
    },
    {
      name: '  block interval p50 / p99',
      value: `${fixed(blocks.intervalP50, 0)} / ${fixed(blocks.intervalP99, 0)}`,
      unit: 'ms',
      note: `header times; configured ${BLOCK_INTERVAL_MS} ms`,
    },
    nodeRow(m),
    { name: '  client CPU', value: fixed(cpuPct(loadCpu, m.from, m.to), 0), unit: '% core', note: 'all clients' },
    {
      name: '  client signing (before the window)',
      value: perSecond(signed, signMs),
      unit: 'tx/s',
      note: `per client process, ${signed} transfers`,
    },
  ];
}

async function ingestPhase(b: Bench): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const clients of INGEST_CLIENTS) {
    const started = await startIngest(b, clients);
    const m = await measure<IngestResult>(b, started);
    rows.push(...ingestRows(`ingest, ${clients} client${clients > 1 ? 's' : ''}`, b, m, started));
    b.loads.length = 0;
  }
  return rows;
}

async function subscribers(
  b: Bench,
  total: number,
  fromHeight?: number,
  replayToHeight?: number,
): Promise<LoadProcess[]> {
  const processes = Math.ceil(total / SUBSCRIBERS_PER_PROCESS);
  const started = await Promise.all(
    Array.from({ length: processes }, (_, i) =>
      LoadProcess.start({
        role: 'subscribe',
        config: {
          url: b.url,
          connections: Math.min(SUBSCRIBERS_PER_PROCESS, total - i * SUBSCRIBERS_PER_PROCESS),
          ...(fromHeight === undefined ? {} : { fromHeight }),
          ...(replayToHeight === undefined ? {} : { replayToHeight }),
          batch: BATCHED_EVENTS,
        },
      }),
    ),
  );
  b.loads.push(...started);
  return started;
}

async function eventsPhase(b: Bench): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const count of [1, SUBSCRIBERS]) {
    const subs = await subscribers(b, count);
    const flow = await startIngest(b, 1);
    const m = await measure<IngestResult | SubscribeResult>(b, [...subs, ...flow]);
    const subResults = m.results.slice(0, subs.length).map((r) => r.result as SubscribeResult);
    const perConnection = subResults.flatMap((r) => r.perConnection).sort((x, y) => x - y);
    const total = perConnection.reduce((n, c) => n + c, 0);
    const lagged = subResults.reduce((n, r) => n + r.lagged, 0);
    const closedEarly = subResults.reduce((n, r) => n + r.closedEarly, 0);
    const subCpu = m.results.slice(0, subs.length).reduce((n, r) => n + r.cpuMs, 0);
    const blocks = b.heads.window(m.from, m.to);
    const ms = m.to - m.from;
    const label = `events, ${count} subscriber${count > 1 ? 's' : ''}`;
    rows.push(
      {
        name: `${label}: events/s per subscriber`,
        value: perSecond(perConnection[Math.floor(perConnection.length / 2)] ?? 0, ms),
        unit: 'ev/s',
        note: `median connection${count > 1 ? `; min ${perSecond(perConnection[0] ?? 0, ms)}, max ${perSecond(perConnection.at(-1) ?? 0, ms)}` : ''}; all event types, live while one ingest client sends`,
      },
      {
        name: '  events/s delivered in total',
        value: perSecond(total, ms),
        unit: 'ev/s',
        note: `${lagged} told lagging, ${closedEarly} closed before the end`,
      },
      {
        name: '  committed transfers/s meanwhile',
        value: perSecond(blocks.txs, ms),
        unit: 'tx/s',
        note: 'one transfer event each, plus one fees event per block',
      },
      {
        name: '  block interval p50 / p99',
        value: `${fixed(blocks.intervalP50, 0)} / ${fixed(blocks.intervalP99, 0)}`,
        unit: 'ms',
        note: 'compare with "ingest, 1 client" (the same flow, no subscribers)',
      },
      nodeRow(m),
      {
        name: '  subscriber CPU',
        value: fixed(cpuPct(subCpu, m.from, m.to), 0),
        unit: '% core',
        note: 'all subscriber processes',
      },
    );
    b.loads.length = 0;
  }
  // Replay: the history of the earlier phases, as fast as the node sends it to one reader.
  const backgroundSeconds = WARMUP_SECONDS + SECONDS + 10;
  const background = BACKGROUND_RATE > 0 ? await startIngest(b, 1, BACKGROUND_RATE, backgroundSeconds) : [];
  const historyTip = b.heads.heads.at(-1)?.height ?? 1;
  const [replay] = await subscribers(b, 1, 1, historyTip);
  const m = await measure<IngestResult | SubscribeResult>(b, [replay!, ...background]);
  const r = m.results[0]!.result as SubscribeResult;
  const tip = b.heads.heads.at(-1)?.height ?? 0;
  rows.push(
    {
      name: 'events, 1 subscriber replaying from height 1',
      value: perSecond(r.perConnection[0] ?? 0, m.to - m.from),
      unit: 'ev/s',
      note: `last height delivered ${r.reachedHeight}, tip ${tip}${r.reachedHeight >= tip ? ' (caught up inside the window: the figure is capped by the history)' : ''}; background load ${BACKGROUND_RATE} tx/s`,
    },
    {
      name: '  replay until the history ran out',
      value: r.replay ? perSecond(r.replay.events, r.replay.ms) : 'n/a',
      unit: 'ev/s',
      note: r.replay
        ? `${r.replay.events} events of heights 1-${historyTip} in ${Math.round(r.replay.ms)} ms, first notification to the last height of the history when it subscribed`
        : `did not reach height ${historyTip}`,
    },
    nodeRow(m),
    {
      name: '  subscriber CPU',
      value: fixed(cpuPct(m.results[0]!.cpuMs, m.from, m.to), 0),
      unit: '% core',
    },
  );
  b.loads.length = 0;
  return rows;
}

export async function benchRpc(): Promise<BenchRow[]> {
  const clients =
    (PHASES.has('reads') ? 1 : 0) +
    (PHASES.has('ingest') ? INGEST_CLIENTS.reduce((sum, n) => sum + n, 0) : 0) +
    (PHASES.has('events') ? 3 : 0);
  const senders = new SenderPool(Math.max(1, clients));
  const addresses = Array.from({ length: senders.total }, (_, i) =>
    formatAddress(addressFromPublicKey(senderKey(i).publicKey)),
  );
  const root = tempHome('tributary-bench-rpc-');
  const [spec] = await prepareDevnet(root, {
    validators: 1,
    fullNodes: 0,
    blockIntervalMs: BLOCK_INTERVAL_MS,
    chainId: CHAIN_ID,
    accounts: addresses.map((address) => ({ address, balance: (10n ** 24n).toString() })),
    params: { maxBlockTxs: 20_000 },
  });
  // One validator without networking: the solo engine. 100 subscribers and the readers all come
  // from 127.0.0.1, past the default per-client connection cap.
  const paths = homePaths(spec!.home);
  const config = JSON.parse(readFileSync(paths.config, 'utf8')) as NodeConfig;
  config.p2p = { ...config.p2p, enabled: false, bootstrap: [] };
  config.rpc = { ...config.rpc, maxConnectionsPerClient: config.rpc.maxConnections };
  writeFileSync(paths.config, JSON.stringify(config, null, 2) + '\n');
  const genesis = JSON.parse(readFileSync(paths.genesis, 'utf8')) as { params: { minFee: string } };

  const onExit = () => killAll('SIGKILL');
  const onSignal = (signal: NodeJS.Signals) => {
    killAll('SIGKILL');
    rmSync(root, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', onExit);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let heads: HeadFollower | undefined;
  try {
    const log = openSync(join(root, 'node.log'), 'w');
    const node = spawn(
      CLI,
      [
        '--home',
        spec!.home,
        'start',
        '--keyring-backend',
        'test',
        '--log-level',
        process.env.BENCH_RPC_LOG_LEVEL ?? 'warn',
      ],
      {
        stdio: ['ignore', log, log],
        // BENCH_RPC_NODE_OPTIONS reaches the node alone (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p"),
        // not the load processes.
        env: process.env.BENCH_RPC_NODE_OPTIONS
          ? { ...process.env, NODE_OPTIONS: process.env.BENCH_RPC_NODE_OPTIONS }
          : process.env,
      },
    );
    children.add(node);
    const url = `http://127.0.0.1:${spec!.rpcPort}`;
    for (let i = 0; ; i++) {
      try {
        await rpcCall(url, 'chain_status');
        break;
      } catch {
        if (node.exitCode !== null || i > 300)
          throw new Error(`the node did not start (log: ${join(root, 'node.log')})`);
        await sleep(100);
      }
    }
    heads = await HeadFollower.open(url);
    const b: Bench = { url, pid: node.pid!, fee: genesis.params.minFee, heads, senders, addresses, loads: [] };
    const rows: BenchRow[] = [];
    try {
      if (PHASES.has('reads')) rows.push(...(await readsPhase(b)));
      if (PHASES.has('ingest')) rows.push(...(await ingestPhase(b)));
      if (PHASES.has('events')) rows.push(...(await eventsPhase(b)));
    } finally {
      for (const l of b.loads) l.kill();
    }
    const memory = nodeMemory(node.pid!);
    rows.push(
      { name: 'node RSS at the end', value: mib(memory.rss), unit: 'MiB' },
      {
        name: 'node peak RSS',
        value: mib(memory.peak),
        unit: 'MiB',
        note: `${cpus().length} cores for the node and every load process`,
      },
    );
    return rows;
  } finally {
    heads?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (process.env.BENCH_RPC_NODE_OPTIONS) {
      // A profiled node writes its profile on a clean exit only.
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
      await sleep(12_000);
    }
    killAll('SIGKILL');
    if (process.env.BENCH_RPC_KEEP) console.log(`kept ${root}`);
    else rmSync(root, { recursive: true, force: true });
    process.off('exit', onExit);
  }
}

if (import.meta.main) {
  if (process.argv[2] === '--load') await loadMain();
  else {
    printTable(
      `JSON-RPC (bench/rpc.ts; ${SECONDS} s windows after ${WARMUP_SECONDS} s warmup, block interval ${BLOCK_INTERVAL_MS} ms)`,
      await benchRpc(),
    );
  }
}
