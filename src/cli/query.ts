import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { homePaths } from '../config.ts';
import { fromHex, toHex } from '../crypto/hash.ts';
import { isTributaryError } from '../errors.ts';
import type { RpcClient } from '../rpc/client.ts';
import { parseAmount } from '../state/math.ts';
import { client, globals, print, type GlobalOptions } from './common.ts';
import type { CliQuery } from './query-commands.ts';

/** `query block|tx|proof`, then `query <name>` for every module query with a CLI name. */
/** `registry`: the module list, or just its queries' CLI side (`loadQueryCommands`, as the CLI entry passes). */
export function addQueryCommands(program: Command, registry: { readonly queries: readonly CliQuery[] }): void {
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
    .description(
      'a state value with its Merkle proof, checked here against the block header and its commit certificate',
    )
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
          result.exists
            ? `value      ${JSON.stringify(result.decoded ?? result.value)}`
            : 'value      (absent: non-inclusion proof)',
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
 * What a light client does (src/light/verify.ts): the proof must lead from key and value to the
 * state root in the block's canonical header bytes and, when this home folder has the chain's
 * genesis, those bytes must carry a commit certificate of the validator set in force at that
 * height, reached from the genesis validators by following every header's `next_validators_hash`
 * (`followToHeight`: one header and certificate per height, a validator set only where it changes).
 * Whatever the node sends is only data here: bad data is a failed check, not a crash.
 */
async function checkProof(
  g: GlobalOptions,
  rpc: RpcClient,
  r: ProofResult,
): Promise<{ proof: boolean; header: string }> {
  // Loaded here, not at the top: every other query command starts without the light client.
  const [{ verifyProof }, { loadGenesis }, light, { ValidatorSet }, { rpcLightSource }] = await Promise.all([
    import('../state/tree/proof.ts'),
    import('../genesis.ts'),
    import('../light/verify.ts'),
    import('../consensus/validator-set.ts'),
    import('./light-source.ts'),
  ]);
  const { followToHeight, genesisTrust, verifyProofInHeader, verifyProofInVerifiedHeader } = light;
  if (r.height === 0) {
    const ok = verifyProof(
      fromHex(r.stateRoot),
      fromHex(r.key),
      r.value ? fromHex(r.value) : undefined,
      fromHex(r.proof),
    );
    return { proof: ok, header: 'genesis state (no header)' };
  }
  const genesisPath = homePaths(g.home).genesis;
  const genesis = existsSync(genesisPath) ? loadGenesis(genesisPath) : undefined;
  try {
    const claim = {
      key: fromHex(r.key),
      value: r.value === null ? undefined : fromHex(r.value),
      proof: fromHex(r.proof),
    };
    if (!genesis) {
      const block = await rpc.call<{ headerBytes: string } | null>('chain_getBlock', [r.height]);
      if (!block) return { proof: false, header: `the node has no block ${r.height}` };
      const verified = verifyProofInHeader(claim, fromHex(block.headerBytes));
      // A genuine header of another height proves nothing about the height asked for.
      if (verified.header.height !== r.height)
        return {
          proof: false,
          header: `the node sent the header of block ${verified.header.height} for block ${r.height}`,
        };
      return { proof: true, header: 'root matches the header (commit not checked: no genesis in home)' };
    }
    const followed = await followToHeight(
      genesisTrust(genesis.chainId, new ValidatorSet(genesis.validators)),
      r.height,
      rpcLightSource(rpc),
    );
    const verified = verifyProofInVerifiedHeader(claim, followed);
    return {
      proof: true,
      header: `root matches header 0x${toHex(verified.blockHash)}, finalized by a valid commit certificate of the validator set followed from genesis`,
    };
  } catch (e) {
    if (!isTributaryError(e)) throw e;
    return { proof: false, header: `rejected [${e.code}]: ${e.message}` };
  }
}
