import { parseArgs } from 'node:util';
import { randomSeed } from './chaos/prng.ts';
import { DEFAULT_OPTIONS, formatReport, runChaos } from './chaos/runner.ts';
import { BftNetworkTarget, SoloNodeTarget, type ChaosTarget } from './chaos/target.ts';

/*
 * `npm run chaos [-- options]`: SIGKILL, SIGSTOP/SIGCONT and SIGTERM a node at random while
 * transfers stream, then print what survived and what was lost. `--network` runs it against a
 * local BFT network of 4 validator processes (one node perturbed at a time, so it keeps finalizing). Not part of `npm test`
 * (test/sim/chaos-short.test.ts runs a short one there). Exits 1 on any finding.
 */

const NETWORK_BLOCK_INTERVAL_MS = 500;

const USAGE = `usage: npm run chaos -- [options]
  --perturbations N     perturbations to apply (default ${DEFAULT_OPTIONS.perturbations}, a few minutes)
  --seed N              PRNG seed for the schedule (default: random, printed)
  --network             a BFT network of 4 validators (each its own process and home) instead of one node
  --full-nodes N        with --network: full nodes beside the validators (default 0), perturbed too
  --block-interval MS   the nodes' block interval (default ${DEFAULT_OPTIONS.blockIntervalMs}, ${NETWORK_BLOCK_INTERVAL_MS} with --network)
  --senders N           accounts streaming transfers (default ${DEFAULT_OPTIONS.senders})
  --window N            transfers each sender keeps in flight (default ${DEFAULT_OPTIONS.window})
  --home DIR            node home, with --network the folder of the homes (must not exist yet or
                        be empty; default: a temp dir)
  --keep                keep the temp home(s) at the end
  --json                print the report as JSON on stdout (progress goes to stderr)`;

function positiveInt(name: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) {
    console.error(`--${name} must be an integer >= ${min}, got "${text}"\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

function parseOptions() {
  try {
    return parseArgs({
      options: {
        perturbations: { type: 'string' },
        seed: { type: 'string' },
        network: { type: 'boolean' },
        'full-nodes': { type: 'string' },
        'block-interval': { type: 'string' },
        senders: { type: 'string' },
        window: { type: 'string' },
        home: { type: 'string' },
        keep: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const values = parseOptions();
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const seed = positiveInt('seed', values.seed, randomSeed(), 0);
  const network = values.network ?? false;
  const blockIntervalMs = positiveInt(
    'block-interval',
    values['block-interval'],
    network ? NETWORK_BLOCK_INTERVAL_MS : DEFAULT_OPTIONS.blockIntervalMs,
    10,
  );
  const fullNodes = positiveInt('full-nodes', values['full-nodes'], 0, 0);
  if (fullNodes > 0 && !network) {
    console.error(`--full-nodes needs --network\n${USAGE}`);
    process.exit(2);
  }
  const perturbations = positiveInt('perturbations', values.perturbations, DEFAULT_OPTIONS.perturbations, 0);
  const senders = positiveInt('senders', values.senders, DEFAULT_OPTIONS.senders);
  const window = positiveInt('window', values.window, DEFAULT_OPTIONS.window);
  // Created after every option is checked: the target makes its temp home at once.
  const target: ChaosTarget = network
    ? new BftNetworkTarget({ dir: values.home, keep: values.keep, blockIntervalMs, fullNodes })
    : new SoloNodeTarget({ home: values.home, keep: values.keep, blockIntervalMs });
  const log = (line: string) => console.error(`[chaos] ${line}`);
  let exitCode = 1;
  try {
    const report = await runChaos({
      ...DEFAULT_OPTIONS,
      target,
      seed,
      blockIntervalMs,
      perturbations,
      senders,
      window,
      log,
    });
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else {
      console.log(formatReport(report));
      for (const f of report.findings) console.log(`finding: ${f}`);
    }
    if (values.keep || values.home) log(`home kept: ${target.homes().join(', ')}`);
    exitCode = report.ok ? 0 : 1;
  } finally {
    await target.dispose();
  }
  process.exitCode = exitCode;
}

await main();
