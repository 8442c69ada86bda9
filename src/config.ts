import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { TributaryError } from './errors.ts';
import { DEFAULT_MEMPOOL_LIMITS, type MempoolLimits } from './consensus/mempool.ts';

export type ConfigErrorCode = 'config/invalid';

/** JSON-RPC transport: listen address, per-request bounds, connection caps and browser policy. */
export interface RpcConfig {
  host: string;
  port: number;
  /** Request body, bytes (413 past it). */
  maxBodyBytes: number;
  /** Calls in one batch. */
  maxBatch: number;
  /** One call's serialised result, bytes. */
  maxResponseBytes: number;
  /** The results of one batch together, bytes; calls past it are answered without being run. */
  maxBatchResponseBytes: number;
  /** Open connections in total; lowered at startup so that descriptors stay for storage. */
  maxConnections: number;
  /** Open connections from one client address. */
  maxConnectionsPerClient: number;
  /** From the connection (or the previous response) to the end of the request headers. */
  headersTimeoutMs: number;
  /** For the whole request, headers and body. */
  requestTimeoutMs: number;
  /** A connection with no traffic either way is closed after this. */
  idleTimeoutMs: number;
  /** Host header names served (port ignored); the listen address is always served; "*" serves any. */
  allowedHosts: string[];
  /** Browser origins given CORS access ("*" for any); empty: requests carrying an Origin are refused. */
  corsOrigins: string[];
  /** WebSocket (src/rpc/ws.ts): subscriptions one connection may hold. */
  maxSubscriptionsPerConnection: number;
  /** Notifications sent to one connection and not yet written to its socket; past it the client is lagging. */
  maxQueuedNotifications: number;
  /** Bytes waiting to be written to one connection (ws `bufferedAmount`); past it the client is lagging. */
  maxBufferedBytes: number;
  /** The server pings every connection this often and terminates one that did not answer the previous ping. */
  pingIntervalMs: number;
}

/** Node configuration (not consensus-critical: each operator may choose differently). */
export interface NodeConfig {
  rpc: RpcConfig;
  log: { level: string; format: 'json' | 'pretty' };
  mempool: MempoolLimits;
  /** State versions to keep; 0 keeps every version (archive node). */
  state: { keepVersions: number };
  /** Name of the key in `<home>/keys` that signs blocks. */
  validatorKey: string;
  /** Overrides genesis blockIntervalMs for this node (devnet convenience); 0 = use genesis. */
  blockIntervalMs: number;
  p2p: P2pConfig;
  /**
   * Prometheus `GET /metrics` on its own address (src/metrics.ts). Off unless asked
   * (`start --metrics HOST:PORT`, env TRIBUTARY_METRICS_LISTEN, or `enabled` here); `start --devnet`
   * turns it on at the default address when that is free.
   */
  metrics: { enabled: boolean; host: string; port: number };
}

/**
 * The libp2p host and the engine choice (src/p2p/README.md). A node runs the BFT engine over
 * libp2p when the validator set has more than one validator, when its validator key is not the
 * only validator (a full node), or when `enabled` is set; otherwise the single-validator engine
 * without networking (the `npm start` devnet).
 */
export interface P2pConfig {
  /** Run BFT over libp2p even with a one-validator set. */
  enabled: boolean;
  /** Multiaddrs to listen on; port 0 picks a free one. Env TRIBUTARY_P2P_LISTEN (comma-separated). */
  listen: string[];
  /** Addresses to advertise instead (behind NAT). */
  announce: string[];
  /** Peers to keep connected to, each ending in /p2p/<peerId>. Env TRIBUTARY_P2P_BOOTSTRAP (comma-separated). */
  bootstrap: string[];
  /** Multiaddrs (with /ipcidr/N) exempt from inbound connection limits: "/ip4/127.0.0.1/ipcidr/8" for a loopback devnet. */
  allow: string[];
  maxConnections: number;
  maxGossipBytes: number;
}

export const DEFAULT_CONFIG: NodeConfig = {
  rpc: {
    host: '127.0.0.1',
    port: 8545,
    maxBodyBytes: 1024 * 1024,
    maxBatch: 100,
    maxResponseBytes: 32 * 1024 * 1024,
    maxBatchResponseBytes: 16 * 1024 * 1024,
    maxConnections: 512,
    maxConnectionsPerClient: 64,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    idleTimeoutMs: 60_000,
    allowedHosts: ['localhost', '127.0.0.1', '[::1]'],
    corsOrigins: [],
    maxSubscriptionsPerConnection: 64,
    maxQueuedNotifications: 10_000,
    maxBufferedBytes: 8 * 1024 * 1024,
    pingIntervalMs: 30_000,
  },
  log: { level: 'info', format: 'json' },
  mempool: DEFAULT_MEMPOOL_LIMITS,
  state: { keepVersions: 0 },
  validatorKey: 'validator',
  blockIntervalMs: 0,
  p2p: {
    enabled: false,
    listen: ['/ip4/0.0.0.0/tcp/26656'],
    announce: [],
    bootstrap: [],
    allow: [],
    maxConnections: 64,
    maxGossipBytes: 1024 * 1024,
  },
  metrics: { enabled: false, host: '127.0.0.1', port: 9464 },
};

export function defaultHome(): string {
  return resolve(process.env.TRIBUTARY_HOME ?? join(homedir(), '.tributary'));
}

export interface HomePaths {
  home: string;
  config: string;
  genesis: string;
  keys: string;
  data: string;
}

export function homePaths(home: string): HomePaths {
  const h = resolve(home);
  return {
    home: h,
    config: join(h, 'config.json'),
    genesis: join(h, 'genesis.json'),
    keys: join(h, 'keys'),
    data: join(h, 'data'),
  };
}

/** "HOST:PORT" or ":PORT" or "PORT". */
export function parseHostPort(text: string, fallbackHost = '127.0.0.1'): { host: string; port: number } {
  const m = /^(?:(.*):)?(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new TributaryError('config/invalid', `expected HOST:PORT, got "${text}"`);
  return { host: m[1] || fallbackHost, port };
}

// Lists (rpc.allowedHosts, rpc.corsOrigins) are replaced whole, never merged item by item.
type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K];
};

/**
 * Precedence: flags > environment > config file > defaults. The caller applies flags on the
 * result; this function merges the file and the environment (TRIBUTARY_RPC, TRIBUTARY_LOG_LEVEL,
 * TRIBUTARY_LOG_FORMAT, TRIBUTARY_P2P_LISTEN, TRIBUTARY_P2P_BOOTSTRAP, TRIBUTARY_METRICS_LISTEN).
 */
function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function loadConfig(home: string): NodeConfig {
  const path = homePaths(home).config;
  let file: DeepPartial<NodeConfig> = {};
  if (existsSync(path)) {
    try {
      file = JSON.parse(readFileSync(path, 'utf8')) as DeepPartial<NodeConfig>;
    } catch (e) {
      throw new TributaryError('config/invalid', `cannot read ${path}: ${(e as Error).message}`);
    }
  }
  const config: NodeConfig = {
    rpc: { ...DEFAULT_CONFIG.rpc, ...file.rpc },
    log: { ...DEFAULT_CONFIG.log, ...file.log },
    mempool: { ...DEFAULT_CONFIG.mempool, ...file.mempool },
    state: { ...DEFAULT_CONFIG.state, ...file.state },
    validatorKey: file.validatorKey ?? DEFAULT_CONFIG.validatorKey,
    blockIntervalMs: file.blockIntervalMs ?? DEFAULT_CONFIG.blockIntervalMs,
    p2p: { ...DEFAULT_CONFIG.p2p, ...(file.p2p as Partial<P2pConfig> | undefined) },
    metrics: { ...DEFAULT_CONFIG.metrics, ...file.metrics },
  };
  for (const key of ['listen', 'announce', 'bootstrap', 'allow'] as const) {
    const list = config.p2p[key] as unknown;
    if (!Array.isArray(list) || !list.every((a) => typeof a === 'string')) {
      throw new TributaryError('config/invalid', `p2p.${key} must be a list of multiaddr strings`);
    }
  }
  if (process.env.TRIBUTARY_P2P_LISTEN) config.p2p.listen = splitList(process.env.TRIBUTARY_P2P_LISTEN);
  if (process.env.TRIBUTARY_P2P_BOOTSTRAP) config.p2p.bootstrap = splitList(process.env.TRIBUTARY_P2P_BOOTSTRAP);
  if (process.env.TRIBUTARY_RPC) Object.assign(config.rpc, parseHostPort(process.env.TRIBUTARY_RPC));
  if (process.env.TRIBUTARY_METRICS_LISTEN) {
    Object.assign(config.metrics, parseHostPort(process.env.TRIBUTARY_METRICS_LISTEN), { enabled: true });
  }
  if (process.env.TRIBUTARY_LOG_LEVEL) config.log.level = process.env.TRIBUTARY_LOG_LEVEL;
  if (process.env.TRIBUTARY_LOG_FORMAT === 'pretty' || process.env.TRIBUTARY_LOG_FORMAT === 'json') {
    config.log.format = process.env.TRIBUTARY_LOG_FORMAT;
  }
  return config;
}
