import { isTributaryError } from '../errors.ts';

/** Thrown while turning command-line input into a request, and while waiting for its result. */
export type CliErrorCode = 'cli/invalid' | 'cli/timeout';

/** What an error without a code is called on the terminal: a bug, not bad input. */
export const INTERNAL_ERROR = 'internal';

const DEBUG_LEVELS = new Set(['debug', 'trace']);

/** Stack traces are for developers: shown only with `--log-level debug|trace` or TRIBUTARY_LOG_LEVEL=debug|trace. */
export function wantsStack(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.TRIBUTARY_LOG_LEVEL && DEBUG_LEVELS.has(env.TRIBUTARY_LOG_LEVEL)) return true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--log-level' && DEBUG_LEVELS.has(argv[i + 1] ?? '')) return true;
    if (a.startsWith('--log-level=') && DEBUG_LEVELS.has(a.slice('--log-level='.length))) return true;
  }
  return false;
}

/**
 * The one way an error reaches the user: `error [code]: message` on stderr (or
 * `{"error": {code, message}}` with --json), whether or not the error carries a code.
 */
export function reportError(e: unknown, argv: readonly string[]): void {
  const code = isTributaryError(e) ? e.code : INTERNAL_ERROR;
  const message = e instanceof Error ? e.message : String(e);
  if (argv.includes('--json')) process.stderr.write(JSON.stringify({ error: { code, message } }) + '\n');
  else process.stderr.write(`error [${code}]: ${message}\n`);
  if (e instanceof Error && e.stack && wantsStack(argv)) process.stderr.write(e.stack + '\n');
}
