import type { Command } from 'commander';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants as osConstants } from 'node:os';
import type { Logger } from 'pino';
import { type ConfigLayer, homePaths, LOG_LEVELS, parseHostPort, parseLogLevels, resolveConfig } from '../config.ts';
import { toHex } from '../crypto/hash.ts';
import { TributaryError } from '../errors.ts';
import { initHome, isInitialized } from '../home.ts';
import { keyBackend, type KeyringBackend, TEST_KEYRING } from '../keys.ts';
import { createLogger, toolLogger } from '../logger.ts';
import { createProgress } from '../progress.ts';
import { openHome, replayChain, type RunningNode, startNode } from '../node.ts';
import { LevelKvStore } from '../storage/db.ts';
import { globals, print, type GlobalOptions } from './common.ts';
import { keyringBackendOption, passwordFileOption, protectionFor } from './keys.ts';
import { readPassword } from './password.ts';

/* Commands that work on the home folder and the node itself: init, start, verify. */

export function addInitCommand(program: Command): void {
  program
    .command('init')
    .description('create the home folder with genesis, config and a funded validator key')
    .option('--chain-id <id>', 'chain id (default: from the genesis template)')
    .addOption(keyringBackendOption())
    .addOption(passwordFileOption())
    .action(
      async (opts: { chainId?: string; keyringBackend?: KeyringBackend; passwordFile?: string }, cmd: Command) => {
        const g = globals(cmd);
        if (isInitialized(g.home)) throw new TributaryError('home/exists', `${g.home} is already initialized`);
        const protection = await protectionFor(opts, 'the validator key');
        const { validator, genesisPath } = initHome(g.home, { chainId: opts.chainId, protection });
        print(
          g,
          { home: g.home, genesis: genesisPath, validator },
          () => `initialized ${g.home}\nvalidator ${validator.address}`,
        );
      },
    );
}

/** The start options that set node config (the `flag` layer of resolveConfig); `config show` takes them too. */
export function addNodeConfigOptions(cmd: Command): Command {
  return cmd
    .option('--rpc-listen <host:port>', 'JSON-RPC listen address (default 127.0.0.1:8545; env TRIBUTARY_RPC_LISTEN)')
    .option('--block-interval <ms>', 'override the block interval for this node')
    .option('--log-level <level>', `${LOG_LEVELS.join(', ')}`)
    .option('--log-levels <list>', 'per component, e.g. consensus=debug,p2p=warn (env TRIBUTARY_LOG_LEVELS)')
    .option('--log-format <format>', 'json or pretty')
    .option(
      '--metrics <host:port>',
      'serve Prometheus /metrics there (default: off; on at 127.0.0.1:9464 with --devnet)',
    );
}

export interface NodeConfigFlags {
  rpcListen?: string;
  blockInterval?: string;
  logLevel?: string;
  logLevels?: string;
  logFormat?: string;
  metrics?: string;
}

/** The flags as a config layer, and the flag that set each path (named in errors). */
export function flagLayer(opts: NodeConfigFlags): { flags: ConfigLayer; flagNames: Map<string, string> } {
  const flags: ConfigLayer = {};
  const flagNames = new Map<string, string>();
  const section = (name: string) => (flags[name] ??= {}) as ConfigLayer;
  if (opts.rpcListen) {
    Object.assign(
      section('rpc'),
      parseHostPort(opts.rpcListen.replace(/^https?:\/\//, ''), '127.0.0.1', '--rpc-listen'),
    );
    flagNames.set('rpc.host', '--rpc-listen').set('rpc.port', '--rpc-listen');
  }
  if (opts.blockInterval !== undefined) {
    flags.blockIntervalMs = /^\d+$/.test(opts.blockInterval) ? Number(opts.blockInterval) : opts.blockInterval;
    flagNames.set('blockIntervalMs', '--block-interval');
  }
  if (opts.logLevel !== undefined) {
    section('log').level = opts.logLevel;
    flagNames.set('log.level', '--log-level');
  }
  if (opts.logFormat !== undefined) {
    section('log').format = opts.logFormat;
    flagNames.set('log.format', '--log-format');
  }
  if (opts.logLevels !== undefined) {
    const levels = Object.fromEntries(parseLogLevels(opts.logLevels, '--log-levels'));
    section('log').levels = levels;
    for (const name of Object.keys(levels)) flagNames.set(`log.levels.${name}`, '--log-levels');
  }
  if (opts.metrics) {
    Object.assign(section('metrics'), parseHostPort(opts.metrics, '127.0.0.1', '--metrics'), { enabled: true });
    for (const k of ['host', 'port', 'enabled']) flagNames.set(`metrics.${k}`, '--metrics');
  }
  return { flags, flagNames };
}

/** `start --rpc` once meant the listen address; the global --rpc names a client endpoint, so start refuses it. */
function refuseClientRpcOnStart(g: GlobalOptions): void {
  if (g.rpc !== undefined) {
    throw new TributaryError(
      'config/retired_name',
      '--rpc names the node client commands call; give start --rpc-listen HOST:PORT for the address it serves on',
      { name: '--rpc' },
    );
  }
}

export function addStartCommand(program: Command): void {
  const start = program
    .command('start')
    .description('run the node: produce blocks and serve JSON-RPC (SIGINT/SIGTERM: clean stop, exit 0)')
    .option('--devnet', 'initialize the home folder first if it is empty (validator key in the plaintext test keyring)')
    .addOption(
      keyringBackendOption('test: accept a validator key from the plaintext test keyring (implied by --devnet)'),
    )
    .addOption(passwordFileOption());
  addNodeConfigOptions(start).action(
    async (
      opts: NodeConfigFlags & { devnet?: boolean; keyringBackend?: KeyringBackend; passwordFile?: string },
      cmd: Command,
    ) => {
      const g = globals(cmd);
      refuseClientRpcOnStart(g);
      if (!isInitialized(g.home)) {
        if (!opts.devnet)
          throw new TributaryError(
            'home/not_initialized',
            `${g.home} has no genesis.json; run "tributary init" first (or start --devnet)`,
          );
        initHome(g.home, { protection: TEST_KEYRING });
      }
      const { config, ignoredEnv } = resolveConfig(g.home, flagLayer(opts));
      // The devnet's metrics are a convenience: at the default address if it is free, else none.
      const metricsBestEffort = opts.devnet === true && !config.metrics.enabled;
      if (metricsBestEffort) config.metrics.enabled = true;
      const logger = createLogger(config.log);
      const nodeLog = logger.child({ module: 'node' });
      if (ignoredEnv.length > 0) nodeLog.warn({ ignoredEnv }, 'environment variables that no setting reads (a typo?)');
      const backend = keyBackend(homePaths(g.home).keys, config.validatorKey);
      let password: string | undefined;
      if (backend === 'test') {
        // Like `geth --dev`: a plaintext key is fine for a devnet, and said so, never silently.
        if (!opts.devnet && opts.keyringBackend !== 'test') {
          throw new TributaryError(
            'keys/plaintext_refused',
            `the validator key "${config.validatorKey}" is in the plaintext test keyring; pass --keyring-backend test to run with it`,
          );
        }
        nodeLog.warn(
          { keyringBackend: 'test', key: config.validatorKey },
          'validator key is in the plaintext test keyring (devnet/test use only)',
        );
      } else if (backend === 'file') {
        password = await readPassword(opts, `the validator key "${config.validatorKey}"`);
      }
      const lifecycle = stopOnSignals(nodeLog);
      lifecycle.started(await startNode(g.home, config, logger, { password, metricsBestEffort }));
    },
  );
}

/** A clean stop that takes longer than this is abandoned (exit 1); the README states it. */
export const SHUTDOWN_BOUND_MS = 10_000;

/**
 * First SIGINT/SIGTERM: stop (RPC refuses new calls, the engine finishes or abandons its block,
 * LevelDB is flushed and closed), exit 0, or 1 past SHUTDOWN_BOUND_MS. A second signal exits at
 * once with 128 + the signal's number, as a shell reports a killed process: every block is
 * written in one synced batch, so stopping anywhere is as safe as a crash. Installed before the
 * node starts: a signal during start-up stops it as soon as it is up.
 */
function stopOnSignals(logger: Logger): { started(node: RunningNode): void } {
  let node: RunningNode | undefined;
  let signalled: { signal: NodeJS.Signals; at: number } | undefined;
  const stop = (running: RunningNode, at: number) => {
    running.stop().then(
      () => {
        logger.info({ ms: Math.round(performance.now() - at) }, 'clean stop');
        process.exit(0);
      },
      (e) => {
        logger.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: exiting without a clean stop');
      process.exit(128 + (osConstants.signals[signal] ?? 0));
    }
    signalled = { signal, at: performance.now() };
    logger.info({ signal, boundMs: SHUTDOWN_BOUND_MS }, 'shutting down');
    setTimeout(() => {
      logger.error({ boundMs: SHUTDOWN_BOUND_MS }, 'clean stop took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_BOUND_MS).unref();
    if (node) stop(node, signalled.at);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    started(running) {
      node = running;
      if (signalled) stop(running, signalled.at);
    },
  };
}

export function addVerifyCommand(program: Command): void {
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
}

async function runVerify(g: GlobalOptions): Promise<void> {
  const logger = toolLogger('verify');
  const source = await openHome(g.home, { keepVersions: 0, logger: logger.child({ module: 'state' }) });
  const scratchDir = mkdtempSync(join(tmpdir(), 'tributary-verify-'));
  try {
    const scratch = await LevelKvStore.open(scratchDir);
    const progress = await createProgress({
      label: 'verify',
      startHeight: 0,
      target: source.chain.latestHeight,
      logger,
    });
    const r = await replayChain(source, scratch, (h) => progress.update(h)).finally(() => scratch.close());
    progress.done(r.height);
    const broken = r.invariantsBroken;
    const result = {
      height: r.height,
      transactions: r.transactions,
      stateRoot: '0x' + toHex(r.stateRoot),
      matchesStoredState: r.matchesStoredState,
      invariantsBroken: broken,
      ok: r.matchesStoredState && broken.length === 0,
    };
    print(g, result, () =>
      result.ok
        ? `verified ${r.height} blocks and ${r.transactions} transactions from genesis; state root ${result.stateRoot}`
        : `VERIFY FAILED: root matches stored state: ${r.matchesStoredState}; broken invariants: ${broken.join('; ') || 'none'}`,
    );
    if (!result.ok) process.exitCode = 1;
  } finally {
    await source.db.close();
    rmSync(scratchDir, { recursive: true, force: true });
  }
}
