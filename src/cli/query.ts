import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { homePaths } from '../config.ts';
import { fromHex, toHex } from '../crypto/hash.ts';
import { isTributaryError } from '../errors.ts';
import type { RpcClient } from '../rpc/client.ts';
import { parseAmount } from '../state/math.ts';
import { client, globals, print, type GlobalOptions } from './common.ts';
import { formatAmount, keyValueTable, peopleView, table } from './format.ts';
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
      const found = await client(g).call('chain_getBlock', [tag, opts.full ?? false]);
      print(g, found, () => peopleView(found));
    });
  query
    .command('tx <hash>')
    .description('a transaction with its receipt')
    .action(async (hash: string, _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const tx = await client(g).call('tx_get', [hash]);
      print(g, tx, () => peopleView(tx));
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

  query
    .command('params')
    .description(
      'the chain parameters in force, the module accounts (treasury, fee collector, rewards pool, escrows) and every fee rule (chain_params), with scheduled changes (chainconfig_getParams)',
    )
    .action(async (_o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const rpc = client(g);
      const params = await rpc.call<ChainParamsView>('chain_params');
      const { schedule } = await rpc.call<{ schedule: unknown }>('chainconfig_getParams');
      print(g, { ...params, schedule }, () => paramsText(params));
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
        const result = await client(g).call(q.method, params);
        const human = HUMAN_VIEWS[q.method] ?? peopleView;
        print(g, result, () => human(result));
      });
  }
}

interface ChainParamsView {
  minFee: string;
  maxTxBytes: number;
  maxBlockTxs: number;
  maxBlockBytes: number;
  blockIntervalMs: number;
  maxClockDriftMs: number;
  modules: Record<string, unknown>;
  moduleAccounts: { name: string; module: string; address: string; description: string }[];
  feeRules: { module: string; param: string; amount: string; per: string; txTypes: string[] }[];
}

function paramsText(p: ChainParamsView): string {
  return [
    keyValueTable([
      ['min fee', formatAmount(p.minFee)],
      ['max tx bytes', String(p.maxTxBytes)],
      ['max block txs', String(p.maxBlockTxs)],
      ['max block bytes', String(p.maxBlockBytes)],
      ['block interval', `${p.blockIntervalMs} ms`],
      ['max clock drift', `${p.maxClockDriftMs} ms`],
      ['module params', JSON.stringify(p.modules)],
    ]),
    '',
    'module accounts',
    table(
      ['name', 'module', 'address', 'holds'],
      p.moduleAccounts.map((a) => [a.name, a.module, a.address, a.description]),
    ),
    '',
    'fee rules (a transaction needs the sum of those that apply)',
    table(
      ['fee', 'per', 'applies to', 'parameter'],
      p.feeRules.map((r) => [formatAmount(r.amount), r.per, r.txTypes.join(', '), r.param]),
    ),
  ].join('\n');
}

/** People-readable views of module query results (others print as indented JSON). */
const HUMAN_VIEWS: Record<string, (result: unknown) => string> = {
  account_get(r) {
    const a = r as { address: string; balance: string; nonce: number; height: number };
    return keyValueTable([
      ['address', a.address],
      ['balance', formatAmount(a.balance)],
      ['nonce', String(a.nonce)],
      ['height', String(a.height)],
    ]);
  },
  model_getUsage(r) {
    const u = r as UsageView;
    return keyValueTable([
      ['model version', String(u.versionId)],
      ['paid directly', `${u.direct.count} payments, ${formatAmount(u.direct.amount)}`],
      [
        'lineage inflow',
        `${u.lineage.count} payments, ${formatAmount(u.lineage.amount)}${u.lineage.truncated ? ' (truncated)' : ''}`,
      ],
    ]);
  },
};

interface UsageView {
  versionId: number;
  direct: { count: number; amount: string };
  lineage: { count: number; amount: string; truncated: boolean };
}

export function addStatusCommand(program: Command): void {
  program
    .command('status')
    .description('chain id, height and latest block of the node')
    .action(async (_o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const s = await client(g).call<StatusView>('chain_status');
      print(g, s, () =>
        [
          keyValueTable([
            ['chain id', s.chainId],
            ['height', `${s.height} (finalized ${s.finalizedHeight})`],
            ['latest block', s.latestBlockHash ?? '(none yet)'],
            ['state root', s.stateRoot],
            ['min fee', formatAmount(s.minFee)],
            ['mempool', `${s.mempool.size} transactions, ${s.mempool.bytes} bytes`],
          ]),
          'validators',
          table(
            ['name', 'address', 'power'],
            s.validators.map((v) => [v.name, v.address, String(v.power)]),
          ),
        ].join('\n'),
      );
    });
}

interface StatusView {
  chainId: string;
  height: number;
  finalizedHeight: number;
  latestBlockHash: string | null;
  stateRoot: string;
  minFee: string;
  mempool: { size: number; bytes: number };
  validators: { name: string; address: string; power: number }[];
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
