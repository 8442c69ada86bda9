import { Command, Option } from 'commander';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toJson } from '../codec/json.ts';
import { Chain } from '../consensus/chain.ts';
import { ValidatorSet } from '../consensus/validator-set.ts';
import { defaultHome, homePaths, loadConfig, parseHostPort, type NodeConfig } from '../config.ts';
import { fromHex, toHex } from '../crypto/hash.ts';
import { parseAddress } from '../crypto/address.ts';
import { loadGenesis } from '../genesis.ts';
import { verifyProof } from '../state/tree/index.ts';
import { headerHash } from '../storage/block-store.ts';
import type { BlockHeader } from '../codec/core.ts';
import { TributaryError, isTributaryError } from '../errors.ts';
import { initHome, isInitialized } from '../home.ts';
import { createKey, listKeys, loadKey } from '../keys.ts';
import { createLogger } from '../logger.ts';
import { defaultRegistry } from '../modules.ts';
import { openChain, startNode } from '../node.ts';
import { registerIndexCommand } from './index-command.ts';
import { RpcClient } from '../rpc/client.ts';
import { Application } from '../state/app.ts';
import { parseAmount } from '../state/math.ts';
import type { TxDefinition } from '../state/module.ts';
import { signTx } from '../state/tx.ts';
import { StateTree } from '../state/tree/index.ts';
import { BlockStore } from '../storage/block-store.ts';
import { LevelKvStore } from '../storage/db.ts';

export type CliErrorCode = 'cli/invalid_argument' | 'cli/timeout' | 'cli/tx_failed';

interface GlobalOptions {
  home: string;
  json: boolean;
  rpc?: string;
}

function globals(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as { home?: string; json?: boolean; rpc?: string };
  return { home: o.home ?? defaultHome(), json: o.json ?? false, rpc: o.rpc };
}

function print(g: GlobalOptions, value: unknown, human?: () => string): void {
  if (g.json || !human) process.stdout.write(JSON.stringify(toJson(value), null, g.json ? 0 : 2) + '\n');
  else process.stdout.write(human() + '\n');
}

/** RPC endpoint: --rpc flag, then TRIBUTARY_RPC, then the home's config, then the default. */
function rpcUrl(g: GlobalOptions): string {
  const text = g.rpc ?? process.env.TRIBUTARY_RPC;
  if (text) {
    if (/^https?:\/\//.test(text)) return text;
    const { host, port } = parseHostPort(text);
    return `http://${host}:${port}`;
  }
  const config = loadConfig(g.home);
  return `http://${config.rpc.host}:${config.rpc.port}`;
}

function client(g: GlobalOptions): RpcClient {
  return new RpcClient(rpcUrl(g));
}

async function waitForTx(rpc: RpcClient, hash: string, timeoutMs: number): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const tx = await rpc.call<Record<string, unknown> | null>('tx_get', [hash]);
    if (tx && tx.status !== 'pending') return tx;
    if (Date.now() > deadline) throw new TributaryError('cli/timeout', `transaction ${hash} not committed within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function addTxCommand(tx: Command, def: TxDefinition<any>): void {
  const spec = def.cli!;
  const cmd = tx.command(spec.name).description(`${spec.description} (${def.type})`);
  for (const o of spec.options) {
    const opt = new Option(o.flags, o.description);
    if (o.required) opt.makeOptionMandatory();
    if (o.defaultValue !== undefined) opt.default(o.defaultValue);
    cmd.addOption(opt);
  }
  cmd
    .requiredOption('--from <key>', 'name of the signing key in <home>/keys')
    .option('--fee <baseUnits>', 'fee in base units (default: the chain minimum)')
    .option('--nonce <n>', 'nonce (default: next nonce from the node, counting pending transactions)')
    .option('--wait', 'wait until the transaction is committed')
    .option('--timeout <ms>', 'how long --wait waits', '30000')
    .action(async (opts: Record<string, string | boolean | undefined>, command: Command) => {
      const g = globals(command);
      const { key, info } = loadKey(homePaths(g.home).keys, String(opts.from));
      const message = spec.build(opts);
      def.validateBasic(message);
      const rpc = client(g);
      const status = await rpc.call<{ chainId: string; minFee: string }>('chain_status');
      const nonce =
        opts.nonce !== undefined
          ? Number(parseAmount(String(opts.nonce), 'nonce'))
          : (await rpc.call<{ nonce: number }>('account_nextNonce', [info.address])).nonce;
      const fee = opts.fee !== undefined ? parseAmount(String(opts.fee), 'fee') : BigInt(status.minFee);
      const bytes = signTx(key, { chainId: status.chainId, nonce, fee, type: def.type, payload: def.codec.encode(message) });
      const { hash } = await rpc.call<{ hash: string }>('tx_submit', ['0x' + toHex(bytes)]);
      if (!opts.wait) {
        print(g, { hash, status: 'pending' }, () => hash);
        return;
      }
      const result = await waitForTx(rpc, hash, Number(opts.timeout));
      const receipt = result.receipt as { events: unknown[]; errorCode: string | null; errorMessage: string | null };
      const out = {
        hash,
        height: result.height,
        status: result.status,
        events: receipt.events,
        ...(result.status === 'failed' ? { errorCode: receipt.errorCode, errorMessage: receipt.errorMessage } : {}),
      };
      print(g, out, () => `${hash} ${result.status} at height ${result.height}${receipt.errorCode ? ` (${receipt.errorCode}: ${receipt.errorMessage})` : ''}`);
      if (result.status === 'failed') process.exitCode = 1;
    });
}

interface ProofResult {
  height: number;
  blockHash: string | null;
  stateRoot: string;
  key: string;
  exists: boolean;
  value: string | null;
  decoded: unknown;
  proof: string;
}

/**
 * What a light client does: the proof must lead from key and value to the state root, that root
 * must be the one in the block header, and, when this home folder has the chain's genesis, the
 * header must carry a commit certificate signed by more than 2/3 of the genesis validators.
 */
async function checkProof(g: GlobalOptions, rpc: RpcClient, r: ProofResult): Promise<{ proof: boolean; header: string }> {
  const proofOk = verifyProof(fromHex(r.stateRoot), fromHex(r.key), r.value ? fromHex(r.value) : undefined, fromHex(r.proof));
  if (r.height === 0) return { proof: proofOk, header: 'genesis state (no header)' };
  const block = await rpc.call<Record<string, unknown> & { stateRoot: string; hash: string }>('chain_getBlock', [r.height]);
  if (block.stateRoot !== r.stateRoot) return { proof: false, header: 'state root differs from the block header' };
  const genesisPath = homePaths(g.home).genesis;
  if (!existsSync(genesisPath)) return { proof: proofOk, header: 'root matches the header (commit not checked: no genesis in home)' };
  const genesis = loadGenesis(genesisPath);
  const commit = await rpc.call<{ height: number; round: number; blockHash: string; signatures: { validator: string; signature: string }[] }>(
    'chain_getCommit',
    [r.height],
  );
  try {
    const set = new ValidatorSet(genesis.validators);
    const header = headerFromView(block);
    set.verifyCommit(
      genesis.chainId,
      { height: commit.height, round: commit.round, block_hash: fromHex(commit.blockHash), signatures: commit.signatures.map((s) => ({ validator: parseAddress(s.validator), signature: fromHex(s.signature) })) },
      header,
      headerHash(header),
    );
    return { proof: proofOk, header: `root matches header ${block.hash}, finalized by a valid commit certificate` };
  } catch (e) {
    return { proof: false, header: `commit certificate rejected: ${(e as Error).message}` };
  }
}

function headerFromView(v: Record<string, unknown>): BlockHeader {
  const b = (k: string) => fromHex(String(v[k]));
  return {
    chain_id: String(v.chainId),
    height: Number(v.height),
    time_ms: Number(v.timeMs),
    parent_hash: b('parentHash'),
    proposer: parseAddress(String(v.proposer)),
    txs_root: b('txsRoot'),
    state_root: b('stateRoot'),
    results_root: b('resultsRoot'),
    validators_hash: b('validatorsHash'),
    last_commit_hash: b('lastCommitHash'),
  };
}

async function runVerify(g: GlobalOptions): Promise<void> {
  const logger = createLogger({ level: 'warn', format: 'json' });
  const source = await openChain(g.home, { keepVersions: 0, logger });
  const scratchDir = mkdtempSync(join(tmpdir(), 'tributary-verify-'));
  try {
    const scratch = await LevelKvStore.open(scratchDir);
    const genesis = source.app.genesis;
    const app = new Application({ tree: await StateTree.open(scratch), registry: defaultRegistry(), genesis });
    await app.initChain();
    const replay = new Chain({ db: scratch, app, blocks: await BlockStore.open(scratch), validatorSet: new ValidatorSet(genesis.validators) });
    const top = source.chain.latestHeight;
    let txs = 0;
    for (let h = 1; h <= top; h++) {
      const stored = await source.chain.blocks.getBlock(h);
      const commit = await source.chain.blocks.getCommit(h);
      if (!stored || !commit) throw new TributaryError('node/inconsistent_storage', `block ${h} or its commit is missing`);
      await replay.importBlock(stored.block, commit);
      txs += stored.block.txs.length;
    }
    const broken = await app.checkInvariants(replay);
    const sameRoot = toHex(app.stateRoot) === toHex(source.app.stateRoot);
    await scratch.close();
    const result = { height: top, transactions: txs, stateRoot: '0x' + toHex(app.stateRoot), matchesStoredState: sameRoot, invariantsBroken: broken, ok: sameRoot && broken.length === 0 };
    print(g, result, () =>
      result.ok
        ? `verified ${top} blocks and ${txs} transactions from genesis; state root 0x${toHex(app.stateRoot)}`
        : `VERIFY FAILED: root matches stored state: ${sameRoot}; broken invariants: ${broken.join('; ') || 'none'}`,
    );
    if (!result.ok) process.exitCode = 1;
  } finally {
    await source.db.close();
    rmSync(scratchDir, { recursive: true, force: true });
  }
}

export function buildProgram(): Command {
  const program = new Command('tributary')
    .description('Tributary node: the accounting layer of the AI supply chain')
    .option('--home <dir>', 'node home folder (default: $TRIBUTARY_HOME or ~/.tributary)')
    .option('--json', 'machine-readable output')
    .option('--rpc <url>', 'node RPC endpoint for client commands (URL or HOST:PORT)')
    .showHelpAfterError();

  program
    .command('init')
    .description('create the home folder with genesis, config and a funded validator key')
    .option('--chain-id <id>', 'chain id (default: from the genesis template)')
    .action((opts: { chainId?: string }, cmd: Command) => {
      const g = globals(cmd);
      const { validator, genesisPath } = initHome(g.home, { chainId: opts.chainId });
      print(g, { home: g.home, genesis: genesisPath, validator }, () => `initialized ${g.home}\nvalidator ${validator.address}`);
    });

  program
    .command('start')
    .description('run the node: produce blocks and serve JSON-RPC')
    .option('--rpc-listen <host:port>', 'JSON-RPC listen address (default 127.0.0.1:8545)')
    .option('--devnet', 'initialize the home folder first if it is empty')
    .option('--block-interval <ms>', 'override the block interval for this node')
    .option('--log-level <level>', 'trace, debug, info, warn, error')
    .option('--log-format <format>', 'json or pretty')
    .action(async (opts: { rpcListen?: string; devnet?: boolean; blockInterval?: string; logLevel?: string; logFormat?: string }, cmd: Command) => {
      const g = globals(cmd);
      if (!isInitialized(g.home)) {
        if (!opts.devnet) throw new TributaryError('home/not_initialized', `${g.home} has no genesis.json; run "tributary init" first (or start --devnet)`);
        initHome(g.home);
      }
      const config: NodeConfig = loadConfig(g.home);
      // `start --rpc HOST:PORT` is accepted as the listen address too (the global --rpc names a client endpoint).
      const listen = opts.rpcListen ?? g.rpc;
      if (listen) Object.assign(config.rpc, parseHostPort(listen.replace(/^https?:\/\//, '')));
      if (opts.blockInterval) config.blockIntervalMs = Number(parseAmount(opts.blockInterval, 'block interval'));
      if (opts.logLevel) config.log.level = opts.logLevel;
      if (opts.logFormat === 'pretty' || opts.logFormat === 'json') config.log.format = opts.logFormat;
      const logger = createLogger(config.log);
      const node = await startNode(g.home, config, logger);
      const shutdown = (signal: string) => {
        logger.info({ signal }, 'shutting down');
        node.stop().then(
          () => process.exit(0),
          (e) => {
            logger.error({ err: e }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', () => shutdown('SIGINT'));
      process.once('SIGTERM', () => shutdown('SIGTERM'));
    });

  const keys = program.command('keys').description('manage signing keys in <home>/keys');
  keys
    .command('new <name>')
    .description('create a new Ed25519 key')
    .action((name: string, _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const info = createKey(homePaths(g.home).keys, name);
      print(g, info, () => `${info.name} ${info.address}`);
    });
  keys
    .command('list')
    .description('list keys')
    .action((_o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const all = listKeys(homePaths(g.home).keys);
      print(g, all, () => all.map((k) => `${k.name}\t${k.address}`).join('\n') || '(no keys)');
    });
  keys
    .command('show <name>')
    .description('show a key (address and public key; never the secret)')
    .action((name: string, _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const { info } = loadKey(homePaths(g.home).keys, name);
      print(g, info, () => `name       ${info.name}\naddress    ${info.address}\npublic key ${info.publicKey}`);
    });

  const tx = program.command('tx').description('sign and submit a transaction');
  const registry = defaultRegistry();
  for (const def of registry.txDefinitions) if (def.cli) addTxCommand(tx, def);

  const query = program.command('query').description('read chain state over RPC');
  query
    .command('block [block]')
    .description('a block by height, hash or "latest"')
    .option('--full', 'include decoded transactions')
    .action(async (block: string | undefined, opts: { full?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const tag = block === undefined ? 'latest' : /^\d+$/.test(block) ? Number(block) : block;
      print(g, await client(g).call('chain_getBlock', [tag, opts.full ?? false]));
    });
  query
    .command('tx <hash>')
    .description('a transaction with its receipt')
    .action(async (hash: string, _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      print(g, await client(g).call('tx_get', [hash]));
    });
  query
    .command('proof <kindOrKey> [id]')
    .description('a state value with its Merkle proof, checked here against the block header and its commit certificate')
    .option('--height <n>', 'block height (default: latest)')
    .action(async (kindOrKey: string, id: string | undefined, opts: { height?: string }, cmd: Command) => {
      const g = globals(cmd);
      const rpc = client(g);
      const key = /^0x[0-9a-fA-F]*$/.test(kindOrKey) ? kindOrKey : { kind: kindOrKey, id };
      const height = opts.height === undefined ? 'latest' : Number(parseAmount(opts.height, 'height'));
      const result = await rpc.call<ProofResult>('state_getProof', [key, height]);
      const verified = await checkProof(g, rpc, result);
      print(g, { ...result, verified }, () =>
        [
          `height     ${result.height}`,
          `state root ${result.stateRoot}`,
          `key        ${result.key}`,
          result.exists ? `value      ${JSON.stringify(result.decoded ?? result.value)}` : 'value      (absent: non-inclusion proof)',
          `proof      ${(result.proof.length - 2) / 2} bytes, ${verified.proof ? 'verifies' : 'DOES NOT VERIFY'} against the state root`,
          `header     ${verified.header}`,
        ].join('\n'),
      );
      if (!verified.proof) process.exitCode = 1;
    });

  for (const q of registry.queries) {
    if (!q.cli) continue;
    const args = q.params.map((p) => (p.optional ? `[${p.name}]` : `<${p.name}>`)).join(' ');
    query
      .command(`${q.cli} ${args}`.trim())
      .description(`${q.description} (${q.method})`)
      .action(async (...all: unknown[]) => {
        const cmd = all[all.length - 1] as Command;
        const g = globals(cmd);
        const params = q.params.map((p, i) => {
          const v = all[i] as string | undefined;
          if (v !== undefined && (p.kind === 'integer' || p.kind === 'blockTag') && /^\d+$/.test(v)) return Number(v);
          return v;
        });
        print(g, await client(g).call(q.method, params));
      });
  }

  program
    .command('status')
    .description('chain id, height and latest block of the node')
    .action(async (_o: unknown, cmd: Command) => {
      const g = globals(cmd);
      print(g, await client(g).call('chain_status'));
    });

  program
    .command('verify')
    .description('replay the chain from genesis and check every block, state root and invariant (node stopped)')
    .action(async (_o: unknown, cmd: Command) => {
      const g = globals(cmd);
      if (!isInitialized(g.home) || !existsSync(homePaths(g.home).data)) {
        throw new TributaryError('home/not_initialized', `${g.home} has no chain to verify`);
      }
      await runVerify(g);
    });
  registerIndexCommand(program);

  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      process.exitCode = 2;
      return;
    }
    const json = argv.includes('--json');
    if (isTributaryError(e)) {
      if (json) process.stderr.write(JSON.stringify({ error: { code: e.code, message: e.message } }) + '\n');
      else process.stderr.write(`error [${e.code}]: ${e.message}\n`);
    } else {
      process.stderr.write(`error: ${(e as Error).stack ?? String(e)}\n`);
    }
    process.exitCode = 1;
  }
}
