import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { homePaths } from '../../src/config.ts';
import { CLI, tempHome } from '../helpers/process.ts';

describe('tributary config show', () => {
  const home = tempHome('tributary-config-show-');
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('prints the effective config with the layer of each value; an invalid file is refused naming the key', () => {
    writeFileSync(homePaths(home).config, JSON.stringify({ rpc: { maxBatch: 5 }, log: { level: 'warn' } }));
    const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      spawnSync(CLI, ['--home', home, 'config', 'show', ...args], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, ...env },
        timeout: 60_000,
      });
    const shown = run(['--json', '--log-level', 'debug'], { TRIBUTARY_RPC_LISTEN: '127.0.0.1:9100' });
    expect(shown.status).toBe(0);
    const out = JSON.parse(shown.stdout) as {
      file: string;
      config: { rpc: { port: number; maxBatch: number }; log: { level: string } };
      sources: Record<string, string>;
    };
    expect(out.file).toBe(homePaths(home).config);
    expect(out.config.rpc).toMatchObject({ port: 9100, maxBatch: 5 });
    expect(out.config.log.level).toBe('debug');
    expect(out.sources).toMatchObject({
      'rpc.port': 'env',
      'rpc.maxBatch': 'file',
      'log.level': 'flag',
      'log.format': 'default',
    });
    const human = run([]);
    expect(human.stdout).toMatch(/^rpc\.maxBatch\s+5\s+file$/m);
    expect(human.stdout).toMatch(/^rpc\.port\s+8545\s+default$/m);

    writeFileSync(homePaths(home).config, JSON.stringify({ rpc: { maxBatchSize: 5 } }));
    const refused = run([]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^error \[config\/unknown_key\]: .*"rpc\.maxBatchSize"/);

    // --rpc names the node a client calls; start wants --rpc-listen and says so.
    const start = spawnSync(CLI, ['--home', home, '--rpc', '127.0.0.1:1', 'start'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(start.status).toBe(1);
    expect(start.stderr).toMatch(/^error \[config\/retired_name\]: .*--rpc-listen/);
  }, 60_000);
});
