import type { Command } from 'commander';
import { resolveConfig } from '../config.ts';
import { globals, print } from './common.ts';
import { addNodeConfigOptions, flagLayer, type NodeConfigFlags } from './node.ts';

/*
 * `tributary config show`: the config `start` would run with (given the same home, environment
 * and flags), each value beside the layer that set it: default, file, env or flag.
 */

function leafValues(node: unknown, prefix = ''): Array<[string, unknown]> {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return [[prefix.slice(0, -1), node]];
  return Object.entries(node).flatMap(([k, v]) => leafValues(v, `${prefix}${k}.`));
}

export function registerConfigCommand(program: Command): void {
  const config = program.command('config').description('the node configuration (flags > env > config file > defaults)');
  const show = config
    .command('show')
    .description('print the effective node config and where each value came from (takes the flags of start)');
  addNodeConfigOptions(show).action((opts: NodeConfigFlags, cmd: Command) => {
    const g = globals(cmd);
    const resolved = resolveConfig(g.home, flagLayer(opts));
    const out = {
      file: resolved.file ?? null,
      config: resolved.config,
      sources: resolved.sources,
      ignoredEnv: resolved.ignoredEnv,
    };
    print(g, out, () => {
      const rows = leafValues(resolved.config).map(([path, value]) => [
        path,
        JSON.stringify(value),
        resolved.sources[path] ?? 'default',
      ]);
      const width = (i: number) => Math.max(...rows.map((r) => r[i]!.length));
      const [w0, w1] = [width(0), width(1)];
      const lines = rows.map(([p, v, s]) => `${p!.padEnd(w0)}  ${v!.padEnd(w1)}  ${s}`);
      const ignored = resolved.ignoredEnv.length
        ? [`ignored (no setting reads them): ${resolved.ignoredEnv.join(', ')}`]
        : [];
      return [`config file: ${resolved.file ?? '(none)'}`, ...lines, ...ignored].join('\n');
    });
  });
}
