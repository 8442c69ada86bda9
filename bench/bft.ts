import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { CLI, prepareDevnet } from '../scripts/devnet.ts';
import { addressFromPublicKey, formatAddress } from '../src/crypto/address.ts';
import { SigningKey } from '../src/crypto/ed25519.ts';
import { toHex } from '../src/crypto/hash.ts';
import { transferTx } from '../src/state/bank/module.ts';
import { buildTx, txHash } from '../src/state/tx.ts';
import { tempHome } from '../test/helpers/process.ts';
import { BACK_PRESSURE_CODES } from './back-pressure.ts';
import { mib, printTable, type BenchRow } from './table.ts';

/**
 * The BFT bar: 4 validators and 1 full node as OS processes on loopback (`prepareDevnet`, the
 * devnet script's homes), a load generator in this process submitting signed transfers over
 * JSON-RPC batches (spread over the four validators, gossip carries them on) at a fixed offered
 * rate for a fixed time. Measured: committed transfers per second over the window and
 * submit-to-commit latency, both by commit time bounded by the next block's header time (block H is
 * committed before the proposer of H + 1 builds it; every node shares this machine's clock), the
 * latency to the moment the full node's RPC first shows the block (which lags when that node is
 * starved of CPU: an earlier version counted only this, and reported 0 tx/s for a network that was
 * committing about 1,000), block intervals, and each node's RSS at the end. BENCH_BFT_SECONDS
 * (default 60) and BENCH_BFT_RATE (default 2500).
 *
 * Every way out stops the five nodes: everything after the first spawn is inside one try/finally,
 * no promise floats (the watcher and the in-flight batches record their first error, which the
 * main loop rethrows), SIGINT/SIGTERM stop the nodes before exiting, and an `exit` hook kills
 * whatever is left if the process dies some other way.
 */

const SECONDS = Number(process.env.BENCH_BFT_SECONDS ?? 60);
const OFFERED_RATE = Number(process.env.BENCH_BFT_RATE ?? 2500);
const SENDERS = 2000;
const BATCH = 100;
const INTERVAL_MS = 500;

interface RpcResponse {
  result?: unknown;
  error?: { message: string; data?: { code?: string } };
}

async function rpcCall<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await res.json()) as RpcResponse;
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

const BACK_PRESSURE_PAUSE_MS = 1_000;

/**
 * Submits one batch, as a client should: what the node refuses for back-pressure is sent again
 * after a pause until it is taken (dropping it would leave a nonce gap that stalls every later
 * transfer of its sender: an earlier version did, and measured 117 tx/s for a network that
 * commits ~900). Every refusal is counted by its code into `refusals`; returns how many
 * transactions were refused for good.
 */
async function submitBatch(url: string, txs: Uint8Array[], refusals: Map<string, number>): Promise<number> {
  let pending = txs;
  let refused = 0;
  while (pending.length > 0) {
    const body = pending.map((tx, i) => ({ jsonrpc: '2.0', id: i, method: 'tx_submit', params: ['0x' + toHex(tx)] }));
    const post = () =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    // A kept-alive connection the server closed meanwhile fails once; the retry opens a new one.
    const res = await post().catch(post);
    const out = (await res.json()) as (RpcResponse & { id: number })[];
    const again: Uint8Array[] = [];
    for (const r of out) {
      if (!r.error) continue;
      const code = r.error.data?.code ?? 'uncoded';
      refusals.set(code, (refusals.get(code) ?? 0) + 1);
      if (BACK_PRESSURE_CODES.has(code)) again.push(pending[r.id]!);
      else refused++;
    }
    pending = again;
    // About two blocks: resending sooner only spends the nodes' CPU on refusing it again.
    if (pending.length > 0) await new Promise((r) => setTimeout(r, BACK_PRESSURE_PAUSE_MS));
  }
  return refused;
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function benchBft(): Promise<BenchRow[]> {
  const senders = Array.from({ length: SENDERS }, () => SigningKey.generate());
  const root = tempHome('tributary-bench-bft-');
  const specs = await prepareDevnet(root, {
    validators: 4,
    fullNodes: 1,
    blockIntervalMs: INTERVAL_MS,
    chainId: 'bench-bft',
    accounts: senders.map((k) => ({
      address: formatAddress(addressFromPublicKey(k.publicKey)),
      balance: (10n ** 24n).toString(),
    })),
    params: { maxBlockTxs: 20_000 },
  });
  // Clients sign before the nodes start: signing is not the network's work, and it would sit
  // beside five nodes on two cores.
  const genesisJson = JSON.parse(readFileSync(join(specs[0]!.home, 'genesis.json'), 'utf8')) as {
    chainId: string;
    params: { minFee: string };
  };
  const recipients = Array.from({ length: 64 }, () => addressFromPublicKey(SigningKey.generate().publicKey));
  const total = Math.ceil(OFFERED_RATE * SECONDS);
  const signed: Uint8Array[] = [];
  for (let i = 0; i < total; i++) {
    signed.push(
      buildTx(
        senders[i % SENDERS]!,
        transferTx,
        { to: recipients[i % 64]!, amount: 1n },
        { chainId: genesisJson.chainId, nonce: Math.floor(i / SENDERS), fee: BigInt(genesisJson.params.minFee) },
      ),
    );
  }
  const children: ChildProcess[] = [];
  const killAll = (signal: NodeJS.Signals) => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
  };
  const onExit = () => killAll('SIGKILL');
  const onSignal = (signal: NodeJS.Signals) => {
    killAll('SIGKILL');
    rmSync(root, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', onExit);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The first error of a background task (watcher, batch submission); the main loop rethrows it.
  let backgroundError: unknown;
  const recordError = (err: unknown) => {
    backgroundError ??= err;
  };
  const throwIfFailed = () => {
    if (backgroundError !== undefined) throw backgroundError;
  };
  try {
    for (const s of specs) {
      const log = openSync(join(root, `${s.name}.log`), 'w');
      children.push(
        spawn(
          CLI,
          [
            '--home',
            s.home,
            'start',
            '--keyring-backend',
            'test',
            '--log-level',
            process.env.BENCH_BFT_LOG_LEVEL ?? 'warn',
          ],
          {
            stdio: ['ignore', log, log],
          },
        ),
      );
    }
    const urls = specs.map((s) => `http://127.0.0.1:${s.rpcPort}`);
    const full = urls[4]!;
    for (const url of urls) {
      for (let i = 0; ; i++) {
        try {
          await rpcCall(url, 'chain_status');
          break;
        } catch {
          if (i > 300) throw new Error(`${url} did not start`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
    // Submit times and block times are wall-clock ms (Date.now()): every node runs on this machine's
    // clock, so a header's time is comparable with them.
    const submittedAt = new Map<string, number>();
    const seenLatencies: number[] = [];
    const blocks: { height: number; timeMs: number; seenAt: number; hashes: string[] }[] = [];
    let refused = 0;
    const refusals = new Map<string, number>();
    let watching = true;
    let seenHeight = (await rpcCall<{ height: number }>(full, 'chain_status')).height;
    const start = performance.now();
    const end = start + SECONDS * 1000;
    const endWall = Date.now() + SECONDS * 1000;
    // Watcher: every block on the full node, with its header time and the time it was first seen.
    // Seen times lag when the full node's RPC is starved of CPU; the commit time of block H is
    // bounded by the header time of H + 1 instead (its proposer built it after committing H).
    const watcher = (async () => {
      while (watching && backgroundError === undefined) {
        const { height } = await rpcCall<{ height: number }>(full, 'chain_status');
        for (let h = seenHeight + 1; h <= height; h++) {
          const block = await rpcCall<{ txs: string[]; timeMs: number }>(full, 'chain_getBlock', [h]);
          const seenAt = Date.now();
          blocks.push({ height: h, timeMs: block.timeMs, seenAt, hashes: block.txs });
          for (const hash of block.txs) {
            const at = submittedAt.get(hash);
            if (at !== undefined) seenLatencies.push(seenAt - at);
          }
        }
        seenHeight = height;
        await new Promise((r) => setTimeout(r, 20));
      }
    })().catch(recordError);
    // Open loop: batches at the offered rate, round-robin over the validators.
    let next = 0;
    let batchNo = 0;
    const inFlight: Promise<void>[] = [];
    while (next < total && performance.now() < end) {
      throwIfFailed();
      const due = start + (next / OFFERED_RATE) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const batch = signed.slice(next, next + BATCH);
      const t = Date.now();
      for (const tx of batch) submittedAt.set('0x' + toHex(txHash(tx)), t);
      next += batch.length;
      const url = urls[batchNo++ % 4]!;
      inFlight.push(submitBatch(url, batch, refusals).then((n) => void (refused += n), recordError));
      if (inFlight.length > 64) await inFlight.shift();
    }
    await Promise.all(inFlight);
    throwIfFailed();
    const offeredSeconds = (performance.now() - start) / 1000;
    // Let what was admitted drain (counted for latency, not for the rate window).
    const drainUntil = performance.now() + 10_000;
    const included = () => blocks.reduce((n, b) => n + b.hashes.length, 0);
    while (included() < next - refused && performance.now() < drainUntil) {
      throwIfFailed();
      await new Promise((r) => setTimeout(r, 100));
    }
    watching = false;
    await watcher;
    throwIfFailed();
    const rss = children.map((c) => rssOf(c.pid!));
    let committed = 0;
    const latencies: number[] = [];
    blocks.forEach((b, i) => {
      const committedBy = blocks[i + 1]?.timeMs ?? b.seenAt;
      for (const hash of b.hashes) {
        const at = submittedAt.get(hash);
        if (at === undefined) continue;
        submittedAt.delete(hash);
        if (committedBy <= endWall) committed++;
        latencies.push(committedBy - at);
      }
    });
    latencies.sort((a, b) => a - b);
    seenLatencies.sort((a, b) => a - b);
    const intervals = blocks
      .slice(1)
      .map((b, i) => b.timeMs - blocks[i]!.timeMs)
      .sort((a, b) => a - b);
    const rows: BenchRow[] = [
      {
        name: 'committed transfers/s (4 validators + 1 full node)',
        value: Math.round(committed / SECONDS).toLocaleString('en-US'),
        unit: 'tx/s',
        note: `offered ${OFFERED_RATE}/s for ${SECONDS} s (${next} submitted in ${offeredSeconds.toFixed(1)} s, ${refused} refused for good${refusals.size > 0 ? `; refusals: ${[...refusals].map(([code, n]) => `${n} ${code}`).join(', ')}, back-pressure ones sent again` : ''}); block interval ${INTERVAL_MS} ms; ${cpus().length} cores for all 5 nodes and the load generator`,
      },
      {
        name: 'submit-to-commit latency p50',
        value: percentile(latencies, 50).toFixed(0),
        unit: 'ms',
        note: `${latencies.length} transactions; committed by the next block's header time (an upper bound)`,
      },
      { name: 'submit-to-commit latency p99', value: percentile(latencies, 99).toFixed(0), unit: 'ms' },
      {
        name: "submit to seen on the full node's RPC, p50 / p99",
        value: `${percentile(seenLatencies, 50).toFixed(0)} / ${percentile(seenLatencies, 99).toFixed(0)}`,
        unit: 'ms',
        note: 'includes the full node answering RPC while it verifies and executes the load',
      },
      {
        name: 'block interval (header times), p50 / p99',
        value: `${percentile(intervals, 50).toFixed(0)} / ${percentile(intervals, 99).toFixed(0)}`,
        unit: 'ms',
        note: `${blocks.length} blocks`,
      },
      {
        name: 'not committed by the end',
        value: String(submittedAt.size),
        unit: 'txs',
        note: 'refused at admission or still pending',
      },
      ...specs.map((s, i) => ({ name: `RSS ${s.name}`, value: mib(rss[i]!), unit: 'MiB' })),
    ];
    return rows;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    killAll(process.env.BENCH_BFT_KEEP ? 'SIGTERM' : 'SIGKILL');
    if (process.env.BENCH_BFT_KEEP) await new Promise((r) => setTimeout(r, 3000));
    if (process.env.BENCH_BFT_KEEP) console.log(`kept ${root}`);
    else rmSync(root, { recursive: true, force: true });
    process.off('exit', onExit);
  }
}

if (import.meta.main) {
  printTable('BFT network (npm run bench: bench/bft.ts)', await benchBft());
}
