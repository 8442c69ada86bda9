import { Option, type Command } from 'commander';
import { homePaths } from '../config.ts';
import { toHex } from '../crypto/hash.ts';
import { keyBackend, loadKey } from '../keys.ts';
import { parseAmount } from '../state/math.ts';
import type { AnyTxDefinition } from '../state/module.ts';
import type { TxRegistry } from '../state/registry.ts';
import { signTx } from '../state/tx.ts';
import { client, globals, print } from './common.ts';
import { TX_CLI_SPECS, type AnyTxCliSpec, type TxCliSpecs } from './specs/index.ts';
import { passwordFileOption } from './keys.ts';
import { readPassword } from './password.ts';
import { waitForTx } from './wait.ts';

/** `tx <name>` for every registered transaction type with a CLI spec, in registry order. */
export function addTxCommands(program: Command, registry: TxRegistry, specs: TxCliSpecs = TX_CLI_SPECS): void {
  const tx = program.command('tx').description('sign and submit a transaction');
  for (const def of registry.txDefinitions) {
    const spec = specs[def.type];
    if (spec) addTxCommand(tx, def, spec);
  }
}

function addTxCommand(tx: Command, def: AnyTxDefinition, spec: AnyTxCliSpec): void {
  const cmd = tx.command(spec.name).description(`${spec.description} (${def.type})`);
  for (const o of spec.options) {
    const opt = new Option(o.flags, o.description);
    if (o.required) opt.makeOptionMandatory();
    if (o.defaultValue !== undefined) opt.default(o.defaultValue);
    cmd.addOption(opt);
  }
  cmd
    .requiredOption('--from <key>', 'name of the signing key in <home>/keys')
    .option('--fee <baseUnits>', 'fee in base units (default: the chain minimum)')
    .option('--nonce <n>', 'nonce (default: next nonce from the node, counting pending transactions)')
    .option('--wait', 'wait until the transaction is committed')
    .option('--timeout <ms>', 'how long --wait waits', '30000')
    .addOption(passwordFileOption())
    .action(async (opts: Record<string, string | boolean | undefined>, command: Command) => {
      const g = globals(command);
      const keysDir = homePaths(g.home).keys;
      const from = String(opts.from);
      // Asked only for an encrypted key; a test key (and a missing one, which loadKey names) needs none.
      const password =
        keyBackend(keysDir, from) === 'file'
          ? await readPassword({ passwordFile: opts.passwordFile as string | undefined }, `key "${from}"`)
          : undefined;
      const { key, info } = loadKey(keysDir, from, password);
      const message = spec.build(opts);
      def.validateBasic(message);
      // Every option is checked before the first RPC call: bad input never reaches the node.
      const givenNonce = opts.nonce !== undefined ? Number(parseAmount(String(opts.nonce), 'nonce')) : undefined;
      const givenFee = opts.fee !== undefined ? parseAmount(String(opts.fee), 'fee') : undefined;
      const timeoutMs = Number(parseAmount(String(opts.timeout), 'timeout'));
      const rpc = client(g);
      const status = await rpc.call<{ chainId: string; minFee: string }>('chain_status');
      const nonce = givenNonce ?? (await rpc.call<{ nonce: number }>('account_nextNonce', [info.address])).nonce;
      const fee = givenFee ?? BigInt(status.minFee);
      const bytes = signTx(key, {
        chainId: status.chainId,
        nonce,
        fee,
        type: def.type,
        payload: def.codec.encode(message),
      });
      const { hash } = await rpc.call<{ hash: string }>('tx_submit', ['0x' + toHex(bytes)]);
      if (!opts.wait) {
        print(g, { hash, status: 'pending' }, () => hash);
        return;
      }
      const { tx: result } = await waitForTx(rpc, hash, timeoutMs);
      const receipt = result.receipt!;
      const out = {
        hash,
        height: result.height,
        status: result.status,
        events: receipt.events,
        ...(result.status === 'failed' ? { errorCode: receipt.errorCode, errorMessage: receipt.errorMessage } : {}),
      };
      print(
        g,
        out,
        () =>
          `${hash} ${result.status} at height ${result.height}${receipt.errorCode ? ` (${receipt.errorCode}: ${receipt.errorMessage})` : ''}`,
      );
      if (result.status === 'failed') process.exitCode = 1;
    });
}
