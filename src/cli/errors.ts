import { errorModule, isTributaryError, type ErrorCode } from '../errors.ts';

/**
 * Thrown while turning command-line input into a request (`cli/invalid`), by the argument parser
 * (`cli/usage`: unknown option, missing required option), while waiting for a result
 * (`cli/timeout`), and for transaction files (`cli/bad_tx_file`: not a file `tx --generate-only` or
 * `tx sign` wrote; `cli/offline`: `--offline` without what signing needs).
 */
export type CliErrorCode = 'cli/invalid' | 'cli/usage' | 'cli/timeout' | 'cli/bad_tx_file' | 'cli/offline';

/** What an error without a code is called on the terminal: a bug, not bad input. */
export const INTERNAL_ERROR = 'internal';

/**
 * Exit statuses, one per kind of failure, so scripts can tell them apart (README "Using the CLI"):
 * the command line was wrong (nothing was sent), the node refused the transaction (or a
 * simulation or the committed receipt says it fails), the node could not be reached.
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, rejected: 3, network: 4 } as const;

/** Codes that mean the input itself is wrong: found before anything is signed or sent. */
const USAGE_CODES = new Set<string>([
  'cli/invalid',
  'cli/usage',
  'cli/bad_tx_file',
  'cli/offline',
  'codec/invalid_hex',
  'address/invalid',
  'math/invalid_amount',
]);

const NETWORK_CODES = new Set<string>(['rpc/unreachable']);

/** Errors given a class where they are caught (the node's answer to a transaction, a local check). */
const classified = new WeakMap<object, number>();

/** Marks `e` as the node's refusal of a transaction (exit 3), and returns it for `throw`. */
export function asRejection(e: unknown): unknown {
  if (!(isTributaryError(e) && NETWORK_CODES.has(e.code))) return classify(e, EXIT.rejected);
  return e;
}

/** Marks `e` as bad input found before anything was signed or sent (exit 2), e.g. a failed `validateBasic`. */
export function asUsageError(e: unknown): unknown {
  return classify(e, EXIT.usage);
}

function classify(e: unknown, exit: number): unknown {
  // Only coded errors: an uncoded one is a bug whatever it interrupted.
  if (isTributaryError(e)) classified.set(e, exit);
  return e;
}

export function exitCodeOf(e: unknown): number {
  if (!isTributaryError(e)) return EXIT.failure;
  const given = classified.get(e);
  if (given !== undefined) return given;
  if (USAGE_CODES.has(e.code)) return EXIT.usage;
  if (NETWORK_CODES.has(e.code)) return EXIT.network;
  return EXIT.failure;
}

/** What to do next, by code; then by module for the codes a module shares one remedy for. */
const HINTS: Partial<Record<ErrorCode, string>> = {
  'cli/invalid': 'check the option named in the message; `tributary <command> --help` lists each one',
  'cli/usage': 'see `tributary <command> --help`: required options are marked (required)',
  'cli/timeout': 'the transaction may still commit: look it up with `tributary query tx HASH`',
  'cli/bad_tx_file': 'give a file written by `tx <command> --generate-only` (to sign) or by `tx sign` (to broadcast)',
  'cli/offline': 'offline signing needs --nonce N, --chain-id ID and a numeric fee (--fee N); or drop --offline',
  'codec/invalid_hex': 'give hex digits, an even number of them (64 for a 32-byte hash), with or without 0x',
  'address/invalid': 'an address is bech32 "trib1..." as `tributary keys show NAME` prints it; check for typos',
  'math/invalid_amount':
    'amounts are whole numbers of base units, 0 or more, without a sign, decimal point or exponent',
  'rpc/unreachable': 'is the node running (`tributary start`)? Otherwise pass --rpc HOST:PORT or set TRIBUTARY_RPC',
  'rpc/error': 'the endpoint is not a Tributary node, or an incompatible version: check --rpc',
  'rpc/method_not_found': 'the node is of another version: `tributary status` and `rpc_methods` show what it offers',
  'tx/nonce_too_low': 'omit --nonce: the next nonce is looked up (counting the mempool)',
  'tx/nonce_too_high': 'omit --nonce, or first send the transactions with the nonces before it',
  'tx/fee_too_low':
    'omit --fee (the default, auto, signs with the fee the node simulation asks), or --dry-run to see it',
  'tx/insufficient_fee_balance': 'the sender cannot pay the fee: fund it with `tributary tx transfer`',
  'bank/insufficient_funds': 'the sender balance is too low: `tributary query account ADDRESS` shows it',
  'tx/wrong_chain_id': 'sign again for this chain: `tributary status` shows its chain id',
  'tx/bad_signature': 'sign the transaction again with the key that is its sender',
  'mempool/full': 'the node is busy: try again in a few blocks',
  'mempool/sender_limit': 'wait until your pending transactions commit, then send more',
  'mempool/duplicate': 'this transaction is already pending: `tributary query tx HASH`',
  'keys/not_found': '`tributary keys list` shows the keys in this --home; `keys new NAME` creates one',
  'keys/password_required': 'give --password-file FILE or set TRIBUTARY_PASSWORD (or run on a terminal to be asked)',
  'keystore/bad_password': 'the password does not open this key: try again',
  'model/unknown_parent': 'a parent must exist: `tributary query model ID` or `query datanet ID` checks it',
};

const MODULE_HINTS: Record<string, string> = {
  config: '`tributary config show` prints the effective configuration and where each value came from',
  home: 'run `tributary init` for this --home first',
};

/** Then by reason, for the reasons every module uses alike. */
const REASON_HINTS: Record<string, string> = {
  invalid: 'the message names the field that is wrong; `tributary tx <command> --help` describes each option',
  not_found: 'check the id: the matching `tributary query` command shows what exists',
  unauthorized: 'sign with the key that owns the record (--from), or ask its owner',
};

export function hintFor(code: string): string | undefined {
  return HINTS[code as ErrorCode] ?? MODULE_HINTS[errorModule(code)] ?? REASON_HINTS[code.slice(code.indexOf('/') + 1)];
}

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
 * The one way an error reaches the user: `error [code]: message` on stderr, then `hint: ...`
 * (or `{"error": {code, message, hint}}` with --json), whether or not the error carries a code.
 */
export function reportError(e: unknown, argv: readonly string[]): void {
  const code = isTributaryError(e) ? e.code : INTERNAL_ERROR;
  const message = e instanceof Error ? e.message : String(e);
  const hint = hintFor(code);
  if (argv.includes('--json'))
    process.stderr.write(JSON.stringify({ error: { code, message, ...(hint ? { hint } : {}) } }) + '\n');
  else process.stderr.write(`error [${code}]: ${message}\n${hint ? `hint: ${hint}\n` : ''}`);
  if (e instanceof Error && e.stack && wantsStack(argv)) process.stderr.write(e.stack + '\n');
}
