import { Command, Help, type Option } from 'commander';
import { defaultRegistry } from '../modules.ts';
import { EXIT, exitCodeOf, hintFor, reportError } from './errors.ts';
import { registerIndexCommand } from './index-command.ts';
import { addKeysCommands } from './keys.ts';
import { addInitCommand, addStartCommand, addVerifyCommand } from './node.ts';
import { addQueryCommands, addStatusCommand } from './query.ts';
import { addTxCommands } from './tx.ts';

/**
 * Help as every command shows it: the global options (--home, --rpc, --json) under each
 * subcommand, and mandatory options marked "(required)". Subcommands inherit this configuration.
 */
const HELP = {
  showGlobalOptions: true,
  optionDescription(option: Option): string {
    const base = Help.prototype.optionDescription.call(this, option);
    return option.mandatory ? `${base} (required)` : base;
  },
};

/** commander's own messages ("error: required option ...") get the CLI's code and hint, as JSON with --json. */
function usageError(text: string, argv: readonly string[] = process.argv): string {
  const message = text.replace(/^error: /, '').trimEnd();
  if (message === text.trimEnd()) return text;
  const hint = hintFor('cli/usage');
  if (argv.includes('--json')) return JSON.stringify({ error: { code: 'cli/usage', message, hint } }) + '\n';
  return `error [cli/usage]: ${message}\nhint: ${hint}\n`;
}

export function buildProgram(): Command {
  const program = new Command('tributary')
    .description('Tributary node: the accounting layer of the AI supply chain')
    .option('--home <dir>', 'node home folder (default: $TRIBUTARY_HOME or ~/.tributary)')
    .option('--json', 'machine-readable output')
    .option('--rpc <url>', 'node RPC endpoint for client commands (URL or HOST:PORT)')
    .configureHelp(HELP)
    .configureOutput({ outputError: (text, write) => write(usageError(text)) })
    // With --json, stderr carries the one JSON error line only.
    .showHelpAfterError(process.argv.includes('--json') ? false : '(add --help for usage)')
    // Before the subcommands are added, so that they inherit it: a usage error anywhere exits 2 (main).
    .exitOverride();

  const registry = defaultRegistry();
  addInitCommand(program);
  addStartCommand(program);
  addKeysCommands(program);
  addTxCommands(program, registry);
  addQueryCommands(program, registry);
  addStatusCommand(program);
  addVerifyCommand(program);
  registerIndexCommand(program);
  return program;
}

/** Exit statuses: see EXIT (src/cli/errors.ts) and the README. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      process.exitCode = EXIT.usage;
      return;
    }
    reportError(e, argv);
    process.exitCode = exitCodeOf(e);
  }
}
