import type { Logger } from 'pino';
import { Chain } from './consensus/chain.ts';
import { Mempool } from './consensus/mempool.ts';
import { SoloEngine } from './consensus/solo-engine.ts';
import { ValidatorSet } from './consensus/validator-set.ts';
import { homePaths, type NodeConfig } from './config.ts';
import { isTributaryError, TributaryError } from './errors.ts';
import { loadGenesis } from './genesis.ts';
import { loadKey } from './keys.ts';
import { defaultRegistry } from './modules.ts';
import { RpcServer } from './rpc/server.ts';
import { Application } from './state/app.ts';
import { StateTree } from './state/tree/index.ts';
import { BlockStore } from './storage/block-store.ts';
import { LevelKvStore, type KvStore } from './storage/db.ts';
import { toHex } from './crypto/hash.ts';
import { SignatureVerifier } from './crypto/verify-pool.ts';

export type NodeErrorCode = 'node/inconsistent_storage';

export interface OpenedChain {
  db: KvStore;
  chain: Chain;
  app: Application;
}

/**
 * Opens the database, state tree, application and block store of a home folder, and checks that
 * they agree (they are written in one batch per block, so they always should).
 */
export async function openChain(home: string, opts: { keepVersions: number; logger?: Logger }): Promise<OpenedChain> {
  const paths = homePaths(home);
  const genesis = loadGenesis(paths.genesis);
  const db = await LevelKvStore.open(paths.data);
  try {
    const tree = await StateTree.open(db, { keepVersions: opts.keepVersions }).catch((e: unknown) => {
      if (!isTributaryError(e) || e.code !== 'state/old_layout') throw e;
      throw new TributaryError(
        'state/old_layout',
        `${paths.data} was written by an older Tributary whose state layout this one cannot read; ` +
          `move it away to restart this chain from genesis (a devnet), or use another --home`,
        { data: paths.data },
      );
    });
    const app = new Application({ tree, registry: defaultRegistry(), genesis, logger: opts.logger });
    await app.initChain();
    const blocks = await BlockStore.open(db);
    if (blocks.latestHeight !== app.height) {
      throw new TributaryError(
        'node/inconsistent_storage',
        `block store is at height ${blocks.latestHeight} but state is at ${app.height}`,
      );
    }
    if (blocks.latestBlock) app.setLastBlockTime(blocks.latestBlock.header.time_ms);
    const chain = new Chain({ db, app, blocks, validatorSet: new ValidatorSet(genesis.validators) });
    return { db, chain, app };
  } catch (e) {
    await db.close();
    throw e;
  }
}

export interface RunningNode {
  chain: Chain;
  mempool: Mempool;
  engine: SoloEngine;
  rpc: RpcServer;
  rpcAddress: { host: string; port: number };
  stop(): Promise<void>;
}

/** The composition root: the one place consensus, state, storage and RPC are wired together. */
export async function startNode(home: string, config: NodeConfig, logger: Logger): Promise<RunningNode> {
  const { db, chain, app } = await openChain(home, { keepVersions: config.state.keepVersions, logger });
  const { key } = loadKey(homePaths(home).keys, config.validatorKey);
  const verifier = SignatureVerifier.create();
  const mempool = new Mempool(app, config.mempool, logger.child({ module: 'mempool' }), verifier);
  const engine = new SoloEngine({
    chain,
    mempool,
    key,
    intervalMs: config.blockIntervalMs || app.params.blockIntervalMs,
    logger: logger.child({ module: 'consensus' }),
  });
  const rpc = new RpcServer({ chain, mempool, config: config.rpc, logger: logger.child({ module: 'rpc' }) });
  const rpcAddress = await rpc.listen(config.rpc.host, config.rpc.port);
  await engine.start();
  logger.info(
    {
      chainId: app.chainId,
      height: chain.latestHeight,
      stateRoot: toHex(app.stateRoot),
      rpc: `http://${rpcAddress.host}:${rpcAddress.port}`,
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
    stop() {
      stopping ??= (async () => {
        await rpc.close();
        await engine.stop();
        await verifier.close();
        await db.close();
        logger.info({ height: chain.latestHeight }, 'node stopped');
      })();
      return stopping;
    },
  };
}
