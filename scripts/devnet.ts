import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { DEFAULT_CONFIG, homePaths, type NodeConfig } from '../src/config.ts';
import { parseGenesis, type GenesisJson } from '../src/genesis.ts';
import { GENESIS_TEMPLATE } from '../src/home.ts';
import { createKey, TEST_KEYRING } from '../src/keys.ts';
import { loadOrCreateP2pKey, P2P_KEY_FILE } from '../src/p2p/keys.ts';

/*
 * `npm run devnet -- --validators 4 --full-nodes 1 [--block-interval 500] [--dir DIR]`: a local BFT
 * network of separate OS processes on 127.0.0.1. Fresh homes in a temp folder, one genesis listing
 * every validator, each config's bootstrap list holding the other nodes' addresses; prints every
 * RPC address and stops all nodes on Ctrl-C. `prepareDevnet` is also what the e2e tests use.
 */

export const REPO = fileURLToPath(new URL('..', import.meta.url));
export const CLI = join(REPO, 'bin', 'tributary');

export interface DevnetNode {
  name: string;
  home: string;
  validator: boolean;
  rpcPort: number;
  p2pPort: number;
  peerId: string;
  /** This node's address as others dial it. */
  p2pAddress: string;
}

export interface DevnetOptions {
  validators: number;
  fullNodes: number;
  blockIntervalMs: number;
  chainId?: string;
  /** More funded accounts (benchmarks' senders). */
  accounts?: { address: string; balance: string }[];
  /** Chain parameter overrides. */
  params?: GenesisJson['params'];
}

/*
 * Listen ports come from below Linux's ephemeral range (32768-60999): a port picked there (the OS's
 * choice for port 0) can be taken as the source port of a peer's outgoing dial while its node is
 * down, and the restarted node then fails with EADDRINUSE.
 */
const PORT_FLOOR = 20_000;
const PORT_CEILING = 32_000;
const taken = new Set<number>();

function tryListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port nobody listens on right now, outside the ephemeral range, not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_FLOOR + Math.floor(Math.random() * (PORT_CEILING - PORT_FLOOR));
    if (taken.has(port) || !(await tryListen(port))) continue;
    taken.add(port);
    return port;
  }
  throw new Error('no free port found below the ephemeral range');
}

interface GenesisTemplate extends GenesisJson {
  devnet?: { validatorPower?: number; validatorBalance?: string };
}

/** Writes the homes of a devnet under `root` (keys, p2p keys, one genesis, configs with bootstrap lists). */
export async function prepareDevnet(root: string, opts: DevnetOptions): Promise<DevnetNode[]> {
  const nodes: DevnetNode[] = [];
  const validatorKeys: { name: string; publicKey: string; address: string }[] = [];
  const names = [
    ...Array.from({ length: opts.validators }, (_, i) => ({ name: `validator-${i}`, validator: true })),
    ...Array.from({ length: opts.fullNodes }, (_, i) => ({ name: `full-${i}`, validator: false })),
  ];
  for (const { name, validator } of names) {
    const home = join(root, name);
    mkdirSync(home, { recursive: true, mode: 0o700 });
    if (validator) {
      const info = createKey(homePaths(home).keys, DEFAULT_CONFIG.validatorKey, TEST_KEYRING);
      validatorKeys.push({ name, publicKey: info.publicKey, address: info.address });
    }
    const p2pKey = await loadOrCreateP2pKey(join(home, P2P_KEY_FILE));
    const peerId = peerIdFromPrivateKey(p2pKey as Parameters<typeof peerIdFromPrivateKey>[0]).toString();
    const p2pPort = await freePort();
    nodes.push({
      name,
      home,
      validator,
      rpcPort: await freePort(),
      p2pPort,
      peerId,
      p2pAddress: `/ip4/127.0.0.1/tcp/${p2pPort}/p2p/${peerId}`,
    });
  }
  const template = JSON.parse(readFileSync(GENESIS_TEMPLATE, 'utf8')) as GenesisTemplate;
  const { devnet, ...rest } = template;
  const genesis: GenesisJson = {
    ...rest,
    chainId: opts.chainId ?? template.chainId,
    genesisTimeMs: Date.now(),
    validators: validatorKeys.map((v) => ({
      name: v.name,
      publicKey: v.publicKey,
      power: devnet?.validatorPower ?? 1,
    })),
    accounts: [
      ...(template.accounts ?? []),
      ...validatorKeys.map((v) => ({ address: v.address, balance: devnet?.validatorBalance ?? '0' })),
      ...(opts.accounts ?? []),
    ],
    params: { ...template.params, ...opts.params },
  };
  parseGenesis(genesis);
  const genesisText = JSON.stringify(genesis, null, 2) + '\n';
  for (const node of nodes) {
    writeFileSync(homePaths(node.home).genesis, genesisText);
    const config: NodeConfig = {
      ...DEFAULT_CONFIG,
      rpc: { ...DEFAULT_CONFIG.rpc, port: node.rpcPort },
      blockIntervalMs: opts.blockIntervalMs,
      p2p: {
        ...DEFAULT_CONFIG.p2p,
        enabled: true,
        listen: [`/ip4/127.0.0.1/tcp/${node.p2pPort}`],
        bootstrap: nodes.filter((n) => n !== node).map((n) => n.p2pAddress),
        // Every loopback peer is one host to libp2p: exempt them from its per-host inbound limit.
        allow: ['/ip4/127.0.0.1/ipcidr/8'],
      },
    };
    writeFileSync(homePaths(node.home).config, JSON.stringify(config, null, 2) + '\n');
  }
  return nodes;
}

function parseArgs(argv: string[]): DevnetOptions & { dir?: string } {
  const opts: DevnetOptions & { dir?: string } = { validators: 4, fullNodes: 1, blockIntervalMs: 500 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    const int = (): number => {
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${arg} needs a non-negative integer, got ${value}`);
      i++;
      return n;
    };
    if (arg === '--validators') opts.validators = int();
    else if (arg === '--full-nodes') opts.fullNodes = int();
    else if (arg === '--block-interval') opts.blockIntervalMs = int();
    else if (arg === '--dir') {
      opts.dir = value;
      i++;
    } else throw new Error(`unknown option ${arg} (use --validators N --full-nodes M --block-interval MS --dir DIR)`);
  }
  if (opts.validators < 1) throw new Error('--validators must be at least 1');
  return opts;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const root = opts.dir ?? mkdtempSync(join(tmpdir(), 'tributary-devnet-'));
  const nodes = await prepareDevnet(root, opts);
  const children: ChildProcess[] = [];
  for (const node of nodes) {
    const log = createWriteStream(join(root, `${node.name}.log`));
    // Own process group: Ctrl-C reaches this script only, which then stops each node once.
    const child = spawn(CLI, ['--home', node.home, 'start', '--keyring-backend', 'test'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    child.once('exit', (code, signal) => console.log(`${node.name} exited (${signal ?? code})`));
    children.push(child);
  }
  console.log(`devnet in ${root} (logs: <name>.log there)`);
  for (const node of nodes) {
    console.log(
      `${node.name.padEnd(12)} ${node.validator ? 'validator ' : 'full node '} rpc http://127.0.0.1:${node.rpcPort}  p2p ${node.p2pAddress}`,
    );
  }
  console.log('Ctrl-C stops every node');
  let stopping = false;
  const stopAll = () => {
    if (stopping) return;
    stopping = true;
    console.log('stopping...');
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    void Promise.all(
      children.map((c) =>
        c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)),
      ),
    ).then(() => process.exit(0));
  };
  process.on('SIGINT', stopAll);
  process.on('SIGTERM', stopAll);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
