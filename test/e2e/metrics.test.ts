import { rmSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, homePaths, type NodeConfig } from '../../src/config.ts';
import { addressFromPublicKey } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { initHome } from '../../src/home.ts';
import { loadKey, TEST_KEYRING } from '../../src/keys.ts';
import { startNode, type RunningNode } from '../../src/node.ts';
import { RpcClient } from '../../src/rpc/client.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { buildTx } from '../../src/state/tx.ts';
import { tempHome, until } from '../helpers/process.ts';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text exposition format 0.0.4, strictly: every line a comment, blank, or a sample. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$/.test(line)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      for (const pair of m[2].match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? []) {
        const eq = pair.indexOf('=');
        labels[pair.slice(0, eq)] = JSON.parse(pair.slice(eq + 1)) as string;
      }
    }
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

describe('Prometheus metrics and health endpoints of a running node', () => {
  const home = tempHome('tributary-metrics-');
  let node: RunningNode;
  let rpcUrl: string;
  let metricsUrl: string;

  beforeAll(async () => {
    initHome(home, { protection: TEST_KEYRING });
    const config: NodeConfig = {
      ...DEFAULT_CONFIG,
      rpc: { ...DEFAULT_CONFIG.rpc, port: 0 },
      metrics: { enabled: true, host: '127.0.0.1', port: 0 },
      blockIntervalMs: 100,
    };
    node = await startNode(home, config, pino({ level: 'silent' }));
    rpcUrl = `http://127.0.0.1:${node.rpcAddress.port}`;
    metricsUrl = `http://127.0.0.1:${node.metricsAddress!.port}/metrics`;
  });
  afterAll(async () => {
    await node.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('serves parseable metrics whose height matches chain_status and whose counters follow what happened', async () => {
    const rpc = new RpcClient(rpcUrl);
    const validator = loadKey(homePaths(home).keys, 'validator').key;
    const { chainId, params } = node.chain.app;
    let last = '';
    for (let nonce = 0; nonce < 5; nonce++) {
      const to = addressFromPublicKey(SigningKey.generate().publicKey);
      const bytes = buildTx(validator, transferTx, { to, amount: 7n }, { chainId, nonce, fee: params.minFee });
      last = (await rpc.call<{ hash: string }>('tx_submit', ['0x' + toHex(bytes)])).hash;
    }
    // Two refusals with a code: malformed bytes, and a stale nonce.
    await rpc.call('tx_submit', ['0xdeadbeef']).catch(() => undefined);
    await until(
      async () => (await rpc.call<{ status: string } | null>('tx_get', [last]))?.status === 'committed' || undefined,
    );
    const stale = buildTx(
      validator,
      transferTx,
      { to: addressFromPublicKey(validator.publicKey), amount: 1n },
      { chainId, nonce: 0, fee: params.minFee },
    );
    await rpc.call('tx_submit', ['0x' + toHex(stale)]).catch(() => undefined);

    const before = (await rpc.call<{ height: number }>('chain_status')).height;
    const res = await fetch(metricsUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const { samples, types } = parseExposition(await res.text());
    const after = (await rpc.call<{ height: number }>('chain_status')).height;
    const one = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

    expect(types.get('tributary_height')).toBe('gauge');
    const height = one('tributary_height')!;
    expect(height).toBeGreaterThanOrEqual(before);
    expect(height).toBeLessThanOrEqual(after);
    expect(one('tributary_finalized_height')).toBe(height);
    expect(one('tributary_transactions_total')).toBeGreaterThanOrEqual(5);
    expect(one('tributary_events_total', { type: 'transfer' })).toBeGreaterThanOrEqual(5);
    expect(one('tributary_tx_rejections_total', { code: 'tx/malformed' })).toBe(1);
    expect(one('tributary_tx_rejections_total', { code: 'tx/nonce_too_low' })).toBe(1);
    expect(one('tributary_rpc_request_duration_seconds_count', { method: 'tx_submit' })).toBe(7);
    expect(one('tributary_rpc_request_duration_seconds_count', { method: 'chain_status' })).toBeGreaterThanOrEqual(1);
    expect(types.get('tributary_block_interval_seconds')).toBe('histogram');
    expect(one('tributary_block_interval_seconds_count')).toBeGreaterThan(0);
    expect(one('tributary_mempool_transactions')).toBeGreaterThanOrEqual(0);
    expect(one('tributary_db_size_bytes')).toBeGreaterThan(0);
    // Process metrics from prom-client's defaults.
    expect(one('process_resident_memory_bytes')).toBeGreaterThan(0);
    // A single-validator node has no consensus rounds or peers to report.
    expect(one('tributary_p2p_peers')).toBeUndefined();
  });

  it('answers /livez and /readyz on the RPC port', async () => {
    const live = await fetch(`${rpcUrl}/livez`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${rpcUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { status: string }).status).toBe('ok');
    expect((await fetch(`${metricsUrl.replace('/metrics', '/nothing')}`)).status).toBe(404);
  });
});
