import type { Command } from 'commander';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { homePaths, loadConfig, parseHostPort, type NodeConfig } from '../config.ts';
import { toHex } from '../crypto/hash.ts';
import { TributaryError } from '../errors.ts';
import { initHome, isInitialized } from '../home.ts';
import { keyBackend, type KeyringBackend, TEST_KEYRING } from '../keys.ts';
import { createLogger } from '../logger.ts';
import { openHome, replayChain, startNode } from '../node.ts';
import { parseAmount } from '../state/math.ts';
import { LevelKvStore } from '../storage/db.ts';
import { globals, print, type GlobalOptions } from './common.ts';
import { keyringBackendOption, passwordFileOption, protectionFor } from './keys.ts';
import { readPassword } from './password.ts';

/* Commands that work on the home folder and the node itself: init, start, verify. */

/** pino's levels: anything else (flag, TRIBUTARY_LOG_LEVEL or config file) is refused before the node opens. */
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

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

export function addStartCommand(program: Command): void {
  program
    .command('start')
    .description('run the node: produce blocks and serve JSON-RPC')
    .option('--rpc-listen <host:port>', 'JSON-RPC listen address (default 127.0.0.1:8545)')
    .option('--devnet', 'initialize the home folder first if it is empty (validator key in the plaintext test keyring)')
    .addOption(
      keyringBackendOption('test: accept a validator key from the plaintext test keyring (implied by --devnet)'),
    )
    .addOption(passwordFileOption())
    .option('--block-interval <ms>', 'override the block interval for this node')
    .option('--log-level <level>', 'trace, debug, info, warn, error')
    .option('--log-format <format>', 'json or pretty')
    .option(
      '--metrics <host:port>',
      'serve Prometheus /metrics there (default: off; on at 127.0.0.1:9464 with --devnet)',
    )
    .action(
      async (
        opts: {
          rpcListen?: string;
          devnet?: boolean;
          blockInterval?: string;
          logLevel?: string;
          logFormat?: string;
          metrics?: string;
          keyringBackend?: KeyringBackend;
          passwordFile?: string;
        },
        cmd: Command,
      ) => {
        const g = globals(cmd);
        if (!isInitialized(g.home)) {
          if (!opts.devnet)
            throw new TributaryError(
              'home/not_initialized',
              `${g.home} has no genesis.json; run "tributary init" first (or start --devnet)`,
            );
          initHome(g.home, { protection: TEST_KEYRING });
        }
        const config: NodeConfig = loadConfig(g.home);
        // `start --rpc HOST:PORT` is accepted as the listen address too (the global --rpc names a client endpoint).
        const listen = opts.rpcListen ?? g.rpc;
        if (listen) Object.assign(config.rpc, parseHostPort(listen.replace(/^https?:\/\//, '')));
        if (opts.blockInterval) config.blockIntervalMs = Number(parseAmount(opts.blockInterval, 'block interval'));
        if (opts.metrics) Object.assign(config.metrics, parseHostPort(opts.metrics), { enabled: true });
        // The devnet's metrics are a convenience: at the default address if it is free, else none.
        const metricsBestEffort = opts.devnet === true && !config.metrics.enabled;
        if (metricsBestEffort) config.metrics.enabled = true;
        if (opts.logLevel) config.log.level = opts.logLevel;
        if (opts.logFormat === 'pretty' || opts.logFormat === 'json') config.log.format = opts.logFormat;
        if (!LOG_LEVELS.includes(config.log.level)) {
          throw new TributaryError(
            'config/invalid',
            `log level "${config.log.level}" is not one of ${LOG_LEVELS.join(', ')}`,
          );
        }
        const logger = createLogger(config.log);
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
          logger.warn(
            { keyringBackend: 'test', key: config.validatorKey },
            'validator key is in the plaintext test keyring (devnet/test use only)',
          );
        } else if (backend === 'file') {
          password = await readPassword(opts, `the validator key "${config.validatorKey}"`);
        }
        const node = await startNode(g.home, config, logger, { password, metricsBestEffort });
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
      },
    );
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
  const logger = createLogger({ level: 'warn', format: 'json' });
  const source = await openHome(g.home, { keepVersions: 0, logger });
  const scratchDir = mkdtempSync(join(tmpdir(), 'tributary-verify-'));
  try {
    const scratch = await LevelKvStore.open(scratchDir);
    const r = await replayChain(source, scratch).finally(() => scratch.close());
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
