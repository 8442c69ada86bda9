import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cli, startNodeProcess, stopNodeProcess, tempHome, until } from '../helpers/process.ts';

/*
 * Progress of `verify` and `index rebuild` as a person and as a script see it: on a terminal
 * (util-linux `script` gives the CLI a pseudo-terminal) a bar is drawn; without one, JSON log
 * lines carry height, target, rate and ETA.
 */

const hasScript = spawnSync('script', ['--version']).status === 0;
const MIN_HEIGHT = 6;

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

function onTerminal(args: string[]): Promise<{ screen: string; status: number | null }> {
  const command = [CLI, ...args].map(shellQuote).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  child.stdout!.on('data', (c: Buffer) => (screen += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (screen += c.toString('utf8')));
  return new Promise((resolve) => child.once('exit', (status) => resolve({ screen, status })));
}

interface ProgressLine {
  module: string;
  msg: string;
  height: number;
  target: number;
  blocksPerSecond: number;
  etaS: number | null;
}

describe('progress of verify and index rebuild', () => {
  const home = tempHome('tributary-progress-');
  let height = 0;
  beforeAll(async () => {
    expect(cli(['--home', home, 'init', '--keyring-backend', 'test']).status).toBe(0);
    const node = await startNodeProcess(home);
    try {
      height = await until(async () => {
        const h = (await node.rpc.call<{ height: number }>('chain_status')).height;
        return h >= MIN_HEIGHT ? h : undefined;
      }, 60_000);
    } finally {
      expect(await stopNodeProcess(node)).toBe(0);
    }
  }, 120_000);
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it.skipIf(!hasScript)(
    'draws a bar on a terminal',
    async () => {
      const verify = await onTerminal(['--home', home, 'verify']);
      expect(verify.status).toBe(0);
      expect(verify.screen).toMatch(/verify \[[█░]+\] height \d+\/\d+ \| [\d.]+ blocks\/s \| ETA /);
      expect(verify.screen).toMatch(/verify \[█+\] height (\d+)\/\1 /); // full at the end
      expect(verify.screen).not.toContain('"msg":"verify"'); // a bar instead of log lines
      const rebuild = await onTerminal(['--home', home, 'index', 'rebuild']);
      expect(rebuild.status).toBe(0);
      expect(rebuild.screen).toMatch(/index rebuild \[█+\] height (\d+)\/\1 /);
    },
    120_000,
  );

  it('logs progress lines when stderr is not a terminal', () => {
    const r = spawnSync(CLI, ['--home', home, 'verify', '--json'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect((JSON.parse(r.stdout) as { ok: boolean }).ok).toBe(true);
    expect(r.stderr).not.toContain('█');
    const lines = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ProgressLine)
      .filter((l) => l.msg === 'verify');
    expect(lines.length).toBeGreaterThanOrEqual(2); // the first and the last at least
    expect(lines[0]).toMatchObject({ module: 'verify', height: 0 });
    const last = lines.at(-1)!;
    expect(last.target).toBeGreaterThanOrEqual(height);
    expect(last).toMatchObject({ module: 'verify', height: last.target, etaS: 0 });
    expect(last.blocksPerSecond).toBeGreaterThan(0);

    const rebuild = spawnSync(CLI, ['--home', home, 'index', 'rebuild', '--json'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(rebuild.status).toBe(0);
    const rebuildLast = rebuild.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ProgressLine)
      .filter((l) => l.msg === 'index rebuild')
      .at(-1);
    expect(rebuildLast).toMatchObject({ module: 'index', height: last.target });
  }, 120_000);
});
