import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareDevnet } from '../devnet.ts';

/**
 * What the chaos runner perturbs. The runner knows nodes only by index and reaches them only over
 * JSON-RPC: one node (`SoloNodeTarget`) or a local BFT network (`BftNetworkTarget`: one home and
 * one process per node, the same signals per node) are the same to it.
 */
export interface ChaosTarget {
  readonly label: string;
  readonly nodeCount: number;
  /** Creates the chain, with `accounts` funded in its genesis, and starts every node. */
  setup(accounts: GenesisAccount[]): Promise<void>;
  /** The RPC endpoint of a node while its process is up (ports change across restarts), else undefined. */
  rpcUrl(node: number): string | undefined;
  /** Endpoints of the nodes that are up and not paused. */
  rpcUrls(): string[];
  /** SIGKILL; resolves once the process is gone. */
  kill(node: number): Promise<void>;
  /** SIGSTOP: the process keeps its sockets and answers nothing. */
  pause(node: number): void;
  /** SIGCONT. */
  resume(node: number): void;
  /** SIGTERM; resolves once the process exits (after a grace period, SIGKILL, reported as not graceful). */
  terminate(node: number): Promise<{ graceful: boolean; exitCode: number | null }>;
  /** Starts a node that is down; resolves once it serves RPC. */
  start(node: number): Promise<void>;
  /** Stops every node gracefully and replays each one's chain from genesis (`tributary verify`). */
  finish(): Promise<VerifyOutcome[]>;
  /** Kills whatever still runs and removes temporary homes unless asked to keep them. */
  dispose(): Promise<void>;
  /** Exits nobody asked for, with the last log lines of the process. */
  readonly unexpectedExits: UnexpectedExit[];
  /** Log lines at level error or above over every process of every node, counted by message. */
  errorLogs(): Record<string, number>;
  /** Where each node's home is (printed, and kept with --keep). */
  homes(): string[];
}

export interface GenesisAccount {
  address: string;
  balance: string;
}

export interface VerifyOutcome {
  node: number;
  ok: boolean;
  height: number | null;
  transactions: number | null;
  stateRoot: string | null;
  matchesStoredState: boolean | null;
  invariantsBroken: string[];
  /** Set when verify did not produce its JSON (it crashed or refused the home). */
  error?: string;
}

export interface UnexpectedExit {
  node: number;
  code: number | null;
  signal: string | null;
  lastLogs: string[];
}

const CLI = fileURLToPath(new URL('../../bin/tributary', import.meta.url));
const STARTUP_TIMEOUT_MS = 60_000;
const TERMINATE_GRACE_MS = 30_000;
const KEPT_LOG_LINES = 40;
const PINO_ERROR_LEVEL = 50;

/** Runs the CLI to completion without blocking the event loop (senders and probes keep running). */
export function runCli(args: string[]): Promise<{ stdout: string; stderr: string; status: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(CLI, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (status) => resolve({ stdout, stderr, status }));
  });
}

/** One `tributary start` process: its endpoint once started, its last log lines, its exit. */
class NodeProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  readonly lastLogs: string[] = [];
  url: string | undefined;
  paused = false;
  /** Set before every signal we send, so that its exit is not counted as a crash. */
  exitExpected = false;
  /** Error-level log lines by message (with the error's code when it has one). */
  readonly errors: Map<string, number>;

  constructor(
    args: string[],
    errors: Map<string, number>,
    onUnexpectedExit: (code: number | null, signal: string | null, lastLogs: string[]) => void,
  ) {
    this.errors = errors;
    this.child = spawn(CLI, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.url = undefined;
        if (!this.exitExpected) onUnexpectedExit(code, signal, [...this.lastLogs]);
        resolve();
      });
    });
  }

  /** Resolves with the RPC URL from the "node started" log line. */
  started(): Promise<string> {
    return new Promise((resolve, reject) => {
      let buffer = '';
      const timer = setTimeout(
        () => reject(new Error(`node did not start in ${STARTUP_TIMEOUT_MS} ms:\n${this.lastLogs.join('\n')}`)),
        STARTUP_TIMEOUT_MS,
      );
      // The pipe is read for the whole life of the process: a full pipe would block the node's logger.
      this.child.stderr!.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          this.lastLogs.push(line);
          if (this.lastLogs.length > KEPT_LOG_LINES) this.lastLogs.shift();
          let entry: { msg?: string; rpc?: string; level?: number; err?: { code?: string; message?: string } };
          try {
            entry = JSON.parse(line) as typeof entry;
          } catch {
            continue; // not a JSON log line (a stack trace, a runtime warning)
          }
          if (typeof entry.level === 'number' && entry.level >= PINO_ERROR_LEVEL) {
            const what = `${entry.msg ?? '?'}${entry.err ? `: ${entry.err.code ?? entry.err.message ?? ''}` : ''}`;
            this.errors.set(what, (this.errors.get(what) ?? 0) + 1);
          }
          if (entry.msg === 'node started' && entry.rpc && this.url === undefined) {
            clearTimeout(timer);
            this.url = entry.rpc;
            resolve(entry.rpc);
          }
        }
      });
      this.child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`node exited (${code ?? signal}) before it started:\n${this.lastLogs.join('\n')}`));
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL; resolves once the process is gone. */
  async kill(): Promise<void> {
    this.exitExpected = true;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  pause(): void {
    this.child.kill('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    this.child.kill('SIGCONT');
    this.paused = false;
  }
}

/** SIGTERM, then SIGKILL if the process has not exited within the grace period. */
async function terminateProcess(p: NodeProcess): Promise<{ graceful: boolean; exitCode: number | null }> {
  p.exitExpected = true;
  p.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([
    p.exited.then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), TERMINATE_GRACE_MS))),
  ]);
  clearTimeout(timer);
  if (!inTime) {
    p.child.kill('SIGKILL');
    await p.exited;
    return { graceful: false, exitCode: null };
  }
  return { graceful: p.child.exitCode === 0, exitCode: p.child.exitCode };
}

/** The signals every target sends the same way, to whichever process runs node `index`. */
abstract class ProcessTarget {
  /** The process of node `index`; throws if it is not running. */
  protected abstract running(index: number): NodeProcess;

  kill(index: number): Promise<void> {
    return this.running(index).kill();
  }

  pause(index: number): void {
    this.running(index).pause();
  }

  resume(index: number): void {
    this.running(index).resume();
  }

  terminate(index: number): Promise<{ graceful: boolean; exitCode: number | null }> {
    return terminateProcess(this.running(index));
  }
}

/** One validator in one home: `tributary init`, funded senders added to genesis before the first start. */
export class SoloNodeTarget extends ProcessTarget implements ChaosTarget {
  readonly label = 'single validator';
  readonly nodeCount = 1;
  readonly unexpectedExits: UnexpectedExit[] = [];
  private readonly home: string;
  private readonly ownsHome: boolean;
  private readonly keep: boolean;
  private readonly blockIntervalMs: number;
  private process: NodeProcess | undefined;
  private readonly errors = new Map<string, number>();

  constructor(opts: { home?: string; keep?: boolean; blockIntervalMs: number }) {
    super();
    this.ownsHome = opts.home === undefined;
    this.home = opts.home ?? mkdtempSync(join(tmpdir(), 'tributary-chaos-'));
    this.keep = opts.keep ?? false;
    this.blockIntervalMs = opts.blockIntervalMs;
  }

  homes(): string[] {
    return [this.home];
  }

  /** What the node process printed last (for a failing test's report). */
  lastLogLines(): string[] {
    return [...(this.process?.lastLogs ?? [])];
  }

  async setup(accounts: GenesisAccount[]): Promise<void> {
    const init = await runCli(['--home', this.home, 'init', '--keyring-backend', 'test', '--json']);
    if (init.status !== 0) throw new Error(`tributary init failed (${init.status}): ${init.stderr}`);
    // Before the first start: a genesis edited afterwards is refused with node/genesis_mismatch.
    const genesisPath = join(this.home, 'genesis.json');
    const genesis = JSON.parse(readFileSync(genesisPath, 'utf8')) as { accounts: GenesisAccount[] };
    genesis.accounts.push(...accounts);
    writeFileSync(genesisPath, JSON.stringify(genesis, null, 2) + '\n');
    await this.start(0);
  }

  private node(index: number): void {
    if (index !== 0) throw new Error(`node ${index} does not exist (single validator)`);
  }

  rpcUrl(index: number): string | undefined {
    this.node(index);
    return this.process?.running ? this.process.url : undefined;
  }

  rpcUrls(): string[] {
    const url = this.rpcUrl(0);
    return url && !this.process!.paused ? [url] : [];
  }

  async start(index: number): Promise<void> {
    this.node(index);
    if (this.process?.running) throw new Error('node 0 is already running');
    const args = [
      '--home',
      this.home,
      'start',
      '--keyring-backend',
      'test',
      '--rpc-listen',
      '127.0.0.1:0',
      '--block-interval',
      String(this.blockIntervalMs),
    ];
    this.process = new NodeProcess(args, this.errors, (code, signal, lastLogs) =>
      this.unexpectedExits.push({ node: 0, code, signal, lastLogs }),
    );
    await this.process.started();
  }

  protected running(index: number): NodeProcess {
    this.node(index);
    if (!this.process?.running) throw new Error(`node ${index} is not running`);
    return this.process;
  }

  async finish(): Promise<VerifyOutcome[]> {
    if (this.process?.running) {
      if (this.process.paused) this.resume(0);
      const stopped = await this.terminate(0);
      if (!stopped.graceful)
        this.unexpectedExits.push({
          node: 0,
          code: stopped.exitCode,
          signal: 'SIGTERM (not graceful)',
          lastLogs: [...this.process.lastLogs],
        });
    }
    return [await verifyHome(0, this.home)];
  }

  errorLogs(): Record<string, number> {
    return Object.fromEntries([...this.errors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  async dispose(): Promise<void> {
    if (this.process?.running) {
      this.process.exitExpected = true;
      this.process.child.kill('SIGKILL');
      await this.process.exited;
    }
    if (this.ownsHome && !this.keep) rmSync(this.home, { recursive: true, force: true });
  }
}

/** `tributary verify --json` on a stopped node's home. */
export async function verifyHome(node: number, home: string): Promise<VerifyOutcome> {
  const r = await runCli(['--home', home, 'verify', '--json']);
  try {
    const v = JSON.parse(r.stdout) as {
      ok: boolean;
      height: number;
      transactions: number;
      stateRoot: string;
      matchesStoredState: boolean;
      invariantsBroken: string[];
    };
    return {
      node,
      ok: v.ok && r.status === 0,
      height: v.height,
      transactions: v.transactions,
      stateRoot: v.stateRoot,
      matchesStoredState: v.matchesStoredState,
      invariantsBroken: v.invariantsBroken,
    };
  } catch {
    return {
      node,
      ok: false,
      height: null,
      transactions: null,
      stateRoot: null,
      matchesStoredState: null,
      invariantsBroken: [],
      error: `verify exited ${r.status}: ${r.stderr.trim()}`,
    };
  }
}

/**
 * A local BFT network: `validators` validators (4 by default, so one may be down: f = 1) and
 * `fullNodes` full nodes, each a `tributary start` process in its own home, libp2p on loopback.
 * The homes, the genesis listing every validator, and each config's listen port, bootstrap list
 * and allow-list come from the devnet script's `prepareDevnet`; RPC ports are fixed in each
 * config (below the ephemeral range), so a node's URL is the same across restarts.
 */
export class BftNetworkTarget extends ProcessTarget implements ChaosTarget {
  readonly label: string;
  readonly nodeCount: number;
  readonly unexpectedExits: UnexpectedExit[] = [];
  private readonly root: string;
  private readonly ownsRoot: boolean;
  private readonly keep: boolean;
  private readonly blockIntervalMs: number;
  private readonly validators: number;
  private readonly fullNodes: number;
  private nodeHomes: string[] = [];
  private readonly processes: (NodeProcess | undefined)[];
  private readonly errors = new Map<string, number>();

  constructor(opts: {
    dir?: string;
    keep?: boolean;
    blockIntervalMs: number;
    validators?: number;
    fullNodes?: number;
  }) {
    super();
    this.validators = opts.validators ?? 4;
    this.fullNodes = opts.fullNodes ?? 0;
    this.nodeCount = this.validators + this.fullNodes;
    this.label = `BFT network of ${this.validators} validators${this.fullNodes ? ` and ${this.fullNodes} full node${this.fullNodes > 1 ? 's' : ''}` : ''}`;
    this.ownsRoot = opts.dir === undefined;
    this.root = opts.dir ?? mkdtempSync(join(tmpdir(), 'tributary-chaos-bft-'));
    this.keep = opts.keep ?? false;
    this.blockIntervalMs = opts.blockIntervalMs;
    this.processes = Array.from({ length: this.nodeCount }, () => undefined);
  }

  homes(): string[] {
    return [...this.nodeHomes];
  }

  /** What each node's process printed last (for a failing test's report). */
  lastLogLines(): string[][] {
    return this.processes.map((p) => [...(p?.lastLogs ?? [])]);
  }

  async setup(accounts: GenesisAccount[]): Promise<void> {
    const specs = await prepareDevnet(this.root, {
      validators: this.validators,
      fullNodes: this.fullNodes,
      blockIntervalMs: this.blockIntervalMs,
      accounts,
    });
    this.nodeHomes = specs.map((s) => s.home);
    await Promise.all(specs.map((_, i) => this.start(i)));
  }

  private node(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.nodeCount)
      throw new Error(`node ${index} does not exist (${this.nodeCount} nodes)`);
  }

  rpcUrl(index: number): string | undefined {
    this.node(index);
    const p = this.processes[index];
    return p?.running ? p.url : undefined;
  }

  rpcUrls(): string[] {
    return this.processes.flatMap((p, i) => {
      const url = this.rpcUrl(i);
      return url && !p!.paused ? [url] : [];
    });
  }

  async start(index: number): Promise<void> {
    this.node(index);
    if (this.processes[index]?.running) throw new Error(`node ${index} is already running`);
    const args = [
      '--home',
      this.nodeHomes[index]!,
      'start',
      '--keyring-backend',
      'test',
      '--block-interval',
      String(this.blockIntervalMs),
    ];
    const p = new NodeProcess(args, this.errors, (code, signal, lastLogs) =>
      this.unexpectedExits.push({ node: index, code, signal, lastLogs }),
    );
    this.processes[index] = p;
    await p.started();
  }

  protected running(index: number): NodeProcess {
    this.node(index);
    const p = this.processes[index];
    if (!p?.running) throw new Error(`node ${index} is not running`);
    return p;
  }

  async finish(): Promise<VerifyOutcome[]> {
    for (let i = 0; i < this.nodeCount; i++)
      if (this.processes[i]?.running && this.processes[i]!.paused) this.resume(i);
    await Promise.all(
      this.processes.map(async (p, node) => {
        if (!p?.running) return;
        const stopped = await terminateProcess(p);
        if (!stopped.graceful)
          this.unexpectedExits.push({
            node,
            code: stopped.exitCode,
            signal: 'SIGTERM (not graceful)',
            lastLogs: [...p.lastLogs],
          });
      }),
    );
    // One at a time: each replay is CPU-bound.
    const outcomes: VerifyOutcome[] = [];
    for (let i = 0; i < this.nodeHomes.length; i++) outcomes.push(await verifyHome(i, this.nodeHomes[i]!));
    return outcomes;
  }

  errorLogs(): Record<string, number> {
    return Object.fromEntries([...this.errors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  async dispose(): Promise<void> {
    await Promise.all(
      this.processes.map(async (p) => {
        if (!p?.running) return;
        p.exitExpected = true;
        p.child.kill('SIGKILL');
        await p.exited;
      }),
    );
    if (this.ownsRoot && !this.keep) rmSync(this.root, { recursive: true, force: true });
  }
}
