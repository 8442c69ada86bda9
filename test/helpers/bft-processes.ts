import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prepareDevnet, type DevnetNode } from '../../scripts/devnet.ts';
import { homePaths } from '../../src/config.ts';
import { startNodeProcess, stopNodeProcess, tempHome, type NodeProcess } from './process.ts';

/*
 * A BFT devnet of real OS processes on loopback for the e2e tests: homes from the devnet script's
 * `prepareDevnet`, each node started with `tributary start` and driven over JSON-RPC.
 */

export interface BlockView {
  height: number;
  hash: string;
  stateRoot: string;
  proposer: string;
  txCount: number;
}

export class ProcessNetwork {
  readonly root: string;
  readonly specs: DevnetNode[];
  readonly procs: (NodeProcess | undefined)[];
  private readonly intervalMs: number;
  /** Log lines of every run of each node (a restarted node keeps its earlier lines). */
  readonly logs: string[][];

  private constructor(root: string, specs: DevnetNode[], intervalMs: number) {
    this.root = root;
    this.specs = specs;
    this.procs = specs.map(() => undefined);
    this.logs = specs.map(() => []);
    this.intervalMs = intervalMs;
  }

  static async create(opts: { validators: number; fullNodes: number; intervalMs: number }): Promise<ProcessNetwork> {
    const root = tempHome('tributary-bft-e2e-');
    const specs = await prepareDevnet(root, {
      validators: opts.validators,
      fullNodes: opts.fullNodes,
      blockIntervalMs: opts.intervalMs,
    });
    return new ProcessNetwork(root, specs, opts.intervalMs);
  }

  async start(i: number): Promise<NodeProcess> {
    const proc = await startNodeProcess(this.specs[i]!.home, ['--block-interval', String(this.intervalMs)]);
    // startNodeProcess collects lines into proc.logs; keep them across restarts.
    const all = this.logs[i]!;
    const seen = { n: 0 };
    const copy = () => {
      for (; seen.n < proc.logs.length; seen.n++) all.push(proc.logs[seen.n]!);
    };
    proc.child.stderr!.on('data', copy);
    proc.child.once('exit', copy);
    copy();
    this.procs[i] = proc;
    return proc;
  }

  async startAll(indexes: number[] = this.specs.map((_, i) => i)): Promise<void> {
    await Promise.all(indexes.map((i) => this.start(i)));
  }

  async kill(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.procs[i];
    if (!proc) return;
    await stopNodeProcess(proc, signal);
    this.procs[i] = undefined;
  }

  signal(i: number, signal: NodeJS.Signals): void {
    this.procs[i]?.child.kill(signal);
  }

  running(): number[] {
    return this.procs.flatMap((p, i) => (p ? [i] : []));
  }

  async height(i: number): Promise<number> {
    const status = await this.procs[i]!.rpc.call<{ height: number }>('chain_status');
    return status.height;
  }

  async heights(indexes: number[] = this.running()): Promise<number[]> {
    return Promise.all(indexes.map((i) => this.height(i)));
  }

  async block(i: number, height: number): Promise<BlockView | null> {
    return this.procs[i]!.rpc.call<BlockView | null>('chain_getBlock', [height]);
  }

  /** The signer's last signed position, read from its state file. */
  lastSigned(i: number): { height: number; round: number; step: string } | undefined {
    const path = join(homePaths(this.specs[i]!.home).data, 'signer-state.json');
    if (!existsSync(path)) return undefined;
    try {
      const file = JSON.parse(readFileSync(path, 'utf8')) as { height?: number; round?: number; step?: string };
      return file.height === undefined ? undefined : { height: file.height, round: file.round!, step: file.step! };
    } catch {
      return undefined; // mid-rename
    }
  }

  /** Lines of every node's log whose message is `msg`. */
  logLines(msg: string): { node: number; entry: Record<string, unknown> }[] {
    const out: { node: number; entry: Record<string, unknown> }[] = [];
    this.logs.forEach((lines, node) => {
      for (const line of lines) {
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          if (entry.msg === msg) out.push({ node, entry });
        } catch {
          // not JSON
        }
      }
    });
    return out;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.procs.map((p, i) => (p ? this.kill(i, 'SIGKILL') : undefined)));
    if (process.env.BFT_E2E_KEEP) {
      // Debugging: keep the homes and write each node's log beside them.
      this.logs.forEach((lines, i) => {
        writeFileSync(join(this.root, `${this.specs[i]!.name}.log`), lines.join('\n') + '\n');
      });
      console.log(`kept ${this.root}`);
      return;
    }
    rmSync(this.root, { recursive: true, force: true });
  }

  /** Header hash and state root of every height 1..upTo on node i. */
  async chainOf(i: number, upTo: number): Promise<string[]> {
    const out: string[] = [];
    for (let h = 1; h <= upTo; h++) {
      const b = await this.block(i, h);
      out.push(b ? `${b.hash}/${b.stateRoot}` : 'missing');
    }
    return out;
  }
}

export async function waitUntil(
  cond: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
  stepMs = 100,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await cond().catch(() => false)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
