import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { existsSync, rmSync } from 'node:fs';
import { CLI, startNodeProcess, stopNodeProcess, tempHome, until } from '../test/helpers/process.ts';

/*
 * `node bench/cli-latency.ts [runs]`: wall time of client commands against a running node, from
 * spawn to exit, as a person at a shell sees it (not run by tests; not part of `npm run bench`).
 * Prints wall median and p90 and CPU median (user + system, from GNU time) over `runs`
 * (default 20) per command, and the bare Node start-up for scale. Set TRIBUTARY_BENCH_ENV=NAME=VALUE,... to time the CLI under extra environment.
 */

const runs = Number(process.argv[2] ?? 20);
const extraEnv = Object.fromEntries(
  (process.env.TRIBUTARY_BENCH_ENV ?? '')
    .split(',')
    .filter((s) => s.includes('='))
    .map((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)]),
);

/** GNU time reports the child's CPU (user + system): far less disturbed than wall time on a loaded machine. */
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

function time(command: string, args: string[]): { wall: number[]; cpu: number[] } {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const [cmd, argv] = GNU_TIME ? [GNU_TIME, ['-f', 'cpu %U %S', command, ...args]] : [command, args];
    const t0 = performance.now();
    // The bench's own knob is not the CLI's: the node's config would report it as unknown.
    const { TRIBUTARY_BENCH_ENV: _knob, ...env } = process.env;
    const r = spawnSync(cmd, argv, { encoding: 'utf8', env: { ...env, ...extraEnv } });
    wall.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${r.stderr}`);
    const m = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
    if (m) cpu.push(1000 * (Number(m[1]) + Number(m[2])));
  }
  return { wall: wall.sort((a, b) => a - b), cpu: cpu.sort((a, b) => a - b) };
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

const home = tempHome('tributary-cli-latency-');
const init = spawnSync(CLI, ['--home', home, 'init', '--keyring-backend', 'test'], { encoding: 'utf8' });
if (init.status !== 0) throw new Error(init.stderr);
const node = await startNodeProcess(home);
try {
  await until(async () => ((await node.rpc.call<{ height: number }>('chain_status')).height > 0 ? true : undefined));
  const validator = JSON.parse(
    spawnSync(CLI, ['--home', home, 'keys', 'show', 'validator', '--json'], { encoding: 'utf8' }).stdout,
  ) as { address: string };
  console.log(
    `node ${process.version}, ${cpus().length} cores, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}, ${runs} runs each${Object.keys(extraEnv).length ? `, env ${JSON.stringify(extraEnv)}` : ''}`,
  );
  const cases: Array<[string, string, string[]]> = [
    ['node -e 0 (start-up alone)', process.execPath, ['-e', '0']],
    ['tributary status', CLI, ['--home', home, 'status']],
    ['tributary query block latest', CLI, ['--home', home, 'query', 'block', 'latest']],
    ['tributary query account ADDR', CLI, ['--home', home, 'query', 'account', validator.address]],
    ['tributary keys list (no RPC)', CLI, ['--home', home, 'keys', 'list']],
  ];
  console.log('| command | wall median ms | wall p90 ms | CPU median ms |\n|---|---:|---:|---:|');
  for (const [label, command, args] of cases) {
    const { wall, cpu } = time(command, args);
    const cpuText = cpu.length ? pct(cpu, 0.5).toFixed(0) : 'n/a';
    console.log(`| ${label} | ${pct(wall, 0.5).toFixed(0)} | ${pct(wall, 0.9).toFixed(0)} | ${cpuText} |`);
  }
} finally {
  await stopNodeProcess(node);
  rmSync(home, { recursive: true, force: true });
}
