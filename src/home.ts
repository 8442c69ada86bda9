import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { DEFAULT_CONFIG, homePaths } from './config.ts';
import { TributaryError } from './errors.ts';
import { parseGenesis, type GenesisJson } from './genesis.ts';
import { createKey, type KeyInfo, type KeyProtection, readKeyInfo } from './keys.ts';

export type HomeErrorCode = 'home/exists' | 'home/not_initialized';

/** The repository's genesis.json: the devnet template that `init` completes with a fresh validator. */
export const GENESIS_TEMPLATE = new URL('../genesis.json', import.meta.url);

interface GenesisTemplate extends GenesisJson {
  devnet?: { validatorPower?: number; validatorBalance?: string };
}

/**
 * What `init` writes to config.json: the settings an operator usually changes, at their defaults.
 * The rest stay defaults (so `config show` says "default" for them and a newer default applies);
 * `tributary config show` lists every setting.
 */
export function initialConfig() {
  const d = DEFAULT_CONFIG;
  return {
    rpc: { host: d.rpc.host, port: d.rpc.port },
    log: { level: d.log.level, format: d.log.format, levels: {} },
    p2p: { listen: d.p2p.listen, bootstrap: d.p2p.bootstrap },
    metrics: d.metrics,
    validatorKey: d.validatorKey,
  };
}

export function isInitialized(home: string): boolean {
  return existsSync(homePaths(home).genesis);
}

/**
 * Creates `<home>` with config.json, keys/validator.json and a genesis.json in which the new key is
 * the only validator and holds the devnet allocation. `protection` says how the validator key is
 * stored (encrypted with a password, or the plaintext test keyring); an existing key is kept.
 */
export function initHome(
  home: string,
  opts: { chainId?: string; nowMs?: number; protection: KeyProtection },
): { validator: KeyInfo; genesisPath: string } {
  const paths = homePaths(home);
  if (existsSync(paths.genesis)) throw new TributaryError('home/exists', `${paths.home} is already initialized`);
  mkdirSync(paths.home, { recursive: true, mode: 0o700 });
  const template = JSON.parse(readFileSync(GENESIS_TEMPLATE, 'utf8')) as GenesisTemplate;
  const validatorName = DEFAULT_CONFIG.validatorKey;
  const validator = existsSync(`${paths.keys}/${validatorName}.json`)
    ? readKeyInfo(paths.keys, validatorName)
    : createKey(paths.keys, validatorName, opts.protection);
  const { devnet, ...rest } = template;
  const genesis: GenesisJson = {
    ...rest,
    chainId: opts.chainId ?? template.chainId,
    genesisTimeMs: opts.nowMs ?? Date.now(),
    validators: [{ name: validatorName, publicKey: validator.publicKey, power: devnet?.validatorPower ?? 1 }],
    accounts: [...(template.accounts ?? []), { address: validator.address, balance: devnet?.validatorBalance ?? '0' }],
  };
  parseGenesis(genesis); // refuse to write a genesis the node would not start from
  writeFileSync(paths.genesis, JSON.stringify(genesis, null, 2) + '\n');
  if (!existsSync(paths.config)) writeFileSync(paths.config, JSON.stringify(initialConfig(), null, 2) + '\n');
  return { validator, genesisPath: paths.genesis };
}
