import { Command } from 'commander';
import { defaultRegistry } from '../modules.ts';
import { registerConfigCommand } from './config-command.ts';
import { reportError } from './errors.ts';
import { registerIndexCommand } from './index-command.ts';
import { addKeysCommands } from './keys.ts';
import { addInitCommand, addStartCommand, addVerifyCommand } from './node.ts';
import { addQueryCommands, addStatusCommand } from './query.ts';
import { addTxCommands } from './tx.ts';

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
  registerIndexCommand(program);
  registerConfigCommand(program);
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
    reportError(e, argv);
    process.exitCode = 1;
  }
}
