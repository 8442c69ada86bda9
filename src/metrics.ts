import { readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Chain } from './consensus/chain.ts';
import type { Mempool } from './consensus/mempool.ts';
import type { Signer } from './consensus/signer.ts';
import { bytesEqual } from './crypto/hash.ts';
import type { Address } from './crypto/address.ts';
import type { CommittedBlock } from './index/committed-block.ts';
import { listElements } from './state/events.ts';

/*
 * Prometheus metrics of a running node (prom-client, its own registry, not the global one, so
 * that two nodes in one test process do not share series). Values that are read, not counted
 * (heights, mempool, peers, database size), are read at scrape time by `collect`; counts come
 * from the chain's event stream, one delivery per committed block, and from the RPC server.
 *
 * Labels are bounded: error codes and event types are closed sets; per model version, agent and
 * contributor series stop at MAX_ENTITY_LABELS distinct ids each (later ones count under "other"),
 * since an unbounded label set is what takes a Prometheus server down. Amounts are in base units
 * as float64: exact up to 2^53, which is what a rate or a dashboard needs; the chain's queries
 * are the exact record.
 */

export const MAX_ENTITY_LABELS = 1_000;

export interface MetricsSources {
  chain: Chain;
  mempool: Mempool;
  /** Where LevelDB keeps its files (its size is reported). */
  dataDir: string;
  /** With BFT: the engine's round, the network's peers, this validator's signer and address. */
  consensus?: { currentRound: number };
  peers?: () => number;
  signer?: Signer;
  validator?: Address;
}

/** Series keyed by an id, at most `max` distinct ids, the rest under "other". */
class BoundedLabels {
  private readonly seen = new Set<string>();
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  label(id: string): string {
    if (this.seen.has(id)) return id;
    if (this.seen.size >= this.max) return 'other';
    this.seen.add(id);
    return id;
  }
}

function directorySize(dir: string): number {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of entries) {
    try {
      const s = statSync(join(dir, name));
      total += s.isDirectory() ? directorySize(join(dir, name)) : s.size;
    } catch {
      // A file LevelDB removed between the listing and the stat (compaction): not counted.
    }
  }
  return total;
}

export class NodeMetrics {
  readonly registry = new Registry();
  private readonly rpcDuration: Histogram<'method'>;
  private readonly rpcErrors: Counter<'method' | 'code'>;
  private readonly rejections: Counter<'code'>;
  private readonly unsubscribe: () => void;
  private lastBlockTimeMs: number | undefined;
  private server: Server | undefined;

  constructor(sources: MetricsSources) {
    const r = this.registry;
    const { chain, mempool } = sources;
    collectDefaultMetrics({ register: r });
    new Gauge({
      name: 'tributary_height',
      help: 'latest committed height',
      registers: [r],
      collect() {
        this.set(chain.latestHeight);
      },
    });
    new Gauge({
      name: 'tributary_finalized_height',
      help: 'latest finalized height (BFT finality: every committed block)',
      registers: [r],
      collect() {
        this.set(chain.latestHeight);
      },
    });
    new Gauge({
      name: 'tributary_mempool_transactions',
      help: 'pending transactions',
      registers: [r],
      collect() {
        this.set(mempool.size);
      },
    });
    new Gauge({
      name: 'tributary_mempool_bytes',
      help: 'bytes of pending transactions',
      registers: [r],
      collect() {
        this.set(mempool.sizeBytes);
      },
    });
    new Gauge({
      name: 'tributary_mempool_capacity_transactions',
      help: 'pending transactions the mempool takes now (maxTxs, lowered to what one recheck runs in its budget)',
      registers: [r],
      collect() {
        this.set(mempool.capacity);
      },
    });
    new Gauge({
      name: 'tributary_mempool_queued_transactions',
      help: 'transactions waiting for an earlier nonce',
      registers: [r],
      collect() {
        this.set(mempool.queuedSize);
      },
    });
    new Gauge({
      name: 'tributary_db_size_bytes',
      help: 'size of the LevelDB folder',
      registers: [r],
      collect() {
        this.set(directorySize(sources.dataDir));
      },
    });
    const blockInterval = new Histogram({
      name: 'tributary_block_interval_seconds',
      help: 'header time between consecutive committed blocks',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [r],
    });
    const blockTxs = new Histogram({
      name: 'tributary_block_transactions',
      help: 'transactions per committed block',
      buckets: [0, 1, 10, 100, 1_000, 5_000, 10_000, 20_000],
      registers: [r],
    });
    const txs = new Counter({ name: 'tributary_transactions_total', help: 'committed transactions', registers: [r] });
    const failedTxs = new Counter({
      name: 'tributary_transactions_failed_total',
      help: 'committed transactions whose message failed (fee taken, writes reverted)',
      registers: [r],
    });
    const events = new Counter({
      name: 'tributary_events_total',
      help: 'committed events by type',
      labelNames: ['type'],
      registers: [r],
    });
    const payments = new Counter({
      name: 'tributary_inference_payments_total',
      help: 'inference payments by model version',
      labelNames: ['version_id'],
      registers: [r],
    });
    const paid = new Counter({
      name: 'tributary_inference_paid_base_units_total',
      help: 'OPEN base units paid for inference, by model version',
      labelNames: ['version_id'],
      registers: [r],
    });
    const agentActions = new Counter({
      name: 'tributary_agent_actions_total',
      help: 'agent actions by agent',
      labelNames: ['agent_id'],
      registers: [r],
    });
    const contributorPayouts = new Counter({
      name: 'tributary_contributor_payout_base_units_total',
      help: 'OPEN base units paid to data contributors (payment legs of role "contributed"), by contributor',
      labelNames: ['contributor'],
      registers: [r],
    });
    const feesDistributed = new Counter({
      name: 'tributary_fees_distributed_base_units_total',
      help: 'fees paid out to validators at the end of blocks',
      registers: [r],
    });
    this.rpcDuration = new Histogram({
      name: 'tributary_rpc_request_duration_seconds',
      help: 'JSON-RPC call duration by method',
      labelNames: ['method'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5],
      registers: [r],
    });
    this.rpcErrors = new Counter({
      name: 'tributary_rpc_errors_total',
      help: 'JSON-RPC calls answered with an error, by method and code',
      labelNames: ['method', 'code'],
      registers: [r],
    });
    this.rejections = new Counter({
      name: 'tributary_tx_rejections_total',
      help: 'transactions refused at admission (tx_submit), by code',
      labelNames: ['code'],
      registers: [r],
    });
    const models = new BoundedLabels(MAX_ENTITY_LABELS);
    const agents = new BoundedLabels(MAX_ENTITY_LABELS);
    const contributors = new BoundedLabels(MAX_ENTITY_LABELS);

    let roundsPerHeight: Histogram | undefined;
    let missed: Counter | undefined;
    if (sources.consensus) {
      const consensus = sources.consensus;
      new Gauge({
        name: 'tributary_consensus_round',
        help: 'round of the height in progress',
        registers: [r],
        collect() {
          this.set(consensus.currentRound);
        },
      });
      roundsPerHeight = new Histogram({
        name: 'tributary_consensus_commit_round',
        help: 'round in which each height was decided (0: first proposal)',
        buckets: [0, 1, 2, 3, 5, 10],
        registers: [r],
      });
    }
    if (sources.peers) {
      const peers = sources.peers;
      new Gauge({
        name: 'tributary_p2p_peers',
        help: 'connected peers',
        registers: [r],
        collect() {
          this.set(peers());
        },
      });
    }
    if (sources.signer) {
      const signer = sources.signer;
      new Gauge({
        name: 'tributary_validator_last_signed_height',
        help: "height of this validator's last signed message",
        registers: [r],
        collect() {
          this.set(signer.lastSigned?.height ?? 0);
        },
      });
    }
    if (sources.validator) {
      missed = new Counter({
        name: 'tributary_validator_missed_blocks_total',
        help: "committed blocks whose certificate lacks this validator's signature while it was in the set",
        registers: [r],
      });
    }

    const onBlock = async (block: CommittedBlock): Promise<void> => {
      const header = block.header;
      if (this.lastBlockTimeMs !== undefined) blockInterval.observe((header.time_ms - this.lastBlockTimeMs) / 1000);
      this.lastBlockTimeMs = header.time_ms;
      blockTxs.observe(block.txs.length);
      txs.inc(block.txs.length);
      for (const receipt of block.receipts) {
        if (receipt.failed) failedTxs.inc();
        for (const e of receipt.events) {
          events.inc({ type: e.type });
          const attr = (k: string) => e.attributes.find((a) => a.key === k)?.value ?? '';
          if (e.type === 'inference_paid') {
            const version = models.label(attr('version_id'));
            payments.inc({ version_id: version });
            paid.inc({ version_id: version }, Number(attr('amount')));
            const roles = listElements(attr('leg_roles'));
            const recipients = listElements(attr('leg_recipients'));
            const amounts = listElements(attr('leg_amounts'));
            roles.forEach((role, i) => {
              if (role === 'contributed')
                contributorPayouts.inc({ contributor: contributors.label(recipients[i]!) }, Number(amounts[i]));
            });
          } else if (e.type === 'agent_acted') {
            agentActions.inc({ agent_id: agents.label(attr('agent_id')) });
          }
        }
      }
      for (const e of block.endBlockEvents) {
        events.inc({ type: e.type });
        if (e.type === 'fees_distributed') {
          feesDistributed.inc(Number(e.attributes.find((a) => a.key === 'amount')?.value ?? 0));
        }
      }
      if (roundsPerHeight || missed) {
        const commit = await chain.blocks.getCommit(header.height);
        if (commit) roundsPerHeight?.observe(commit.round);
        if (commit && missed && sources.validator) {
          const set = await chain.validatorSet(header.height);
          const inSet = set.get(sources.validator) !== undefined;
          if (inSet && !commit.signatures.some((s) => bytesEqual(s.validator, sources.validator!))) missed.inc();
        }
      }
    };
    this.unsubscribe = chain.events.subscribe((block) => {
      // The commit path must not wait for metrics; a failed read here costs one observation.
      onBlock(block).catch(() => {});
    });
  }

  /** Hook for the RPC server: one observation per call. */
  observeCall(method: string, seconds: number, errorCode: string | undefined): void {
    this.rpcDuration.observe({ method }, seconds);
    if (errorCode !== undefined) {
      this.rpcErrors.inc({ method, code: errorCode });
      if (method === 'tx_submit') this.rejections.inc({ code: errorCode });
    }
  }

  /** Serves `GET /metrics` (Prometheus text format) on its own address. */
  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url !== '/metrics' && req.url !== '/')) {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${e.message}\n`),
      );
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        const a = server.address();
        resolve({ host, port: typeof a === 'object' && a ? a.port : port });
      });
    });
  }

  async close(): Promise<void> {
    this.unsubscribe();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
