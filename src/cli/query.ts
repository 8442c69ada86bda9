import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import type { BlockHeader } from '../codec/core.ts';
import { ValidatorSet } from '../consensus/validator-set.ts';
import { homePaths } from '../config.ts';
import { parseAddress } from '../crypto/address.ts';
import { fromHex } from '../crypto/hash.ts';
import { loadGenesis } from '../genesis.ts';
import type { RpcClient } from '../rpc/client.ts';
import { parseAmount } from '../state/math.ts';
import type { TxRegistry } from '../state/registry.ts';
import { verifyProof } from '../state/tree/index.ts';
import { headerHash } from '../storage/block-store.ts';
import { client, globals, print, type GlobalOptions } from './common.ts';

/** `query block|tx|proof`, then `query <name>` for every module query with a CLI name. */
export function addQueryCommands(program: Command, registry: TxRegistry): void {
  const query = program.command('query').description('read chain state over RPC');
  query
    .command('block [block]')
    .description('a block by height, hash or "latest"')
    .option('--full', 'include decoded transactions')
    .action(async (block: string | undefined, opts: { full?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const tag = block === undefined ? 'latest' : /^\d+$/.test(block) ? Number(block) : block;
      print(g, await client(g).call('chain_getBlock', [tag, opts.full ?? false]));
    });
  query
    .command('tx <hash>')
    .description('a transaction with its receipt')
    .action(async (hash: string, _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      print(g, await client(g).call('tx_get', [hash]));
    });
  query
    .command('proof <kindOrKey> [id]')
    .description('a state value with its Merkle proof, checked here against the block header and its commit certificate')
    .option('--height <n>', 'block height (default: latest)')
    .action(async (kindOrKey: string, id: string | undefined, opts: { height?: string }, cmd: Command) => {
      const g = globals(cmd);
      const rpc = client(g);
      const key = /^0x[0-9a-fA-F]*$/.test(kindOrKey) ? kindOrKey : { kind: kindOrKey, id };
      const height = opts.height === undefined ? 'latest' : Number(parseAmount(opts.height, 'height'));
      const result = await rpc.call<ProofResult>('state_getProof', [key, height]);
      const verified = await checkProof(g, rpc, result);
      print(g, { ...result, verified }, () =>
        [
          `height     ${result.height}`,
          `state root ${result.stateRoot}`,
          `key        ${result.key}`,
          result.exists ? `value      ${JSON.stringify(result.decoded ?? result.value)}` : 'value      (absent: non-inclusion proof)',
          `proof      ${(result.proof.length - 2) / 2} bytes, ${verified.proof ? 'verifies' : 'DOES NOT VERIFY'} against the state root`,
          `header     ${verified.header}`,
        ].join('\n'),
      );
      if (!verified.proof) process.exitCode = 1;
    });

  for (const q of registry.queries) {
    if (!q.cli) continue;
    const args = q.params.map((p) => (p.optional ? `[${p.name}]` : `<${p.name}>`)).join(' ');
    query
      .command(`${q.cli} ${args}`.trim())
      .description(`${q.description} (${q.method})`)
      .action(async (...all: unknown[]) => {
        const cmd = all[all.length - 1] as Command;
        const g = globals(cmd);
        const params = q.params.map((p, i) => {
          const v = all[i] as string | undefined;
          if (v !== undefined && (p.kind === 'integer' || p.kind === 'blockTag') && /^\d+$/.test(v)) return Number(v);
          return v;
        });
        print(g, await client(g).call(q.method, params));
      });
  }
}

export function addStatusCommand(program: Command): void {
  program
    .command('status')
    .description('chain id, height and latest block of the node')
    .action(async (_o: unknown, cmd: Command) => {
      const g = globals(cmd);
      print(g, await client(g).call('chain_status'));
    });
}

interface ProofResult {
  height: number;
  blockHash: string | null;
  stateRoot: string;
  key: string;
  exists: boolean;
  value: string | null;
  decoded: unknown;
  proof: string;
}

/**
 * What a light client does: the proof must lead from key and value to the state root, that root
 * must be the one in the block header, and, when this home folder has the chain's genesis, the
 * header must carry a commit certificate signed by more than 2/3 of the genesis validators.
 */
async function checkProof(g: GlobalOptions, rpc: RpcClient, r: ProofResult): Promise<{ proof: boolean; header: string }> {
  const proofOk = verifyProof(fromHex(r.stateRoot), fromHex(r.key), r.value ? fromHex(r.value) : undefined, fromHex(r.proof));
  if (r.height === 0) return { proof: proofOk, header: 'genesis state (no header)' };
  const block = await rpc.call<Record<string, unknown> & { stateRoot: string; hash: string }>('chain_getBlock', [r.height]);
  if (block.stateRoot !== r.stateRoot) return { proof: false, header: 'state root differs from the block header' };
  const genesisPath = homePaths(g.home).genesis;
  if (!existsSync(genesisPath)) return { proof: proofOk, header: 'root matches the header (commit not checked: no genesis in home)' };
  const genesis = loadGenesis(genesisPath);
  const commit = await rpc.call<{ height: number; round: number; blockHash: string; signatures: { validator: string; signature: string }[] }>(
    'chain_getCommit',
    [r.height],
  );
  try {
    const set = new ValidatorSet(genesis.validators);
    const header = headerFromView(block);
    set.verifyCommit(
      genesis.chainId,
      { height: commit.height, round: commit.round, block_hash: fromHex(commit.blockHash), signatures: commit.signatures.map((s) => ({ validator: parseAddress(s.validator), signature: fromHex(s.signature) })) },
      header,
      headerHash(header),
    );
    return { proof: proofOk, header: `root matches header ${block.hash}, finalized by a valid commit certificate` };
  } catch (e) {
    return { proof: false, header: `commit certificate rejected: ${(e as Error).message}` };
  }
}

function headerFromView(v: Record<string, unknown>): BlockHeader {
  const b = (k: string) => fromHex(String(v[k]));
  return {
    chain_id: String(v.chainId),
    height: Number(v.height),
    time_ms: Number(v.timeMs),
    parent_hash: b('parentHash'),
    proposer: parseAddress(String(v.proposer)),
    txs_root: b('txsRoot'),
    state_root: b('stateRoot'),
    results_root: b('resultsRoot'),
    validators_hash: b('validatorsHash'),
    last_commit_hash: b('lastCommitHash'),
  };
}
