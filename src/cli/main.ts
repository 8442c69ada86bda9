import { Command, Help, type Option } from 'commander';
import type { TxRegistry } from '../state/registry.ts';
import { EXIT, exitCodeOf, hintFor, reportError } from './errors.ts';

/*
 * The program loads only the command group that argv names (`query`, `tx`, `start`, ...): a
 * client command then never loads the node (libp2p, LevelDB, the engines), which was most of a
 * query's start-up time. With no command, or one that is not known, every group is registered,
 * so that help and "unknown command" list them all.
 */

type Register = (program: Command) => Promise<void>;

/** The module list (every module's schema and codecs), for the groups whose commands are built from it. */
async function registry(): Promise<TxRegistry> {
  return (await import('../modules.ts')).defaultRegistry();
}

const GROUPS: Record<string, Register> = {
  init: async (p) => (await import('./node.ts')).addInitCommand(p),
  start: async (p) => (await import('./node.ts')).addStartCommand(p),
  verify: async (p) => (await import('./node.ts')).addVerifyCommand(p),
  keys: async (p) => (await import('./keys.ts')).addKeysCommands(p),
  tx: async (p) => (await import('./tx.ts')).addTxCommands(p, await registry()),
  // Module queries from query-commands.json, generated from the registry: no module is loaded.
  query: async (p) =>
    (await import('./query.ts')).addQueryCommands(p, {
      queries: (await import('./query-commands.ts')).loadQueryCommands(),
    }),
  status: async (p) => (await import('./query.ts')).addStatusCommand(p),
  index: async (p) => (await import('./index-command.ts')).registerIndexCommand(p),
  config: async (p) => (await import('./config-command.ts')).registerConfigCommand(p),
};

/** Global options that take a value: their value is not the command name. */
const GLOBAL_WITH_VALUE = new Set(['--home', '--rpc']);

/** The first argument that is not a global option or its value: the command group, if any. */
export function commandName(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (GLOBAL_WITH_VALUE.has(a)) i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

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

export async function buildProgram(args: readonly string[] = []): Promise<Command> {
  const program = new Command('tributary')
    .description('Tributary node: the accounting layer of the AI supply chain')
    .option('--home <dir>', 'node home folder (default: $TRIBUTARY_HOME or ~/.tributary)')
    .option('--json', 'machine-readable output')
    .option('--rpc <url>', 'node RPC endpoint for client commands (URL or HOST:PORT; env TRIBUTARY_CLIENT_RPC)')
    .configureHelp(HELP)
    .configureOutput({ outputError: (text, write) => write(usageError(text)) })
    // With --json, stderr carries the one JSON error line only.
    .showHelpAfterError(process.argv.includes('--json') ? false : '(add --help for usage)')
    // Before the subcommands are added, so that they inherit it: a usage error anywhere exits 2 (main).
    .exitOverride();
  const name = commandName(args);
  const only = name !== undefined && Object.hasOwn(GROUPS, name) ? GROUPS[name]! : undefined;
  if (only) await only(program);
  else for (const register of Object.values(GROUPS)) await register(program);
  return program;
}

/** Exit statuses: see EXIT (src/cli/errors.ts) and the README. */
export async function main(argv: string[]): Promise<void> {
  try {
    const program = await buildProgram(argv.slice(2));
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
