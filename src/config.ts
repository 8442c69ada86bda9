import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { TributaryError } from './errors.ts';
import { DEFAULT_MEMPOOL_LIMITS, type MempoolLimits } from './consensus/mempool-limits.ts';

export type ConfigErrorCode = 'config/invalid' | 'config/unknown_key' | 'config/invalid_value' | 'config/retired_name';

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

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogConfig {
  level: LogLevel;
  format: 'json' | 'pretty';
  levels: Record<string, LogLevel>;
}

/** Node configuration (not consensus-critical: each operator may choose differently). */
export interface NodeConfig {
  rpc: RpcConfig;
  /** `level` for every component; `levels` per component (the `module` field of its log lines), e.g. {"consensus": "debug"}. */
  log: LogConfig;
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
  /**
   * When `GET /readyz` says this node should get traffic: a BFT node at most `maxBlocksBehind`
   * behind the highest peer it has heard of and connected to at least `minPeers` peers (a node whose
   * key is the whole validator set needs none).
   */
  health: { minPeers: number; maxBlocksBehind: number };
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
  log: { level: 'info', format: 'json', levels: {} },
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
  health: { minPeers: 1, maxBlocksBehind: 2 },
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
  /** Where a running node records the address it serves JSON-RPC on (src/rpc-address.ts). */
  rpcAddress: string;
}

export function homePaths(home: string): HomePaths {
  const h = resolve(home);
  return {
    home: h,
    config: join(h, 'config.json'),
    genesis: join(h, 'genesis.json'),
    keys: join(h, 'keys'),
    data: join(h, 'data'),
    rpcAddress: join(h, 'rpc-address.json'),
  };
}

/** "HOST:PORT" or ":PORT" or "PORT". */
export function parseHostPort(
  text: string,
  fallbackHost = '127.0.0.1',
  origin?: string,
): { host: string; port: number } {
  const m = /^(?:(.*):)?(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw new TributaryError('config/invalid', `${origin ? `${origin}: ` : ''}expected HOST:PORT, got "${text}"`);
  }
  return { host: m[1] || fallbackHost, port };
}

/* ---------------------------------------------------------------------------------------------
 * Resolution: defaults, then the config file, then the environment, then flags. Every layer is
 * checked against the shape of DEFAULT_CONFIG (a key it lacks is `config/unknown_key`, a value of
 * another type `config/invalid_value`, both naming the key and where it came from), and every
 * leaf remembers the layer that set it, for `tributary config show`.
 * ------------------------------------------------------------------------------------------- */

export type ConfigSource = 'default' | 'file' | 'env' | 'flag';

export interface ResolvedConfig {
  config: NodeConfig;
  /** Dotted leaf path (`rpc.port`, `log.levels.consensus`) → the layer its value came from. */
  sources: Record<string, ConfigSource>;
  /** The config file read, when there is one. */
  file?: string;
  /** TRIBUTARY_* variables that mean nothing here (a typo?): the node logs them, `config show` lists them. */
  ignoredEnv: string[];
}

/** A layer as nested plain values; lists replace the default whole, never merged item by item. */
export type ConfigLayer = Record<string, unknown>;

type Leaf =
  | { kind: 'string' }
  | { kind: 'integer'; max?: number }
  | { kind: 'boolean' }
  | { kind: 'list' }
  | { kind: 'enum'; values: readonly string[] };

/** Leaves whose type is narrower than their default's JavaScript type. */
const NARROW: Record<string, Leaf> = {
  'rpc.port': { kind: 'integer', max: 65535 },
  'metrics.port': { kind: 'integer', max: 65535 },
  'log.level': { kind: 'enum', values: LOG_LEVELS },
  'log.format': { kind: 'enum', values: ['json', 'pretty'] },
};
/** Objects whose keys are the operator's (component names), each value one leaf type. */
const OPEN_MAPS: Record<string, Leaf> = { 'log.levels': { kind: 'enum', values: LOG_LEVELS } };

function leafOf(path: string, defaultValue: unknown): Leaf {
  const narrow = NARROW[path];
  if (narrow) return narrow;
  if (Array.isArray(defaultValue)) return { kind: 'list' };
  if (typeof defaultValue === 'number') return { kind: 'integer' };
  if (typeof defaultValue === 'boolean') return { kind: 'boolean' };
  return { kind: 'string' };
}

function describe(leaf: Leaf): string {
  switch (leaf.kind) {
    case 'integer':
      return leaf.max === undefined ? 'a non-negative integer' : `an integer from 0 to ${leaf.max}`;
    case 'list':
      return 'a list of strings';
    case 'enum':
      return `one of ${leaf.values.join(', ')}`;
    default:
      return `a ${leaf.kind}`;
  }
}

function fits(leaf: Leaf, value: unknown): boolean {
  switch (leaf.kind) {
    case 'string':
      return typeof value === 'string' && value.length > 0;
    case 'integer':
      return (
        Number.isSafeInteger(value) &&
        (value as number) >= 0 &&
        (leaf.max === undefined || (value as number) <= leaf.max)
      );
    case 'boolean':
      return typeof value === 'boolean';
    case 'list':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'enum':
      return typeof value === 'string' && leaf.values.includes(value);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every leaf path of the defaults with its type, in declaration order (open maps as one entry). */
export function configLeaves(): Array<{ path: string; leaf: Leaf }> {
  const out: Array<{ path: string; leaf: Leaf }> = [];
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(node)) {
      const path = prefix + k;
      if (OPEN_MAPS[path]) continue;
      if (isPlainObject(v)) walk(v, `${path}.`);
      else out.push({ path, leaf: leafOf(path, v) });
    }
  };
  walk(DEFAULT_CONFIG as unknown as Record<string, unknown>, '');
  return out;
}

/**
 * Merges `layer` into `target` (shaped like DEFAULT_CONFIG), checking each key and value;
 * `nameOf(path)` says in errors where the value came from (a file key, an env variable, a flag).
 */
function applyLayer(
  target: Record<string, unknown>,
  layer: ConfigLayer,
  source: ConfigSource,
  sources: Record<string, ConfigSource>,
  nameOf: (path: string) => string,
  prefix = '',
): void {
  for (const [key, value] of Object.entries(layer)) {
    const path = prefix + key;
    if (!(key in target)) {
      throw new TributaryError('config/unknown_key', `${nameOf(path)}: unknown key "${path}"`, { key: path });
    }
    const current = target[key];
    const mapLeaf = OPEN_MAPS[path];
    if (mapLeaf) {
      if (!isPlainObject(value)) {
        throw new TributaryError('config/invalid_value', `${nameOf(path)}: "${path}" must be an object`, {
          key: path,
        });
      }
      const map = { ...(current as Record<string, unknown>) };
      for (const [name, v] of Object.entries(value)) {
        if (!fits(mapLeaf, v)) {
          throw new TributaryError(
            'config/invalid_value',
            `${nameOf(`${path}.${name}`)}: "${path}.${name}" must be ${describe(mapLeaf)}, got ${JSON.stringify(v)}`,
            { key: `${path}.${name}` },
          );
        }
        map[name] = v;
        sources[`${path}.${name}`] = source;
      }
      target[key] = map;
    } else if (isPlainObject(current)) {
      if (!isPlainObject(value)) {
        throw new TributaryError('config/invalid_value', `${nameOf(path)}: "${path}" must be an object`, {
          key: path,
        });
      }
      const copy = { ...current };
      applyLayer(copy, value, source, sources, nameOf, `${path}.`);
      target[key] = copy;
    } else {
      const leaf = leafOf(path, current);
      if (!fits(leaf, value)) {
        throw new TributaryError(
          'config/invalid_value',
          `${nameOf(path)}: "${path}" must be ${describe(leaf)}, got ${JSON.stringify(value)}`,
          { key: path },
        );
      }
      target[key] = Array.isArray(value) ? [...value] : value;
      sources[path] = source;
    }
  }
}

/** `rpc.maxBodyBytes` → `TRIBUTARY_RPC_MAX_BODY_BYTES`. */
export function envName(path: string): string {
  return `TRIBUTARY_${path
    .split('.')
    .map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
    .join('_')}`;
}

/**
 * Variables that are not one config leaf: listen addresses (host and port together) and the
 * per-component log levels. Client commands read TRIBUTARY_CLIENT_RPC (src/cli/common.ts).
 */
export const ENV_RPC_LISTEN = 'TRIBUTARY_RPC_LISTEN';
export const ENV_METRICS_LISTEN = 'TRIBUTARY_METRICS_LISTEN';
export const ENV_LOG_LEVELS = 'TRIBUTARY_LOG_LEVELS';
export const ENV_CLIENT_RPC = 'TRIBUTARY_CLIENT_RPC';
/** Once both the client's endpoint and the node's listen address: refused, so that neither is guessed. */
export const RETIRED_ENV_RPC = 'TRIBUTARY_RPC';
/** Read elsewhere: the home folder, the key password, the client's endpoint. */
const OTHER_ENV = new Set(['TRIBUTARY_HOME', 'TRIBUTARY_PASSWORD', ENV_CLIENT_RPC]);

function ignoredEnvOf(env: NodeJS.ProcessEnv): string[] {
  const known = new Set([
    ...configLeaves().map(({ path }) => envName(path)),
    ENV_RPC_LISTEN,
    ENV_METRICS_LISTEN,
    ENV_LOG_LEVELS,
    ...OTHER_ENV,
  ]);
  return Object.keys(env)
    .filter((name) => name.startsWith('TRIBUTARY_') && !known.has(name))
    .sort();
}

export function refuseRetiredEnv(env: NodeJS.ProcessEnv): void {
  if (env[RETIRED_ENV_RPC] !== undefined) {
    throw new TributaryError(
      'config/retired_name',
      `${RETIRED_ENV_RPC} is no longer read (it meant two things): set ${ENV_RPC_LISTEN} for the address a node ` +
        `serves JSON-RPC on, ${ENV_CLIENT_RPC} (or --rpc) for the node client commands call`,
      { name: RETIRED_ENV_RPC },
    );
  }
}

function setPath(layer: ConfigLayer, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = layer;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as ConfigLayer;
  }
  node[parts.at(-1)!] = value;
}

function parseEnvValue(leaf: Leaf, text: string): unknown {
  switch (leaf.kind) {
    case 'integer':
      return /^\d+$/.test(text.trim()) ? Number(text.trim()) : text;
    case 'boolean':
      return text === 'true' || text === '1' ? true : text === 'false' || text === '0' ? false : text;
    case 'list':
      return splitList(text);
    default:
      return text;
  }
}

/** The environment as a layer, plus which variable set each path (for error messages). */
export function envLayer(env: NodeJS.ProcessEnv): { layer: ConfigLayer; names: Map<string, string> } {
  refuseRetiredEnv(env);
  const layer: ConfigLayer = {};
  const names = new Map<string, string>();
  const set = (path: string, value: unknown, name: string) => {
    setPath(layer, path, value);
    names.set(path, name);
  };
  for (const { path, leaf } of configLeaves()) {
    const name = envName(path);
    const text = env[name];
    if (text !== undefined && text !== '') set(path, parseEnvValue(leaf, text), name);
  }
  const listen = env[ENV_RPC_LISTEN];
  if (listen) {
    const { host, port } = parseHostPort(listen, '127.0.0.1', ENV_RPC_LISTEN);
    set('rpc.host', host, ENV_RPC_LISTEN);
    set('rpc.port', port, ENV_RPC_LISTEN);
  }
  const metrics = env[ENV_METRICS_LISTEN];
  if (metrics) {
    const { host, port } = parseHostPort(metrics, '127.0.0.1', ENV_METRICS_LISTEN);
    set('metrics.host', host, ENV_METRICS_LISTEN);
    set('metrics.port', port, ENV_METRICS_LISTEN);
    set('metrics.enabled', true, ENV_METRICS_LISTEN);
  }
  const levels = env[ENV_LOG_LEVELS];
  if (levels) {
    for (const [name, level] of parseLogLevels(levels, ENV_LOG_LEVELS))
      set(`log.levels.${name}`, level, ENV_LOG_LEVELS);
  }
  return { layer, names };
}

/** "consensus=debug,p2p=warn" → [["consensus","debug"],["p2p","warn"]]; levels are checked by the layer. */
export function parseLogLevels(text: string, origin: string): Array<[string, string]> {
  return splitList(text).map((item) => {
    const m = /^([A-Za-z0-9_-]+)=(\w+)$/.exec(item);
    if (!m) {
      throw new TributaryError('config/invalid_value', `${origin}: expected COMPONENT=LEVEL, got "${item}"`, {
        key: 'log.levels',
      });
    }
    return [m[1]!, m[2]!];
  });
}

function readConfigFile(path: string): ConfigLayer | undefined {
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new TributaryError('config/invalid', `cannot read ${path}: ${(e as Error).message}`, { path });
  }
  if (!isPlainObject(parsed)) throw new TributaryError('config/invalid', `${path} must hold a JSON object`, { path });
  return parsed;
}

function defaultSources(): Record<string, ConfigSource> {
  return Object.fromEntries(configLeaves().map(({ path }) => [path, 'default' as const]));
}

/**
 * The effective node config of `home`: defaults < `<home>/config.json` < environment < `flags`
 * (a layer built by the `start` command from its options).
 */
export function resolveConfig(
  home: string,
  opts: { env?: NodeJS.ProcessEnv; flags?: ConfigLayer; flagNames?: Map<string, string> } = {},
): ResolvedConfig {
  const env = opts.env ?? process.env;
  const config = structuredClone(DEFAULT_CONFIG) as unknown as Record<string, unknown>;
  const sources = defaultSources();
  const path = homePaths(home).config;
  const file = readConfigFile(path);
  if (file) applyLayer(config, file, 'file', sources, () => path);
  const fromEnv = envLayer(env);
  applyLayer(config, fromEnv.layer, 'env', sources, (p) => fromEnv.names.get(p) ?? envName(p));
  if (opts.flags) applyLayer(config, opts.flags, 'flag', sources, (p) => opts.flagNames?.get(p) ?? `flag for ${p}`);
  return {
    config: config as unknown as NodeConfig,
    sources,
    ...(file ? { file: path } : {}),
    ignoredEnv: ignoredEnvOf(env),
  };
}

export function loadConfig(home: string, env: NodeJS.ProcessEnv = process.env): NodeConfig {
  return resolveConfig(home, { env }).config;
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
