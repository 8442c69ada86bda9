import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { rpcUrl } from '../../src/cli/common.ts';
import { flagLayer } from '../../src/cli/node.ts';
import { DEFAULT_CONFIG, envName, homePaths, resolveConfig } from '../../src/config.ts';
import { isTributaryError } from '../../src/errors.ts';
import { writeRpcAddress } from '../../src/rpc-address.ts';
import { tempHome } from '../helpers/process.ts';

const homes: string[] = [];
const fresh = () => {
  const h = tempHome('tributary-config-');
  homes.push(h);
  return h;
};
afterEach(() => {
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

function writeConfig(home: string, value: unknown): void {
  writeFileSync(homePaths(home).config, JSON.stringify(value));
}

/** The code and the `key` detail of what `fn` throws. */
function refusal(fn: () => unknown): { code?: string; key?: unknown; message?: string } {
  try {
    fn();
  } catch (e) {
    if (!isTributaryError(e)) throw e;
    return { code: e.code, key: e.data?.key, message: e.message };
  }
  return {};
}

describe('node config: flags > env > file > defaults', () => {
  it('defaults: no file and no environment gives DEFAULT_CONFIG, every value from "default"', () => {
    const { config, sources, file } = resolveConfig(fresh(), { env: {} });
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(file).toBeUndefined();
    expect(new Set(Object.values(sources))).toEqual(new Set(['default']));
    expect(sources['rpc.port']).toBe('default');
  });

  it('file over defaults: only the keys it names', () => {
    const home = fresh();
    writeConfig(home, { rpc: { port: 9000 }, state: { keepVersions: 100 }, log: { levels: { consensus: 'debug' } } });
    const { config, sources, file } = resolveConfig(home, { env: {} });
    expect(file).toBe(homePaths(home).config);
    expect(config.rpc).toMatchObject({ host: '127.0.0.1', port: 9000 });
    expect(config.state.keepVersions).toBe(100);
    expect(config.log.levels).toEqual({ consensus: 'debug' });
    expect(sources).toMatchObject({
      'rpc.port': 'file',
      'rpc.host': 'default',
      'state.keepVersions': 'file',
      'log.levels.consensus': 'file',
    });
  });

  it('environment over file: TRIBUTARY_SECTION_KEY per leaf, and the listen and log-level shorthands', () => {
    const home = fresh();
    writeConfig(home, { rpc: { port: 9000, maxBatch: 5 }, p2p: { listen: ['/ip4/127.0.0.1/tcp/1'] } });
    expect(envName('rpc.maxBodyBytes')).toBe('TRIBUTARY_RPC_MAX_BODY_BYTES');
    const { config, sources } = resolveConfig(home, {
      env: {
        TRIBUTARY_RPC_LISTEN: '0.0.0.0:9100',
        TRIBUTARY_RPC_MAX_BATCH: '7',
        TRIBUTARY_P2P_LISTEN: '/ip4/0.0.0.0/tcp/2, /ip4/0.0.0.0/tcp/3',
        TRIBUTARY_P2P_ENABLED: 'true',
        TRIBUTARY_LOG_LEVELS: 'consensus=debug,p2p=warn',
      },
    });
    expect(config.rpc).toMatchObject({ host: '0.0.0.0', port: 9100, maxBatch: 7 });
    expect(config.p2p.listen).toEqual(['/ip4/0.0.0.0/tcp/2', '/ip4/0.0.0.0/tcp/3']);
    expect(config.p2p.enabled).toBe(true);
    expect(config.log.levels).toEqual({ consensus: 'debug', p2p: 'warn' });
    expect(sources).toMatchObject({ 'rpc.port': 'env', 'rpc.maxBatch': 'env', 'p2p.listen': 'env' });
  });

  it('a TRIBUTARY_ variable that no setting reads is reported, not silently taken', () => {
    const { config, ignoredEnv } = resolveConfig(fresh(), {
      env: { TRIBUTARY_RPC_PROT: '1', TRIBUTARY_HOME: '/h', TRIBUTARY_CLIENT_RPC: ':1', OTHER: 'x' },
    });
    expect(ignoredEnv).toEqual(['TRIBUTARY_RPC_PROT']);
    expect(config.rpc.port).toBe(DEFAULT_CONFIG.rpc.port);
  });

  it('flags over environment', () => {
    const home = fresh();
    writeConfig(home, { log: { level: 'warn' } });
    const { config, sources } = resolveConfig(home, {
      env: { TRIBUTARY_RPC_LISTEN: '0.0.0.0:9100', TRIBUTARY_LOG_LEVEL: 'error', TRIBUTARY_BLOCK_INTERVAL_MS: '900' },
      ...flagLayer({ rpcListen: '127.0.0.1:9200', logLevel: 'debug', blockInterval: '250' }),
    });
    expect(config.rpc).toMatchObject({ host: '127.0.0.1', port: 9200 });
    expect(config.log.level).toBe('debug');
    expect(config.blockIntervalMs).toBe(250);
    expect(sources).toMatchObject({ 'rpc.port': 'flag', 'log.level': 'flag', blockIntervalMs: 'flag' });
  });

  it('an invalid file is refused naming the key: unknown keys, wrong types, bad levels, unreadable JSON', () => {
    const home = fresh();
    writeConfig(home, { rpc: { prot: 9000 } });
    expect(refusal(() => resolveConfig(home, { env: {} }))).toMatchObject({
      code: 'config/unknown_key',
      key: 'rpc.prot',
    });
    writeConfig(home, { rpc: { port: '9000' } });
    expect(refusal(() => resolveConfig(home, { env: {} }))).toMatchObject({
      code: 'config/invalid_value',
      key: 'rpc.port',
    });
    writeConfig(home, { rpc: { port: 70000 } });
    expect(refusal(() => resolveConfig(home, { env: {} })).key).toBe('rpc.port');
    writeConfig(home, { p2p: { listen: '/ip4/0.0.0.0/tcp/1' } });
    expect(refusal(() => resolveConfig(home, { env: {} })).key).toBe('p2p.listen');
    writeConfig(home, { log: { levels: { consensus: 'loud' } } });
    expect(refusal(() => resolveConfig(home, { env: {} })).key).toBe('log.levels.consensus');
    writeConfig(home, { mempool: 5 });
    expect(refusal(() => resolveConfig(home, { env: {} })).key).toBe('mempool');
    writeConfig(home, { surprise: true });
    const unknown = refusal(() => resolveConfig(home, { env: {} }));
    expect(unknown).toMatchObject({ code: 'config/unknown_key', key: 'surprise' });
    expect(unknown.message).toContain(homePaths(home).config);
    writeFileSync(homePaths(home).config, '{not json');
    expect(refusal(() => resolveConfig(home, { env: {} })).code).toBe('config/invalid');
  });

  it('a bad environment value or flag names the variable or the flag', () => {
    const home = fresh();
    const env = refusal(() => resolveConfig(home, { env: { TRIBUTARY_RPC_MAX_BATCH: 'many' } }));
    expect(env).toMatchObject({ code: 'config/invalid_value', key: 'rpc.maxBatch' });
    expect(env.message).toContain('TRIBUTARY_RPC_MAX_BATCH');
    const flag = refusal(() => resolveConfig(home, { env: {}, ...flagLayer({ logLevel: 'loud' }) }));
    expect(flag).toMatchObject({ code: 'config/invalid_value', key: 'log.level' });
    expect(flag.message).toContain('--log-level');
  });

  it('TRIBUTARY_RPC, which meant both the listen and the client address, is refused naming both successors', () => {
    const retired = refusal(() => resolveConfig(fresh(), { env: { TRIBUTARY_RPC: '127.0.0.1:1' } }));
    expect(retired.code).toBe('config/retired_name');
    expect(retired.message).toContain('TRIBUTARY_RPC_LISTEN');
    expect(retired.message).toContain('TRIBUTARY_CLIENT_RPC');
  });
});

describe('client endpoint: --rpc > TRIBUTARY_CLIENT_RPC > the address recorded in --home > config', () => {
  it('takes each layer in turn, and ignores a record whose process is gone', () => {
    const home = fresh();
    writeConfig(home, { rpc: { host: '0.0.0.0', port: 9300 } });
    const g = { home, json: false };
    expect(rpcUrl(g, {})).toBe('http://127.0.0.1:9300'); // a wildcard listen address is dialled on loopback
    const gone = spawnSync('true').pid!; // a process that has exited
    writeRpcAddress(home, { host: '127.0.0.1', port: 9400 }, gone);
    expect(rpcUrl(g, {})).toBe('http://127.0.0.1:9300');
    writeRpcAddress(home, { host: '127.0.0.1', port: 9400 }); // this (live) process
    expect(rpcUrl(g, {})).toBe('http://127.0.0.1:9400');
    expect(rpcUrl(g, { TRIBUTARY_CLIENT_RPC: '127.0.0.1:9500' })).toBe('http://127.0.0.1:9500');
    expect(rpcUrl({ ...g, rpc: 'http://node.example:9600' }, { TRIBUTARY_CLIENT_RPC: '127.0.0.1:9500' })).toBe(
      'http://node.example:9600',
    );
    expect(refusal(() => rpcUrl(g, { TRIBUTARY_RPC: '127.0.0.1:1' })).code).toBe('config/retired_name');
  });
});
