import { generateKeyPair } from '@libp2p/crypto/keys';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BftEngine, timeoutsForInterval } from '../../src/consensus/bft-engine.ts';
import { Mempool } from '../../src/consensus/mempool.ts';
import { Signer } from '../../src/consensus/signer.ts';
import { ConsensusWal } from '../../src/consensus/wal.ts';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import type { SigningKey } from '../../src/crypto/ed25519.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { parseGenesis, type Genesis, type GenesisJson } from '../../src/genesis.ts';
import { chainSyncSource, openChain, type OpenedChain } from '../../src/node.ts';
import { createP2pHost } from '../../src/p2p/libp2p-host.ts';
import type { P2pNetwork } from '../../src/p2p/network.ts';
import { serveSync } from '../../src/p2p/sync.ts';
import { LevelKvStore } from '../../src/storage/db.ts';
import type { TxRegistry } from '../../src/state/registry.ts';

/*
 * BFT nodes in this process, each with its own LevelDB, WAL, signer file and libp2p host on
 * 127.0.0.1: the unit tier of the BFT tests (the e2e tier runs OS processes).
 */

export const LOOPBACK = { listen: ['/ip4/127.0.0.1/tcp/0'], allow: ['/ip4/127.0.0.1/ipcidr/8'], heartbeatMs: 200 };

export interface InProcessNode {
  index: number;
  dir: string;
  key: SigningKey | undefined;
  opened: OpenedChain;
  mempool: Mempool;
  network: P2pNetwork;
  engine: BftEngine;
  signer: Signer | undefined;
  wal: ConsensusWal;
  stop(): Promise<void>;
}

export function bftGenesis(
  chainId: string,
  validators: SigningKey[],
  funded: SigningKey[] = [],
  extra: Pick<GenesisJson, 'params' | 'modules'> = {},
): Genesis {
  return parseGenesis({
    ...extra,
    chainId,
    genesisTimeMs: Date.now() - 60_000,
    validators: validators.map((k, i) => ({ name: `v${i}`, publicKey: toHex(k.publicKey), power: 1 })),
    accounts: funded.map((k) => ({
      address: formatAddress(addressFromPublicKey(k.publicKey)),
      balance: '1000000000000',
    })),
  });
}

/** Starts a node (a validator with `key`, a full node without) that dials `bootstrap`. */
export async function startInProcessNode(opts: {
  index: number;
  genesis: Genesis;
  key?: SigningKey;
  bootstrap: string[];
  intervalMs?: number;
  /** Reuse a stopped node's folder (its chain, WAL and signer state): a restart. */
  dir?: string;
  /** This node's clock (a fast or slow clock). */
  now?: () => number;
  /** Modules beyond src/modules.ts (a test's config-change module). */
  registry?: TxRegistry;
}): Promise<InProcessNode> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), `tributary-bft-${opts.index}-`));
  const db = await LevelKvStore.open(join(dir, 'data'));
  const opened = await openChain({ db, genesis: opts.genesis, registry: opts.registry });
  const mempool = new Mempool(opened.app);
  opened.chain.useCheckStateOwner(mempool);
  const signer = opts.key ? await Signer.open(join(dir, 'signer-state.json'), opts.key) : undefined;
  const wal = await ConsensusWal.open(join(dir, 'wal'));
  const network = await createP2pHost({
    chainId: opts.genesis.chainId,
    privateKey: await generateKeyPair('Ed25519'),
    ...LOOPBACK,
    bootstrap: opts.bootstrap,
  });
  const source = chainSyncSource(opened.chain);
  await serveSync(network, source);
  const engine = new BftEngine({
    chain: opened.chain,
    mempool,
    network,
    wal,
    signer,
    key: opts.key,
    timeouts: timeoutsForInterval(opts.intervalMs ?? 100),
    syncSource: source,
    now: opts.now,
  });
  await network.start();
  await engine.start();
  let stopping: Promise<void> | undefined;
  return {
    index: opts.index,
    dir,
    key: opts.key,
    opened,
    mempool,
    network,
    engine,
    signer,
    wal,
    stop() {
      stopping ??= (async () => {
        await engine.stop();
        await network.stop();
        await signer?.close();
        await wal.close();
        await db.close();
      })();
      return stopping;
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
