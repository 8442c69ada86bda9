import { join } from 'node:path';
import type { Logger } from 'pino';
import { Chain } from './consensus/chain.ts';
import type { ChainEventStream } from './index/stream.ts';
import { Mempool, type MempoolLimits } from './consensus/mempool.ts';
import { Signer } from './consensus/signer.ts';
import { SoloEngine } from './consensus/solo-engine.ts';
import { homePaths, type NodeConfig } from './config.ts';
import { readinessProblem } from './health.ts';
import { bytesEqual, toHex } from './crypto/hash.ts';
import { SignatureVerifier } from './crypto/verify-pool.ts';
import { isTributaryError, TributaryError } from './errors.ts';
import { addressFromPublicKey } from './crypto/address.ts';
import { genesisHash, loadGenesis, type Genesis } from './genesis.ts';
import { loadKey } from './keys.ts';
import { defaultRegistry } from './modules.ts';
import { NodeMetrics } from './metrics.ts';
import { removeRpcAddress, rpcUrlFor, writeRpcAddress } from './rpc-address.ts';
import { RpcServer } from './rpc/server.ts';
import { Application } from './state/app.ts';
import type { TxRegistry } from './state/registry.ts';
import { StateTree } from './state/tree/index.ts';
import { BlockStore } from './storage/block-store.ts';
import { LevelKvStore, type KvStore } from './storage/db.ts';
import { ed25519Backend, type SigningKey } from './crypto/ed25519.ts';
import { serveSync, type SyncSource } from './p2p/sync.ts';
import { BftEngine, timeoutsForInterval } from './consensus/bft-engine.ts';
import { GossipMempool } from './consensus/tx-gossip.ts';
import { ConsensusWal } from './consensus/wal.ts';
import { createP2pHost } from './p2p/libp2p-host.ts';
import { loadOrCreateP2pKey, P2P_KEY_FILE } from './p2p/keys.ts';
import type { P2pNetwork } from './p2p/network.ts';

export type NodeErrorCode = 'node/inconsistent_storage' | 'node/genesis_mismatch' | 'node/home_locked';

export interface OpenedChain {
  db: KvStore;
  chain: Chain;
  app: Application;
}

export interface OpenChainOptions {
  db: KvStore;
  genesis: Genesis;
  /** Defaults to the module list of src/modules.ts; tests may add modules of their own. */
  registry?: TxRegistry;
  /** State versions to keep; 0 keeps every version. */
  keepVersions?: number;
  logger?: Logger;
  /** Defaults to a new stream; tests pass one to subscribe before the first block. */
  events?: ChainEventStream;
}

/**
 * The one composition of storage, state tree, application, block store and chain, used by the
 * node, `verify`, the benchmarks and the tests. On an empty database it stores the genesis hash,
 * then writes the genesis state; on a used one it refuses a genesis with another hash, and a
 * database from a layout before the genesis hash was stored. Does not close `db` on failure.
 */
export async function openChain(opts: OpenChainOptions): Promise<OpenedChain> {
  const { db, genesis } = opts;
  const tree = await StateTree.open(db, { keepVersions: opts.keepVersions ?? 0 });
  const blocks = await BlockStore.open(db);
  const expected = genesisHash(genesis);
  const stored = await blocks.getGenesisHash();
  if (tree.latestVersion < 0) {
    // Hash first: a crash before the genesis state is written just writes it again next time.
    if (!stored) {
      const batch = db.writeBatch();
      blocks.writeGenesisHash(batch, expected);
      await batch.write({ sync: true });
    }
  } else if (!stored) {
    throw new TributaryError('state/old_layout', 'this database was written before the genesis hash was stored');
  }
  if (stored && !bytesEqual(stored, expected)) {
    throw new TributaryError(
      'node/genesis_mismatch',
      `genesis.json has hash 0x${toHex(expected)}, but this chain was initialised from genesis 0x${toHex(stored)}; ` +
        'restore the original genesis.json, or start a new chain in another home folder',
      { stored: '0x' + toHex(stored), given: '0x' + toHex(expected) },
    );
  }
  const app = await Application.open({
    tree,
    registry: opts.registry ?? defaultRegistry(),
    genesis,
    logger: opts.logger,
  });
  if (blocks.latestHeight !== app.height) {
    throw new TributaryError(
      'node/inconsistent_storage',
      `block store is at height ${blocks.latestHeight} but state is at ${app.height}`,
    );
  }
  if (blocks.latestBlock) app.setLastBlockTime(blocks.latestBlock.header.time_ms);
  const chain = new Chain({ db, app, blocks, events: opts.events });
  // The index follows the chain in batches of its own; a crash can leave it a few blocks behind,
  // and those are rewritten from the block store here.
  const caughtUp = await chain.index.catchUp(blocks);
  if (caughtUp > 0) opts.logger?.info({ blocks: caughtUp, height: blocks.latestHeight }, 'chain index caught up');
  chain.index.onWriteError = (e) =>
    opts.logger?.error({ err: e }, 'chain index write failed; it catches up at the next start');
  return { db, chain, app };
}

/** `openChain` over a home folder's genesis and database; closes the database if opening fails. */
export async function openHome(home: string, opts: { keepVersions: number; logger?: Logger }): Promise<OpenedChain> {
  const paths = homePaths(home);
  const genesis = loadGenesis(paths.genesis);
  const db = await LevelKvStore.open(paths.data).catch((e: unknown) => {
    if (isTributaryError(e) && e.code === 'storage/locked') {
      // LevelDB's LOCK is held by another process: a node (or verify, index rebuild) on this home.
      throw new TributaryError(
        'node/home_locked',
        `another process (a running node, verify or index rebuild) is using the home folder ${paths.home}: ` +
          `its database ${paths.data} is locked; stop it first, or use another --home`,
        { home: paths.home },
      );
    }
    throw e;
  });
  try {
    return await openChain({ db, genesis, ...opts });
  } catch (e) {
    await db.close();
    if (isTributaryError(e) && e.code === 'state/old_layout') {
      throw new TributaryError(
        'state/old_layout',
        `${paths.data} was written by an older Tributary whose state layout this one cannot read; ` +
          `move it away to restart this chain from genesis (a devnet), or use another --home`,
        { data: paths.data },
      );
    }
    throw e;
  }
}

/**
 * Replays every block of `source` into a chain over `scratch` with full verification (headers,
 * certificates, transactions, roots), then checks the invariants and the final root.
 */
export async function replayChain(
  source: OpenedChain,
  scratch: KvStore,
  onBlock?: (height: number, top: number) => void,
): Promise<{
  height: number;
  transactions: number;
  stateRoot: Uint8Array;
  matchesStoredState: boolean;
  invariantsBroken: string[];
}> {
  const replay = await openChain({ db: scratch, genesis: source.app.genesis, registry: source.app.registry });
  const top = source.chain.latestHeight;
  let transactions = 0;
  for (let h = 1; h <= top; h++) {
    const stored = await source.chain.blocks.getBlock(h);
    const commit = await source.chain.blocks.getCommit(h);
    if (!stored || !commit)
      throw new TributaryError('node/inconsistent_storage', `block ${h} or its commit is missing`);
    await replay.chain.importBlock(stored.block, commit);
    transactions += stored.block.txs.length;
    onBlock?.(h, top);
  }
  return {
    height: top,
    transactions,
    stateRoot: replay.app.stateRoot,
    matchesStoredState: bytesEqual(replay.app.stateRoot, source.app.stateRoot),
    invariantsBroken: await replay.app.checkInvariants(replay.chain),
  };
}

/** Where a home folder's validator keeps its last signed height/round/step (beside the chain data it belongs to). */
export function signerStatePath(home: string): string {
  return join(homePaths(home).data, 'signer-state.json');
}

/** Not ready while anything a block needs cannot be written: the database, or the signer's file. */
export function readiness(chain: Chain, signer: Signer | undefined): () => string | undefined {
  return () => {
    const fault = chain.storageFault();
    if (fault !== undefined) return `storage refuses writes: ${fault}`;
    return signer?.failed ? 'the signer cannot save its last signed state' : undefined;
  };
}

/** The block-producing part of a node: mempool (owner of the check state), signer and engine. */
export async function startProducer(
  opened: OpenedChain,
  opts: {
    key: SigningKey;
    signerPath: string;
    mempool: Partial<MempoolLimits>;
    intervalMs: number;
    logger?: Logger;
    verifier?: SignatureVerifier;
    now?: () => number;
  },
): Promise<{ mempool: Mempool; engine: SoloEngine; signer: Signer; notReady: () => string | undefined }> {
  const signer = await Signer.open(opts.signerPath, opts.key);
  // Not ready while anything a block needs cannot be written: the database, or the signer's file.
  const notReady = readiness(opened.chain, signer);
  const mempool = new Mempool(
    opened.app,
    opts.mempool,
    opts.logger?.child({ module: 'mempool' }),
    opts.verifier,
    Date.now,
    notReady,
  );
  opened.chain.useCheckStateOwner(mempool);
  const engine = new SoloEngine({
    chain: opened.chain,
    mempool,
    signer,
    intervalMs: opts.intervalMs,
    logger: opts.logger?.child({ module: 'consensus' }),
    now: opts.now,
  });
  return { mempool, engine, signer, notReady };
}

export interface RunningNode {
  chain: Chain;
  mempool: Mempool;
  /** SoloEngine for a one-validator chain without p2p; BftEngine otherwise. */
  engine: SoloEngine | BftEngine;
  rpc: RpcServer;
  rpcAddress: { host: string; port: number };
  /** The libp2p host, when the node runs BFT. */
  network?: P2pNetwork;
  /** Where Prometheus metrics are served, when they are. */
  metricsAddress?: { host: string; port: number };
  stop(): Promise<void>;
}

/** Where a home folder's consensus write-ahead log lives (beside the chain data it belongs to, like the signer state). */
export function consensusWalPath(home: string): string {
  return join(homePaths(home).data, 'consensus-wal');
}

/**
 * BFT over libp2p unless this node's key is the whole validator set of the next height and the
 * config does not ask for p2p (then the single-validator engine, as `npm start` runs).
 */
async function wantsBft(chain: Chain, key: SigningKey | undefined, config: NodeConfig): Promise<boolean> {
  if (config.p2p.enabled || !key) return true;
  const set = await chain.validatorSet(chain.latestHeight + 1);
  return set.validators.length !== 1 || !bytesEqual(set.validators[0]!.publicKey, key.publicKey);
}

/** The composition root of a running node: chain, producer (or BFT engine and p2p) and RPC, started in that order. */
export async function startNode(
  home: string,
  config: NodeConfig,
  logger: Logger,
  opts: {
    /** For an encrypted validator key (a plaintext test key needs none). */
    password?: string;
    /** A metrics address already in use is then a warning (the devnet), not a failed start. */
    metricsBestEffort?: boolean;
  } = {},
): Promise<RunningNode> {
  const opened = await openHome(home, {
    keepVersions: config.state.keepVersions,
    logger: logger.child({ module: 'state' }),
  });
  const { db, chain, app } = opened;
  const nodeLog = logger.child({ module: 'node' });
  const verifier = SignatureVerifier.create();
  let signer: Signer | undefined;
  let network: P2pNetwork | undefined;
  let wal: ConsensusWal | undefined;
  let metrics: NodeMetrics | undefined;
  let rpc: RpcServer | undefined;
  let engine: SoloEngine | BftEngine | undefined;
  /**
   * Closes what this start opened, in reverse: by `stop`, and by a start that fails part way (a
   * p2p port in use, an engine that refuses), which would otherwise leave the RPC port bound and
   * the database locked in this process. After a failed start each step is best effort, so that
   * the start's own error is the one reported.
   */
  const release = async (bestEffort: boolean): Promise<void> => {
    const steps: (() => Promise<void> | void)[] = [
      () => rpc?.close(),
      () => removeRpcAddress(home),
      () => metrics?.close(),
      () => engine?.stop(),
      () => network?.stop(),
      () => signer?.close(),
      () => wal?.close(),
      () => verifier.close(),
      () => db.close(),
    ];
    for (const step of steps) {
      if (!bestEffort) await step();
      else
        await Promise.resolve()
          .then(step)
          .catch(() => undefined);
    }
  };
  try {
    let key: SigningKey | undefined;
    try {
      key = loadKey(homePaths(home).keys, config.validatorKey, opts.password).key;
    } catch (e) {
      // A full node has no validator key; any other problem with the key file is the operator's to fix.
      if (!(isTributaryError(e) && e.code === 'keys/not_found')) throw e;
    }
    const intervalMs = config.blockIntervalMs || app.params.blockIntervalMs;
    let mempool: Mempool;
    let notReady: () => string | undefined;
    const soleValidator = !(await wantsBft(chain, key, { ...config, p2p: { ...config.p2p, enabled: false } }));
    if (!(await wantsBft(chain, key, config))) {
      ({ mempool, engine, signer, notReady } = await startProducer(opened, {
        key: key!,
        signerPath: signerStatePath(home),
        mempool: config.mempool,
        intervalMs,
        logger,
        verifier,
      }));
    } else {
      signer = key ? await Signer.open(signerStatePath(home), key) : undefined;
      notReady = readiness(chain, signer);
      const gossipMempool = new GossipMempool(
        app,
        config.mempool,
        logger.child({ module: 'mempool' }),
        verifier,
        Date.now,
        notReady,
      );
      mempool = gossipMempool;
      chain.useCheckStateOwner(mempool);
      wal = await ConsensusWal.open(consensusWalPath(home));
      const p2pLogger = logger.child({ module: 'p2p' });
      network = await createP2pHost({
        chainId: app.chainId,
        privateKey: await loadOrCreateP2pKey(join(homePaths(home).home, P2P_KEY_FILE)),
        listen: config.p2p.listen,
        announce: config.p2p.announce,
        bootstrap: config.p2p.bootstrap,
        allow: config.p2p.allow,
        maxConnections: config.p2p.maxConnections,
        maxGossipBytes: config.p2p.maxGossipBytes,
        logger: p2pLogger,
      });
      const source = chainSyncSource(chain);
      await serveSync(network, source);
      gossipMempool.attach(network, p2pLogger);
      engine = new BftEngine({
        chain,
        mempool,
        network,
        wal,
        signer,
        key: signer ? key : undefined,
        timeouts: timeoutsForInterval(intervalMs),
        syncSource: source,
        logger: logger.child({ module: 'consensus' }),
      });
    }
    const nodeMetrics = config.metrics.enabled
      ? new NodeMetrics({
          chain,
          mempool,
          dataDir: homePaths(home).data,
          consensus: engine instanceof BftEngine ? engine : undefined,
          peers: network ? () => network!.peers().length : undefined,
          signer,
          validator: signer && key ? addressFromPublicKey(key.publicKey) : undefined,
        })
      : undefined;
    metrics = nodeMetrics;
    rpc = new RpcServer({
      chain,
      mempool,
      notReady,
      config: config.rpc,
      logger: logger.child({ module: 'rpc' }),
      observe: nodeMetrics && ((method, seconds, code) => nodeMetrics.observeCall(method, seconds, code)),
      unready: () =>
        engine instanceof BftEngine
          ? readinessProblem({
              bft: true,
              // A validator set of one needs nobody; any other node without a peer sees no new blocks.
              soleValidator: Boolean(signer && soleValidator),
              syncing: engine.syncing,
              peers: network?.peers().length ?? 0,
              latestHeight: chain.latestHeight,
              highestPeerHeight: engine.highestPeerHeight,
              ...config.health,
            })
          : undefined,
    });
    const rpcAddress = await rpc.listen(config.rpc.host, config.rpc.port);
    writeRpcAddress(home, rpcAddress);
    let metricsAddress: { host: string; port: number } | undefined;
    if (nodeMetrics) {
      try {
        metricsAddress = await nodeMetrics.listen(config.metrics.host, config.metrics.port);
      } catch (e) {
        if (!opts.metricsBestEffort || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
          throw new TributaryError(
            'config/invalid',
            `cannot serve metrics on ${config.metrics.host}:${config.metrics.port}: ${(e as Error).message}`,
          );
        }
        await nodeMetrics.close();
        metrics = undefined;
        nodeLog.warn(
          { metrics: `${config.metrics.host}:${config.metrics.port}` },
          'metrics address in use; no metrics',
        );
      }
    }
    if (network) await network.start();
    await engine.start();
    nodeLog.info(
      {
        chainId: app.chainId,
        height: chain.latestHeight,
        stateRoot: toHex(app.stateRoot),
        rpc: rpcUrlFor(rpcAddress.host, rpcAddress.port),
        ...(metricsAddress ? { metrics: `http://${metricsAddress.host}:${metricsAddress.port}/metrics` } : {}),
        engine: engine instanceof BftEngine ? 'bft' : 'solo',
        validator: signer !== undefined,
        // libsodium, or OpenSSL at half the speed where sodium-native has no build.
        signatures: ed25519Backend(),
        ...(network ? { peerId: network.peerId, p2p: network.listenAddresses() } : {}),
      },
      'node started',
    );
    let stopping: Promise<void> | undefined;
    return {
      chain,
      mempool,
      engine,
      rpc,
      rpcAddress,
      network,
      metricsAddress,
      stop() {
        stopping ??= (async () => {
          await release(false);
          nodeLog.info({ height: chain.latestHeight }, 'node stopped');
        })();
        return stopping;
      },
    };
  } catch (e) {
    await release(true);
    throw e;
  }
}

/** What block sync serves from a chain, and the status it sends in handshakes. */
export function chainSyncSource(chain: Chain): SyncSource {
  const genesis = genesisHash(chain.app.genesis);
  return {
    status: () => {
      const head = chain.blocks.latestBlock;
      return {
        chain_id: chain.app.chainId,
        genesis_hash: genesis,
        height: chain.latestHeight,
        head_hash: head ? head.hash : new Uint8Array(0),
      };
    },
    getBlock: async (h) => (await chain.blocks.getBlock(h))?.block,
    getCommit: (h) => chain.blocks.getCommit(h),
  };
}
