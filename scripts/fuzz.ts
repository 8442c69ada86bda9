import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { codecTarget } from './fuzz/codec-target.ts';
import { gossipTarget } from './fuzz/gossip-target.ts';
import { runTarget, type FuzzTarget, type TargetReport } from './fuzz/harness.ts';
import { framesTarget, syncTarget } from './fuzz/p2p-target.ts';
import { rpcTarget } from './fuzz/rpc-target.ts';
import { txTarget } from './fuzz/tx-target.ts';

/*
 * `npm run fuzz`: structure-aware fuzzing of what the node reads from outside (transactions, the
 * canonical codec of every message, JSON-RPC requests, p2p frames, sync messages and BFT gossip:
 * proposals, votes, evidence, transaction batches). Seeded and reproducible: the seed is printed;
 * `--seed S` replays a run, `--seed S --target T --index I` one input of it. A finding prints its input in hex and the run exits 1.
 *
 *   npm run fuzz -- [--inputs N (total, split by target weight; default 100000)] [--seed S]
 *                   [--target decodeTx|codec|rpc|frames|sync|gossip (repeatable)] [--index I]
 */

export function fuzzTargets(): FuzzTarget[] {
  return [txTarget(), codecTarget(), rpcTarget(), framesTarget(), syncTarget(), gossipTarget()];
}

/** Inputs per target for a total, by weight (the remainder to the first). */
export function splitInputs(targets: readonly FuzzTarget[], total: number): number[] {
  const weight = targets.reduce((w, t) => w + t.weight, 0);
  const counts = targets.map((t) => Math.floor((total * t.weight) / weight));
  counts[0]! += total - counts.reduce((a, b) => a + b, 0);
  return counts;
}

function line(r: TargetReport): string {
  const rate = r.inputs / (r.ms / 1000);
  const top = Object.entries(r.outcomes)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return `${r.target.padEnd(9)} ${String(r.inputs).padStart(8)} inputs  ${(r.ms / 1000).toFixed(1).padStart(6)} s  ${Math.round(rate).toString().padStart(6)}/s  crashes ${r.crashes}  non-coded ${r.uncoded}  other findings ${r.otherFindings}  (${top})`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      inputs: { type: 'string', default: '100000' },
      seed: { type: 'string' },
      target: { type: 'string', multiple: true },
      index: { type: 'string' },
    },
  });
  const seed = values.seed ?? randomBytes(8).toString('hex');
  const all = fuzzTargets();
  const names = values.target ?? all.map((t) => t.name);
  const unknown = names.filter((n) => !all.some((t) => t.name === n));
  if (unknown.length > 0) {
    console.error(`unknown target ${unknown.join(', ')}; targets: ${all.map((t) => t.name).join(', ')}`);
    return 2;
  }
  const targets = all.filter((t) => names.includes(t.name));
  const total = Number(values.inputs);
  if (!Number.isSafeInteger(total) || total < 1) {
    console.error('--inputs must be a positive integer');
    return 2;
  }
  const index = values.index === undefined ? undefined : Number(values.index);
  const counts = index === undefined ? splitInputs(targets, total) : targets.map(() => 1);
  console.log(
    `fuzz seed ${seed} (replay: npm run fuzz -- --seed ${seed} --inputs ${total}${values.target ? values.target.map((t) => ` --target ${t}`).join('') : ''})`,
  );
  const reports: TargetReport[] = [];
  for (const [i, target] of targets.entries()) {
    const report = await runTarget(target, {
      seed,
      inputs: counts[i]!,
      firstIndex: index ?? 0,
      onProgress: (done) => {
        if (done % 100_000 === 0) console.log(`  ${target.name}: ${done} / ${counts[i]}`);
      },
    });
    reports.push(report);
    console.log(line(report));
    for (const f of report.findings) {
      console.log(`  FINDING ${f.kind} in ${f.target} at --index ${f.index}: ${f.detail}`);
      console.log(`    input (hex): ${f.inputHex}`);
    }
  }
  const sum = (k: 'inputs' | 'crashes' | 'uncoded' | 'otherFindings') => reports.reduce((n, r) => n + r[k], 0);
  const ms = reports.reduce((n, r) => n + r.ms, 0);
  console.log(
    `total     ${String(sum('inputs')).padStart(8)} inputs  ${(ms / 1000).toFixed(1).padStart(6)} s  ${Math.round(
      sum('inputs') / (ms / 1000),
    )
      .toString()
      .padStart(
        6,
      )}/s  crashes ${sum('crashes')}  non-coded ${sum('uncoded')}  other findings ${sum('otherFindings')}  seed ${seed}`,
  );
  return sum('crashes') + sum('uncoded') + sum('otherFindings') === 0 ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main();
}
