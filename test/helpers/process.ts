import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RpcClient } from '../../src/rpc/client.ts';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(REPO, 'bin', 'tributary');

export function tempHome(prefix = 'tributary-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Runs the CLI to completion; returns stdout, stderr and the exit status. */
export function cli(args: string[]): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(CLI, args, { encoding: 'utf8', timeout: 60_000 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

export function cliJson<T = Record<string, unknown>>(args: string[]): T {
  const r = cli([...args, '--json']);
  if (r.status !== 0) throw new Error(`tributary ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/**
 * The CLI without blocking this process: needed when the node it talks to runs in this process
 * (spawnSync would stop the node's event loop while the CLI waits for it).
 */
export function cliJsonAsync<T = Record<string, unknown>>(args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(CLI, [...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('exit', (status) => {
      if (status !== 0) reject(new Error(`tributary ${args.join(' ')} failed (${status}): ${stderr}`));
      else resolve(JSON.parse(stdout) as T);
    });
  });
}

export interface NodeProcess {
  child: ChildProcess;
  rpc: RpcClient;
  url: string;
  logs: string[];
  exited: Promise<number | null>;
}

/**
 * Starts `tributary start` as an OS process on a free port; resolves once its RPC answers. Test
 * homes keep the validator key in the plaintext test keyring (`init --keyring-backend test`), so
 * `--keyring-backend test` is passed unless `testKeyring: false`.
 */
export async function startNodeProcess(
  home: string,
  extra: string[] = [],
  opts: { env?: NodeJS.ProcessEnv; testKeyring?: boolean } = {},
): Promise<NodeProcess> {
  const keyring = opts.testKeyring === false ? [] : ['--keyring-backend', 'test'];
  const child = spawn(
    CLI,
    ['--home', home, 'start', ...keyring, '--rpc-listen', '127.0.0.1:0', '--block-interval', '200', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env },
  );
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`node did not start: ${logs.join('\n')}`)), 30_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        logs.push(line);
        try {
          const entry = JSON.parse(line) as { msg?: string; rpc?: string };
          if (entry.msg === 'node started' && entry.rpc) {
            clearTimeout(timer);
            resolve(entry.rpc);
          }
        } catch {
          // not a JSON log line
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node exited with ${code} before starting: ${logs.join('\n')}`));
    });
  });
  return { child, rpc: new RpcClient(url), url, logs, exited };
}

export async function stopNodeProcess(node: NodeProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return node.child.exitCode;
  node.child.kill(signal);
  return node.exited;
}

export async function until<T>(fn: () => Promise<T | undefined>, timeoutMs = 30_000, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
