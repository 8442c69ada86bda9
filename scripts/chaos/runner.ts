import { addressFromPublicKey, formatAddress, parseAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { sha256, toHex, utf8 } from '../../src/crypto/hash.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { buildTx } from '../../src/state/tx.ts';
import { Prng } from './prng.ts';
import { ChaosRpcError, rpcBatch, rpcCall, type RpcCall } from './rpc.ts';
import type { ChaosTarget, UnexpectedExit, VerifyOutcome } from './target.ts';

/*
 * The chaos runner: transfers stream from several senders while the target's nodes are killed,
 * paused and restarted at random. Every transaction a node reports committed is recorded with
 * its height and block hash, and every block seen with its hash and state root; after each
 * perturbation the runner waits for the chain to move again and checks that none of it changed.
 */

export type PerturbationKind = 'kill' | 'pause' | 'term';
export const PERTURBATION_KINDS: readonly PerturbationKind[] = ['kill', 'pause', 'term'];

export interface ChaosOptions {
  target: ChaosTarget;
  perturbations: number;
  seed: number;
  senders: number;
  /** Transactions a sender keeps submitted and not yet seen committed. */
  window: number;
  blockIntervalMs: number;
  /** Streaming time before each perturbation, drawn in [min, max]. */
  dwellMs: [number, number];
  /** SIGSTOP length, drawn in [min, max]. */
  pauseMs: [number, number];
  recoveryTimeoutMs: number;
  /** Older committed transactions re-read with tx_get after each perturbation (all of them at the end). */
  txSample: number;
  /**
   * Stream at least this long in all before the final reading (default 0): a run with few or no
   * perturbations on a loaded host may otherwise end before any transaction is committed.
   */
  minStreamMs?: number;
  log: (line: string) => void;
}

export const DEFAULT_OPTIONS = {
  perturbations: 60,
  senders: 4,
  window: 8,
  blockIntervalMs: 200,
  dwellMs: [300, 1500] as [number, number],
  pauseMs: [200, 2000] as [number, number],
  recoveryTimeoutMs: 60_000,
  txSample: 200,
};

export interface Spread {
  count: number;
  medianMs: number | null;
  maxMs: number | null;
}

export interface PerturbationRecord {
  index: number;
  kind: PerturbationKind;
  node: number;
  /** SIGSTOP length for a pause. */
  pauseMs?: number;
  /** From the restart (or SIGCONT) until a new block is committed and visible over RPC. */
  recoveryMs: number | null;
  /** Re-reading every block seen and the txs due for tx_get, after the recovery. */
  checkMs?: number;
  /** SIGTERM that did not end the process in its grace period (then SIGKILLed). */
  notGraceful?: boolean;
  error?: string;
}

export interface ChaosReport {
  target: string;
  seed: number;
  options: { perturbations: number; senders: number; window: number; blockIntervalMs: number };
  durationMs: number;
  perturbations: { planned: number; survived: number; byKind: Record<PerturbationKind, number>; notGraceful: number };
  transactions: {
    submitted: number;
    tracked: number;
    failedReceipts: number;
    lost: number;
    rejected: Record<string, number>;
  };
  blocks: { tracked: number; headerMismatches: number; stateRootMismatches: number };
  recovery: Spread & { byKind: Record<PerturbationKind, Spread> };
  checks: { rounds: number; txReads: number; blockReads: number; perPerturbation: Spread };
  verify: (VerifyOutcome & { rootMatchesHeader: boolean | null })[];
  unexpectedExits: UnexpectedExit[];
  /** Error-level lines the nodes logged, by message: not findings by themselves, but worth a look. */
  errorLogs: Record<string, number>;
  /** One line per lost transaction, mismatch, failed recovery or broken verify: what to report as a bug. */
  findings: string[];
  ok: boolean;
  history: PerturbationRecord[];
}

interface TrackedTx {
  height: number;
  blockHash: string;
  sender: number;
  nonce: number;
}

interface SeenBlock {
  hash: string;
  stateRoot: string;
  parentHash: string;
}

interface BlockView {
  hash: string;
  height: number;
  parentHash: string;
  stateRoot: string;
  txs: string[];
}

interface TxView {
  status: 'queued' | 'pending' | 'committed' | 'failed';
  height: number | null;
  blockHash: string | null;
}

interface Sender {
  index: number;
  key: SigningKey;
  address: string;
  nonce: number | undefined;
  /** The target's restart count when this sender last read its nonce. */
  epoch: number;
  /** The node it read its nonce from: another node's mempool may not hold what it submitted. */
  url: string | undefined;
  /** Submitted and not yet seen in a block: hash -> nonce. */
  outstanding: Map<string, number>;
  prng: Prng;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}

function spread(values: number[]): Spread {
  return { count: values.length, medianMs: median(values), maxMs: values.length ? Math.max(...values) : null };
}

/** Sender keys from the seed: the same seed gives the same accounts (and the same genesis). */
export function senderKey(seed: number, index: number): SigningKey {
  return new SigningKey(sha256(utf8.encode(`tributary-chaos/sender/${seed}/${index}`)));
}

const SENDER_BALANCE = 10n ** 24n;

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const { target, log } = opts;
  const startedAt = Date.now();
  const prng = new Prng(opts.seed);
  // Its own stream, so that the perturbation sequence of a seed does not depend on how many txs committed.
  const samplePrng = new Prng(opts.seed ^ 0x5eed);
  const findings: string[] = [];
  const finding = (line: string) => {
    findings.push(line);
    log(`FINDING: ${line}`);
  };

  const senders: Sender[] = [];
  for (let i = 0; i < opts.senders; i++) {
    const key = senderKey(opts.seed, i);
    senders.push({
      index: i,
      key,
      address: formatAddress(addressFromPublicKey(key.publicKey)),
      nonce: undefined,
      epoch: 0,
      url: undefined,
      outstanding: new Map(),
      prng: new Prng(opts.seed + 1 + i),
    });
  }
  const sink = formatAddress(addressFromPublicKey(senderKey(opts.seed, -1).publicKey));
  const recipients = [...senders.map((s) => s.address), sink].map((a) => ({ text: a, bytes: parseAddress(a) }));

  // --- what the nodes reported, and what is found wrong with it later ---
  const tracked = new Map<string, TrackedTx>();
  const trackedByHeight = new Map<number, string[]>();
  const trackedOrder: string[] = [];
  let uncheckedFrom = 0; // trackedOrder[uncheckedFrom..] have not been re-read with tx_get yet
  const blocks: (SeenBlock | undefined)[] = [];
  let recordedTip = 0;
  const lost = new Set<string>();
  const headerMismatch = new Set<number>();
  const rootMismatch = new Set<number>();
  let submitted = 0;
  let failedReceipts = 0;
  const rejected: Record<string, number> = {};
  let txReads = 0;
  let blockReads = 0;
  let checkRounds = 0;
  let epoch = 0;
  let stopping = false;

  const markLost = (hash: string, why: string) => {
    if (lost.has(hash)) return;
    lost.add(hash);
    const t = tracked.get(hash)!;
    finding(`tx ${hash} (sender ${t.sender}, nonce ${t.nonce}) reported committed at height ${t.height} ${why}`);
  };
  const markHeader = (height: number, why: string) => {
    if (headerMismatch.has(height)) return;
    headerMismatch.add(height);
    finding(`header at height ${height}: ${why}`);
  };
  const markRoot = (height: number, why: string) => {
    if (rootMismatch.has(height)) return;
    rootMismatch.add(height);
    finding(`state root at height ${height}: ${why}`);
  };

  const track = (hash: string, sender: Sender, nonce: number, view: TxView) => {
    const existing = tracked.get(hash);
    if (existing) {
      if (existing.height !== view.height) markLost(hash, `now reported at height ${view.height}`);
      return;
    }
    const t: TrackedTx = { height: view.height!, blockHash: view.blockHash ?? '', sender: sender.index, nonce };
    tracked.set(hash, t);
    trackedOrder.push(hash);
    let atHeight = trackedByHeight.get(t.height);
    if (!atHeight) trackedByHeight.set(t.height, (atHeight = []));
    atHeight.push(hash);
    if (view.status === 'failed') failedReceipts++;
  };

  /** Compares a block now served at `height` with what was seen there before (or records it). */
  const observeBlock = (height: number, b: BlockView | null) => {
    const seen = blocks[height];
    if (!b) {
      if (seen) markHeader(height, `block ${seen.hash} seen before is gone`);
      return;
    }
    if (!seen) {
      blocks[height] = { hash: b.hash, stateRoot: b.stateRoot, parentHash: b.parentHash };
      const parent = blocks[height - 1];
      if (parent && parent.hash !== b.parentHash)
        markHeader(height, `parent hash ${b.parentHash} is not the block seen at ${height - 1} (${parent.hash})`);
      const child = blocks[height + 1];
      if (child && child.parentHash !== b.hash)
        markHeader(height + 1, `parent hash ${child.parentHash} is not the block now at ${height} (${b.hash})`);
      return;
    }
    if (seen.hash !== b.hash) markHeader(height, `hash was ${seen.hash}, now ${b.hash}`);
    if (seen.stateRoot !== b.stateRoot) markRoot(height, `was ${seen.stateRoot}, now ${b.stateRoot}`);
  };

  const anyUrl = (): string | undefined => target.rpcUrls()[0];

  // --- the streams ---
  const resync = async (s: Sender, url: string) => {
    if (s.outstanding.size > 0) {
      await pollOutstanding(s, url, true);
    }
    const { nonce } = await rpcCall<{ nonce: number }>(url, 'account_nextNonce', [s.address]);
    s.nonce = nonce;
    s.epoch = epoch;
    s.url = url;
  };

  /** Reads the sender's outstanding txs: committed ones are tracked, unknown ones dropped (and queued ones when resyncing). */
  const pollOutstanding = async (s: Sender, url: string, resyncing: boolean) => {
    const hashes = [...s.outstanding.keys()];
    const views = await rpcBatch<TxView | null>(
      url,
      hashes.map((h) => ({ method: 'tx_get', params: [h] })),
      10_000,
    );
    txReads += hashes.length;
    views.forEach((v, i) => {
      const hash = hashes[i]!;
      if (!v.ok) throw new ChaosRpcError(v.code, v.message);
      const view = v.result;
      if (view && (view.status === 'committed' || view.status === 'failed')) {
        track(hash, s, s.outstanding.get(hash)!, view);
        s.outstanding.delete(hash);
      } else if (!view || (resyncing && view.status === 'queued')) {
        // Never reported committed: the mempool that held it died (or it waits on a nonce that will be reused).
        s.outstanding.delete(hash);
      }
    });
  };

  const stream = async (s: Sender) => {
    const pollMs = Math.max(20, opts.blockIntervalMs >> 2);
    while (!stopping) {
      const url = anyUrl();
      if (!url) {
        await sleep(20);
        continue;
      }
      try {
        if (s.nonce === undefined || s.epoch !== epoch || s.url !== url) await resync(s, url);
        if (s.outstanding.size < opts.window) {
          const to = s.prng.pick(recipients.filter((r) => r.text !== s.address));
          const bytes = buildTx(
            s.key,
            transferTx,
            { to: to.bytes, amount: BigInt(s.prng.int(1, 1000)) },
            { chainId, nonce: s.nonce!, fee: minFee },
          );
          const { hash } = await rpcCall<{ hash: string }>(url, 'tx_submit', ['0x' + toHex(bytes)]);
          submitted++;
          s.outstanding.set(hash, s.nonce!);
          s.nonce!++;
        } else {
          await pollOutstanding(s, url, false);
          if (s.outstanding.size >= opts.window) await sleep(pollMs);
        }
      } catch (e) {
        if (!(e instanceof ChaosRpcError)) throw e;
        // unreachable / timeout: the node is down or paused; any other code is a refusal worth counting.
        if (e.code !== 'rpc/unreachable' && e.code !== 'rpc/timeout') rejected[e.code] = (rejected[e.code] ?? 0) + 1;
        s.nonce = undefined;
        await sleep(50);
      }
    }
  };

  /** Records every block from the last recorded height to the tip, as it comes. */
  const followChain = async (url: string) => {
    const { height } = await rpcCall<{ height: number }>(url, 'chain_status');
    if (height <= recordedTip) return height;
    const heights: number[] = [];
    for (let h = recordedTip + 1; h <= height; h++) heights.push(h);
    const views = await rpcBatch<BlockView | null>(
      url,
      heights.map((h) => ({ method: 'chain_getBlock', params: [h] })),
    );
    blockReads += heights.length;
    views.forEach((v, i) => {
      if (!v.ok) throw new ChaosRpcError(v.code, v.message);
      observeBlock(heights[i]!, v.result);
    });
    recordedTip = Math.max(recordedTip, height);
    return height;
  };

  const follow = async () => {
    while (!stopping) {
      const url = anyUrl();
      if (url) {
        try {
          await followChain(url);
        } catch (e) {
          if (!(e instanceof ChaosRpcError)) throw e;
        }
      }
      await sleep(opts.blockIntervalMs);
    }
  };

  /**
   * Every block seen is read again (hash, state root, and the tracked txs in its list); txs tracked
   * since the last round and a sample of older ones (all of them when `full`) are read with tx_get.
   */
  const checkLedger = async (url: string, full: boolean): Promise<number> => {
    checkRounds++;
    const nodeHeight = await followChain(url);
    // In a network a node may be a block or two behind the tip another node showed: it is checked up
    // to its own height. A lone node is the tip, so a height it no longer has is a block gone.
    const upTo = target.nodeCount > 1 ? Math.min(recordedTip, nodeHeight) : recordedTip;
    const heights: number[] = [];
    for (let h = 1; h <= upTo; h++) heights.push(h);
    const calls: RpcCall[] = heights.map((h) => ({ method: 'chain_getBlock', params: [h] }));
    const views = await rpcBatch<BlockView | null>(url, calls);
    blockReads += heights.length;
    views.forEach((v, i) => {
      const height = heights[i]!;
      if (!v.ok) throw new ChaosRpcError(v.code, v.message);
      observeBlock(height, v.result);
      const inBlock = new Set(v.result?.txs ?? []);
      for (const hash of trackedByHeight.get(height) ?? []) {
        if (!inBlock.has(hash)) markLost(hash, `is not in the block now at that height`);
        const t = tracked.get(hash)!;
        if (t.blockHash && blocks[height] && t.blockHash !== blocks[height]!.hash)
          markHeader(
            height,
            `tx ${hash} was reported in block ${t.blockHash}, the block seen is ${blocks[height]!.hash}`,
          );
      }
    });

    const toRead = new Set(trackedOrder.slice(full ? 0 : uncheckedFrom));
    if (!full) {
      const older = uncheckedFrom;
      for (let i = 0; i < Math.min(opts.txSample, older); i++) toRead.add(trackedOrder[samplePrng.int(0, older - 1)]!);
    }
    uncheckedFrom = trackedOrder.length;
    // A network node is asked only about heights it has (those above: by the other nodes, and at the end).
    const hashes = target.nodeCount > 1 ? [...toRead].filter((h) => tracked.get(h)!.height <= upTo) : [...toRead];
    const txViews = await rpcBatch<TxView | null>(
      url,
      hashes.map((h) => ({ method: 'tx_get', params: [h] })),
    );
    txReads += hashes.length;
    txViews.forEach((v, i) => {
      const hash = hashes[i]!;
      if (!v.ok) throw new ChaosRpcError(v.code, v.message);
      const t = tracked.get(hash)!;
      const view = v.result;
      if (!view) markLost(hash, 'is unknown to the node');
      else if (view.status !== 'committed' && view.status !== 'failed') markLost(hash, `is now ${view.status}`);
      else if (view.height !== t.height) markLost(hash, `is now at height ${view.height}`);
      else if (view.blockHash !== t.blockHash)
        markHeader(t.height, `tx ${hash} now in block ${view.blockHash}, was ${t.blockHash}`);
    });
    return nodeHeight;
  };

  /** The highest height the other nodes that answer report: what a perturbed node must catch up to. */
  const othersHeight = async (node: number): Promise<number> => {
    let highest = 0;
    await Promise.all(
      Array.from({ length: target.nodeCount }, async (_, i) => {
        const url = i === node ? undefined : target.rpcUrl(i);
        if (!url) return;
        try {
          const { height } = await rpcCall<{ height: number }>(url, 'chain_status', [], 5_000);
          highest = Math.max(highest, height);
        } catch (e) {
          if (!(e instanceof ChaosRpcError)) throw e;
        }
      }),
    );
    return highest;
  };

  /**
   * Until the node serves RPC, has a block above `above` (the first height answered when undefined)
   * and has caught up to `catchUpTo` (the height the other nodes had when it was given back).
   */
  const awaitNewBlock = async (node: number, above: number | undefined, catchUpTo: number): Promise<number> => {
    const started = Date.now();
    let floor = above;
    for (;;) {
      if (Date.now() - started > opts.recoveryTimeoutMs)
        throw new Error(
          `no new block${catchUpTo > 0 ? ` or no catch-up to height ${catchUpTo}` : ''} in ${opts.recoveryTimeoutMs} ms`,
        );
      const url = target.rpcUrl(node);
      if (url) {
        try {
          const { height } = await rpcCall<{ height: number }>(url, 'chain_status', [], 5_000);
          if (floor === undefined) floor = height;
          else if (height > floor && height >= catchUpTo) return Date.now();
        } catch (e) {
          if (!(e instanceof ChaosRpcError)) throw e;
        }
      }
      await sleep(10);
    }
  };

  /** Until every node has reached `tip`; one that does not within the recovery timeout is a finding. */
  const awaitAllAt = async (tip: number) => {
    const started = Date.now();
    const behind = new Map<number, number | null>();
    do {
      behind.clear();
      for (let node = 0; node < target.nodeCount; node++) {
        const url = target.rpcUrl(node);
        let height: number | null = null;
        if (url)
          try {
            height = (await rpcCall<{ height: number }>(url, 'chain_status', [], 5_000)).height;
          } catch (e) {
            if (!(e instanceof ChaosRpcError)) throw e;
          }
        if (height === null || height < tip) behind.set(node, height);
      }
      if (behind.size === 0) return;
      await sleep(opts.blockIntervalMs);
    } while (Date.now() - started < opts.recoveryTimeoutMs);
    for (const [node, height] of behind)
      finding(`node ${node} did not reach height ${tip} in ${opts.recoveryTimeoutMs} ms (at ${height ?? 'no answer'})`);
  };

  // --- the run ---
  const accounts = senders.map((s) => ({ address: s.address, balance: SENDER_BALANCE.toString() }));
  await target.setup(accounts);
  const firstUrl = anyUrl()!;
  const status = await rpcCall<{ chainId: string; minFee: string }>(firstUrl, 'chain_status');
  const chainId = status.chainId;
  const minFee = BigInt(status.minFee);
  log(
    `${target.label}: ${target.homes().join(', ')}; seed ${opts.seed}; ${opts.perturbations} perturbations; ${opts.senders} senders`,
  );

  // A bug in the runner itself ends its loop as a finding (the run still ends, stops and verifies).
  const streamingSince = Date.now();
  const streams = senders.map((s) =>
    stream(s).catch((e: Error) => finding(`sender ${s.index} stopped: ${e.stack ?? e.message}`)),
  );
  const follower = follow().catch((e: Error) => finding(`chain follower stopped: ${e.stack ?? e.message}`));
  const history: PerturbationRecord[] = [];

  for (let i = 1; i <= opts.perturbations; i++) {
    // Every draw every round, in one order, so that a seed fixes the whole schedule.
    const dwell = prng.int(opts.dwellMs[0], opts.dwellMs[1]);
    const kind = prng.pick(PERTURBATION_KINDS);
    const node = prng.int(0, target.nodeCount - 1);
    const pauseMs = prng.int(opts.pauseMs[0], opts.pauseMs[1]);
    await sleep(dwell);
    const record: PerturbationRecord = { index: i, kind, node, recoveryMs: null };
    if (kind === 'pause') record.pauseMs = pauseMs;
    try {
      let givenBack: number;
      let above: number | undefined;
      let catchUpTo: number;
      if (kind === 'pause') {
        const url = target.rpcUrl(node)!;
        above = (await rpcCall<{ height: number }>(url, 'chain_status')).height;
        target.pause(node);
        await sleep(pauseMs);
        catchUpTo = await othersHeight(node);
        givenBack = Date.now();
        target.resume(node);
      } else {
        if (kind === 'kill') await target.kill(node);
        else {
          const stopped = await target.terminate(node);
          if (!stopped.graceful) {
            record.notGraceful = true;
            finding(`perturbation ${i}: SIGTERM did not stop node ${node} cleanly (exit ${stopped.exitCode})`);
          }
        }
        epoch++;
        catchUpTo = await othersHeight(node);
        givenBack = Date.now();
        await target.start(node);
      }
      const recoveredAt = await awaitNewBlock(node, above, catchUpTo);
      record.recoveryMs = recoveredAt - givenBack;
      await checkLedger(target.rpcUrl(node)!, false);
      record.checkMs = Date.now() - recoveredAt;
    } catch (e) {
      record.error = (e as Error).message;
      finding(`perturbation ${i} (${kind} node ${node}) not survived: ${record.error}`);
    }
    history.push(record);
    log(
      `#${i} ${kind}${record.pauseMs ? ` ${record.pauseMs}ms` : ''} node ${node}: ` +
        (record.error
          ? `FAILED ${record.error}`
          : `recovered in ${record.recoveryMs} ms, checked in ${record.checkMs} ms`) +
        `; tracked ${tracked.size} txs, ${recordedTip} blocks; lost ${lost.size}, mismatches ${headerMismatch.size + rootMismatch.size}`,
    );
    if (record.error) break; // a node that does not come back leaves nothing more to perturb
  }

  // Let the last submissions land, then stop the streams and take the final reading.
  await sleep(Math.max(opts.blockIntervalMs * 3, streamingSince + (opts.minStreamMs ?? 0) - Date.now()));
  stopping = true;
  await Promise.all([...streams, follower]);
  const finalUrl = anyUrl();
  let finalHeight = recordedTip;
  // The height each node answered last, which its verify must reach (a lone node: the tip seen).
  const finalHeights: (number | undefined)[] = [];
  if (finalUrl) {
    try {
      for (const s of senders) if (s.outstanding.size) await pollOutstanding(s, finalUrl, false);
      if (target.nodeCount > 1) await awaitAllAt(recordedTip);
      // Every node's chain against the same record of blocks: a fork shows as a mismatch.
      for (let node = 0; node < target.nodeCount; node++) {
        const url = target.rpcUrl(node);
        if (url) await checkLedger(url, true);
        else finding(`node ${node} serves no RPC at the end of the run`);
      }
      // Once more just before the stop, so that verify's height is likely among the blocks seen.
      if (target.nodeCount === 1) await followChain(finalUrl);
      else
        for (let node = 0; node < target.nodeCount; node++) {
          const url = target.rpcUrl(node);
          if (url) finalHeights[node] = await followChain(url);
        }
      finalHeight = recordedTip;
    } catch (e) {
      finding(`final check failed: ${(e as Error).message}`);
    }
  } else finding('no node serves RPC at the end of the run');

  const verify = (await target.finish()).map((v) => {
    const seen = v.height !== null ? blocks[v.height] : undefined;
    // Both are 0x-hex: the header's state root is the state after its block, what verify replays to.
    const rootMatchesHeader = seen && v.stateRoot ? seen.stateRoot === v.stateRoot : null;
    if (!v.ok)
      finding(
        `verify on node ${v.node} failed: ${v.error ?? `matchesStoredState ${v.matchesStoredState}, invariants broken: ${v.invariantsBroken.join('; ') || 'none'}`}`,
      );
    const reached = finalHeights[v.node] ?? finalHeight;
    if (v.height !== null && v.height < reached)
      finding(`verify on node ${v.node} replayed to height ${v.height}, below the ${reached} seen`);
    if (rootMatchesHeader === false)
      finding(
        `verify on node ${v.node}: replayed root ${v.stateRoot} differs from the header seen at height ${v.height}`,
      );
    return { ...v, rootMatchesHeader };
  });
  for (const exit of target.unexpectedExits)
    finding(`node ${exit.node} exited on its own (code ${exit.code}, signal ${exit.signal})`);

  const survived = history.filter((h) => !h.error);
  const byKind = (k: PerturbationKind) => survived.filter((h) => h.kind === k);
  const recoveries = survived.map((h) => h.recoveryMs!);
  const report: ChaosReport = {
    target: target.label,
    seed: opts.seed,
    options: {
      perturbations: opts.perturbations,
      senders: opts.senders,
      window: opts.window,
      blockIntervalMs: opts.blockIntervalMs,
    },
    durationMs: Date.now() - startedAt,
    perturbations: {
      planned: opts.perturbations,
      survived: survived.length,
      byKind: { kill: byKind('kill').length, pause: byKind('pause').length, term: byKind('term').length },
      notGraceful: history.filter((h) => h.notGraceful).length,
    },
    transactions: { submitted, tracked: tracked.size, failedReceipts, lost: lost.size, rejected },
    blocks: { tracked: recordedTip, headerMismatches: headerMismatch.size, stateRootMismatches: rootMismatch.size },
    recovery: {
      ...spread(recoveries),
      byKind: {
        kill: spread(byKind('kill').map((h) => h.recoveryMs!)),
        pause: spread(byKind('pause').map((h) => h.recoveryMs!)),
        term: spread(byKind('term').map((h) => h.recoveryMs!)),
      },
    },
    checks: { rounds: checkRounds, txReads, blockReads, perPerturbation: spread(survived.map((h) => h.checkMs!)) },
    verify,
    unexpectedExits: target.unexpectedExits,
    errorLogs: target.errorLogs(),
    findings,
    ok: false,
    history,
  };
  report.ok = findings.length === 0 && survived.length === opts.perturbations && verify.every((v) => v.ok);
  return report;
}

/** The figures as a table for people. */
export function formatReport(r: ChaosReport): string {
  const ms = (v: number | null) => (v === null ? '-' : `${v.toLocaleString('en-US')} ms`);
  const rows: [string, string][] = [
    [
      'target',
      `${r.target}, block interval ${r.options.blockIntervalMs} ms, ${r.options.senders} senders x ${r.options.window} in flight`,
    ],
    ['seed', String(r.seed)],
    ['duration', `${(r.durationMs / 1000).toFixed(1)} s`],
    [
      'perturbations survived',
      `${r.perturbations.survived} / ${r.perturbations.planned} (SIGKILL+restart ${r.perturbations.byKind.kill}, SIGSTOP/SIGCONT ${r.perturbations.byKind.pause}, SIGTERM+restart ${r.perturbations.byKind.term})`,
    ],
    ['transactions submitted', r.transactions.submitted.toLocaleString('en-US')],
    [
      'committed txs tracked',
      `${r.transactions.tracked.toLocaleString('en-US')} (failed receipts ${r.transactions.failedReceipts})`,
    ],
    ['lost', String(r.transactions.lost)],
    ['blocks tracked', r.blocks.tracked.toLocaleString('en-US')],
    ['header mismatches', String(r.blocks.headerMismatches)],
    ['state-root mismatches', String(r.blocks.stateRootMismatches)],
    ['recovery median / max', `${ms(r.recovery.medianMs)} / ${ms(r.recovery.maxMs)}`],
    ['  SIGKILL+restart', `${ms(r.recovery.byKind.kill.medianMs)} / ${ms(r.recovery.byKind.kill.maxMs)}`],
    ['  SIGSTOP/SIGCONT', `${ms(r.recovery.byKind.pause.medianMs)} / ${ms(r.recovery.byKind.pause.maxMs)}`],
    ['  SIGTERM+restart', `${ms(r.recovery.byKind.term.medianMs)} / ${ms(r.recovery.byKind.term.maxMs)}`],
    [
      'refusals while streaming',
      Object.entries(r.transactions.rejected)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none',
    ],
    ['unexpected exits', String(r.unexpectedExits.length)],
    [
      'node error log lines',
      Object.entries(r.errorLogs)
        .map(([k, v]) => `${v} x ${k}`)
        .join('; ') || 'none',
    ],
    [
      're-reads',
      `${r.checks.rounds} rounds: ${r.checks.blockReads.toLocaleString('en-US')} blocks, ${r.checks.txReads.toLocaleString('en-US')} txs; per perturbation ${ms(r.checks.perPerturbation.medianMs)} median, ${ms(r.checks.perPerturbation.maxMs)} max`,
    ],
    ...r.verify.map((v): [string, string] => [
      `verify${r.verify.length > 1 ? ` node ${v.node}` : ''}`,
      v.ok
        ? `ok: ${v.height} blocks, ${v.transactions} txs replayed; root matches the header seen: ${v.rootMatchesHeader ?? 'n/a'}`
        : `FAILED ${v.error ?? JSON.stringify(v)}`,
    ]),
    ['result', r.ok ? 'ok' : `FAILED (${r.findings.length} findings)`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
