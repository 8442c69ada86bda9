import { Command } from 'commander';
import { isTributaryError } from '../errors.ts';
import { defaultRegistry } from '../modules.ts';
import { addKeysCommands } from './keys.ts';
import { addInitCommand, addStartCommand, addVerifyCommand } from './node.ts';
import { addQueryCommands, addStatusCommand } from './query.ts';
import { addTxCommands } from './tx.ts';

export type CliErrorCode = 'cli/invalid_argument' | 'cli/timeout' | 'cli/tx_failed';

export function buildProgram(): Command {
  const program = new Command('tributary')
    .description('Tributary node: the accounting layer of the AI supply chain')
    .option('--home <dir>', 'node home folder (default: $TRIBUTARY_HOME or ~/.tributary)')
    .option('--json', 'machine-readable output')
    .option('--rpc <url>', 'node RPC endpoint for client commands (URL or HOST:PORT)')
    .showHelpAfterError();

  const registry = defaultRegistry();
  addInitCommand(program);
  addStartCommand(program);
  addKeysCommands(program);
  addTxCommands(program, registry);
  addQueryCommands(program, registry);
  addStatusCommand(program);
  addVerifyCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      process.exitCode = 2;
      return;
    }
    const json = argv.includes('--json');
    if (isTributaryError(e)) {
      if (json) process.stderr.write(JSON.stringify({ error: { code: e.code, message: e.message } }) + '\n');
      else process.stderr.write(`error [${e.code}]: ${e.message}\n`);
    } else {
      process.stderr.write(`error: ${(e as Error).stack ?? String(e)}\n`);
    }
    process.exitCode = 1;
  }
}
