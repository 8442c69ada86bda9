import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contributeTx } from '../../src/attribution/datanet.ts';
import { DisputeReason, DisputeTarget, openDisputeTx, respondDisputeTx } from '../../src/attribution/dispute.ts';
import { DEFAULT_CONFIG, homePaths, type NodeConfig } from '../../src/config.ts';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { sha256, toHex, utf8 } from '../../src/crypto/hash.ts';
import { initHome } from '../../src/home.ts';
import { TEST_KEYRING } from '../../src/keys.ts';
import { startNode, type RunningNode } from '../../src/node.ts';
import { RpcClient } from '../../src/rpc/client.ts';
import type { TxDefinition } from '../../src/state/module.ts';
import { buildTx } from '../../src/state/tx.ts';
import { cliJsonAsync, tempHome, until } from '../helpers/process.ts';

/*
 * A dispute on a running node over real HTTP: the validator runs a datanet from the command line,
 * Bob contributes, Carol disputes the contribution, Bob answers, the validator (the datanet's
 * owner, so a voter) upholds it with `tributary tx dispute-vote`, and `tributary query dispute` /
 * `query disputes` show it open, then upheld at the end of its 150-block window (100 ms blocks), with the
 * contribution struck.
 */
describe('disputes through the CLI and RPC on a running node', () => {
  const home = tempHome('tributary-dispute-');
  let node: RunningNode;
  let rpc: RpcClient;
  let url: string;
  const bob = new SigningKey(sha256(utf8.encode('dispute e2e bob')));
  const carol = new SigningKey(sha256(utf8.encode('dispute e2e carol')));
  const nonces = new Map<SigningKey, number>();
  const h = (s: string) => toHex(sha256(utf8.encode(s)));

  const cli = <T>(args: string[]) => cliJsonAsync<T>(['--home', home, '--rpc', url, ...args]);
  /** Signs with a key that is not in the home's keyring and waits for the commit. */
  async function submit<M>(key: SigningKey, def: TxDefinition<M>, m: M): Promise<{ error: string | null }> {
    const nonce = nonces.get(key) ?? 0;
    nonces.set(key, nonce + 1);
    const bytes = buildTx(key, def, m, { chainId: node.chain.app.chainId, nonce, fee: 100_000n });
    const { hash } = await rpc.call<{ hash: string }>('tx_submit', ['0x' + toHex(bytes)]);
    const tx = await until(async () => {
      const t = await rpc.call<{ status: string; receipt?: { errorCode?: string | null } } | null>('tx_get', [hash]);
      return t?.status === 'committed' || t?.status === 'failed' ? t : undefined;
    });
    return { error: tx.receipt?.errorCode || null };
  }

  beforeAll(async () => {
    initHome(home, { protection: TEST_KEYRING });
    const genesisPath = homePaths(home).genesis;
    const genesis = JSON.parse(readFileSync(genesisPath, 'utf8'));
    genesis.params.modules = { ...genesis.params.modules, dispute: { votingBlocks: 150, minBond: '1000' } };
    writeFileSync(genesisPath, JSON.stringify(genesis, null, 2));
    const config: NodeConfig = { ...DEFAULT_CONFIG, rpc: { ...DEFAULT_CONFIG.rpc, port: 0 }, blockIntervalMs: 100 };
    node = await startNode(home, config, pino({ level: 'silent' }));
    url = `http://127.0.0.1:${node.rpcAddress.port}`;
    rpc = new RpcClient(url);
  }, 60_000);
  afterAll(async () => {
    await node?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('opens, answers, votes and resolves a dispute, readable with `tributary query`', async () => {
    for (const k of [bob, carol]) {
      await cli([
        'tx',
        'transfer',
        '--from',
        'validator',
        '--to',
        formatAddress(addressFromPublicKey(k.publicKey)),
        '--amount',
        '100000000',
        '--wait',
      ]);
    }
    const created = await cli<{ status: string }>([
      'tx',
      'datanet-create',
      '--from',
      'validator',
      '--name',
      'D',
      '--metadata-hash',
      h('D'),
      '--licence',
      'CC0',
      '--challenge-window',
      '1000',
      '--wait',
    ]);
    expect(created.status).toBe('committed');
    expect(
      await submit(bob, contributeTx, {
        datanet_id: 1,
        content_hash: sha256(utf8.encode('bob data')),
        size: 10,
        uri: '',
        stake: 5_000n,
      }),
    ).toEqual({ error: null });
    await cli(['tx', 'datanet-review', '--from', 'validator', '--contribution', '1', '--accept', '--wait']);
    expect(
      await submit(carol, openDisputeTx, {
        target_kind: DisputeTarget.contribution,
        target_id: 1,
        reason: DisputeReason.poisoned,
        evidence_hash: sha256(utf8.encode('evidence')),
        bond: 2_000n,
        target_seq: 0,
      }),
    ).toEqual({ error: null });
    expect(
      await submit(bob, respondDisputeTx, {
        dispute_id: 1,
        evidence_hash: sha256(utf8.encode('answer')),
        counter_bond: 1_000n,
      }),
    ).toEqual({ error: null });
    const vote = await cli<{ status: string }>([
      'tx',
      'dispute-vote',
      '--from',
      'validator',
      '--dispute',
      '1',
      '--uphold',
      '--wait',
    ]);
    expect(vote.status).toBe('committed');

    const open = await cli<{ status: string; votes: { uphold: number }; counterBond: string; resolveHeight: number }>([
      'query',
      'dispute',
      '1',
    ]);
    expect(open).toMatchObject({ status: 'open', votes: { uphold: 1 }, counterBond: '1000' });
    await until(async () =>
      (await rpc.call<{ height: number }>('chain_status')).height >= open.resolveHeight ? true : undefined,
    );
    const upheld = await cli<{
      disputes: { id: number; status: string; slashed: string }[];
      nextCursor: string | null;
    }>(['query', 'disputes', 'contribution', '1', 'upheld']);
    expect(upheld).toEqual({
      disputes: [expect.objectContaining({ id: 1, status: 'upheld', slashed: '5000' })],
      nextCursor: null,
    });
    const contribution = await rpc.call<{ status: string }>('datanet_getContribution', [1]);
    expect(contribution.status).toBe('struck');
  }, 120_000);
});
