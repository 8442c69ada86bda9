import { Option, type Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { SignedTxCodec, TxBodyCodec } from '../codec/core.ts';
import { homePaths } from '../config.ts';
import { addressFromPublicKey, formatAddress } from '../crypto/address.ts';
import { bytesEqual, fromHex } from '../crypto/hash.ts';
import { hex0x } from '../codec/json.ts';
import { TributaryError, type ErrorCode } from '../errors.ts';
import { keyBackend, loadKey, readKeyInfo } from '../keys.ts';
import type { RpcClient } from '../rpc/client.ts';
import { parseAmount } from '../state/math.ts';
import type { AnyTxDefinition } from '../state/module.ts';
import type { TxRegistry } from '../state/registry.ts';
import { signTx, txHash } from '../state/tx.ts';
import { client, globals, print, type GlobalOptions } from './common.ts';
import { asRejection, asUsageError, EXIT, type CliErrorCode } from './errors.ts';
import { formatAmount, keyValueTable, table } from './format.ts';
import { passwordFileOption } from './keys.ts';
import { readPassword } from './password.ts';
import { waitForTx } from './wait.ts';
import { TX_CLI_SPECS, type AnyTxCliSpec, type TxCliSpecs } from './specs/index.ts';

/*
 * `tx <command>`: build, check, (simulate,) sign and submit one transaction; `--dry-run` only
 * simulates, `--generate-only` writes the unsigned transaction to a file for `tx sign` (online, or
 * `--offline` with no network at all) and `tx broadcast`. Every option is checked before the first
 * RPC call and before anything is signed: bad input never reaches the node.
 *
 * `--fee auto` (the default) is the fee the node's `tx_simulate` reports as required: `minFee` plus
 * what execution metered (an `inference/pay`'s lineage nodes and contributions), simulated on the
 * pending state (the mempool included) with the nonce the transaction is signed with. It is exactly
 * that requirement, no margin: the requirement is a deterministic function of the state the
 * transaction runs on, so it only changes if a transaction ahead of it changes that state (a
 * parent's lineage or a payment's contributions) between the simulation and the block.
 */

/** The file `--generate-only` writes and `tx sign` reads (README "Offline signing"). */
export interface UnsignedTxFile {
  format: 'tributary-unsigned-tx';
  version: 1;
  /** null: looked up from the node at `tx sign`, or given there with --chain-id. */
  chainId: string | null;
  type: string;
  /** 0x-hex of the canonical payload: what is signed. */
  payload: string;
  /** The decoded payload, for people reading the file; never signed. */
  message: unknown;
  /** Base units, or "auto": the node's simulation at `tx sign` (not with --offline). */
  fee: string;
  /** null: the sender's next nonce at `tx sign` (counting the mempool), or --nonce there. */
  nonce: number | null;
  sender: { address: string; publicKey: string };
}

/** The file `tx sign` writes and `tx broadcast` sends. */
export interface SignedTxFile {
  format: 'tributary-signed-tx';
  version: 1;
  hash: string;
  /** 0x-hex of the canonical SignedTx bytes. */
  tx: string;
  chainId: string;
  type: string;
  fee: string;
  nonce: number;
  sender: string;
}

interface SimulationView {
  ok: boolean;
  requiredFee: string;
  declaredFee: string;
  chargedFee: string;
  events: { type: string; attributes: Record<string, string> }[];
  error: { code: string; message: string } | null;
}

interface BodyInput {
  chainId: string;
  senderPublicKey: Uint8Array;
  nonce: number;
  fee: bigint;
  type: string;
  payload: Uint8Array;
}

function encodeBody(b: BodyInput): Uint8Array {
  return TxBodyCodec.encode({
    chain_id: b.chainId,
    sender_pubkey: b.senderPublicKey,
    nonce: b.nonce,
    fee: b.fee,
    type: b.type,
    payload: b.payload,
  });
}

/** `tx_simulate` does not check the signature: 64 zero bytes stand in for it, so no key is opened. */
async function simulate(rpc: RpcClient, b: BodyInput): Promise<SimulationView> {
  const bytes = SignedTxCodec.encode({ body: encodeBody(b), signature: new Uint8Array(64) });
  try {
    return await rpc.call<SimulationView>('tx_simulate', [hex0x(bytes)]);
  } catch (e) {
    throw asRejection(e);
  }
}

/** A simulation that fails stops the command before anything is signed: its code, exit 3. */
function failedSimulation(sim: SimulationView): TributaryError {
  const error = sim.error!;
  return asRejection(
    new TributaryError(error.code as ErrorCode, `the node's simulation refuses it: ${error.message}; nothing was sent`),
  ) as TributaryError;
}

/**
 * `--fee auto`: the fee the simulation requires. A nonce ahead of the sender's next one waits in
 * the queue for the transactions before it, which the node does not have yet: its fee is simulated
 * at the next nonce, on the state without them.
 */
async function simulatedFee(rpc: RpcClient, b: Omit<BodyInput, 'fee'>): Promise<bigint> {
  let sim = await simulate(rpc, { ...b, fee: 0n });
  if (!sim.ok && sim.error?.code === 'tx/nonce_too_high') {
    const next = await nextNonce(rpc, formatAddress(addressFromPublicKey(b.senderPublicKey)));
    sim = await simulate(rpc, { ...b, nonce: next, fee: 0n });
  }
  if (!sim.ok) throw failedSimulation(sim);
  return BigInt(sim.requiredFee);
}

async function submit(rpc: RpcClient, bytes: Uint8Array): Promise<{ hash: string; queued: boolean }> {
  try {
    return await rpc.call<{ hash: string; queued: boolean }>('tx_submit', [hex0x(bytes)]);
  } catch (e) {
    throw asRejection(e);
  }
}

async function nextNonce(rpc: RpcClient, address: string): Promise<number> {
  return (await rpc.call<{ nonce: number }>('account_nextNonce', [address])).nonce;
}

/** `--fee`: "auto" or base units. */
function parseFee(text: string | undefined): bigint | 'auto' {
  if (text === undefined || text === 'auto') return 'auto';
  return parseAmount(text, 'fee');
}

function parseNonce(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = parseAmount(text, 'nonce');
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new TributaryError('math/invalid_amount', `nonce ${n} is too large`);
  return Number(n);
}

function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TributaryError<CliErrorCode>('cli/bad_tx_file', `cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new TributaryError<CliErrorCode>('cli/bad_tx_file', `${path} is not JSON`);
  }
}

/** JSON to `--output FILE` (then a line saying so) or to stdout. */
function writeOut(g: GlobalOptions, output: string | undefined, value: unknown, what: string): void {
  if (output === undefined) {
    print(g, value);
    return;
  }
  writeFileSync(output, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  print(g, { path: output }, () => `${what} written to ${output}`);
}

function eventRows(events: SimulationView['events']): string {
  if (events.length === 0) return '(none)';
  return table(
    ['event', 'attributes'],
    events.map((e) => [
      e.type,
      Object.entries(e.attributes)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
    ]),
  );
}

function printSimulation(g: GlobalOptions, type: string, nonce: number, sim: SimulationView): void {
  print(g, { dryRun: true, type, nonce, ...sim }, () =>
    [
      keyValueTable([
        ['dry run', `${type} (nothing was signed or sent)`],
        ['outcome', sim.ok ? 'would succeed' : `would fail [${sim.error!.code}]: ${sim.error!.message}`],
        ['nonce', String(nonce)],
        ['fee needed', formatAmount(sim.requiredFee)],
        ['fee declared', formatAmount(sim.declaredFee)],
      ]),
      eventRows(sim.events),
    ].join('\n'),
  );
}

/** `tx <name>` for every registered transaction type with a CLI spec, then `tx sign` and `tx broadcast`. */
export function addTxCommands(program: Command, registry: TxRegistry, specs: TxCliSpecs = TX_CLI_SPECS): void {
  const tx = program.command('tx').description('build, simulate, sign and submit transactions');
  for (const def of registry.txDefinitions) {
    const spec = specs[def.type];
    if (spec) addTxCommand(tx, def, spec);
  }
  addSignCommand(tx, registry);
  addBroadcastCommand(tx);
}

/** The key's password, asked only for an encrypted key (a test key, and a missing one, need none). */
async function openKey(g: GlobalOptions, name: string, passwordFile: string | undefined) {
  const keysDir = homePaths(g.home).keys;
  const password =
    keyBackend(keysDir, name) === 'file' ? await readPassword({ passwordFile }, `key "${name}"`) : undefined;
  return loadKey(keysDir, name, password);
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
    .requiredOption('--from <key>', 'name of the signing key in <home>/keys (the sender)')
    .option(
      '--fee <baseUnits|auto>',
      'fee in base units; auto: the fee the node simulation needs (minFee plus metered work)',
      'auto',
    )
    .option('--nonce <n>', 'nonce (default: next nonce from the node, counting pending transactions)')
    .option('--dry-run', 'simulate on the node only: fee needed, events, error; nothing is signed or sent')
    .option('--generate-only', 'write the unsigned transaction (for `tx sign`) and stop; no network')
    .option(
      '--chain-id <id>',
      'chain id: recorded by --generate-only (default: looked up at `tx sign`), else checked against the node',
    )
    .option('--output <file>', 'with --generate-only: write the file here instead of stdout')
    .option('--wait', 'wait until the transaction is committed')
    .option('--timeout <ms>', 'how long --wait waits', '30000')
    .addOption(passwordFileOption())
    .action(async (opts: Record<string, string | boolean | undefined>, command: Command) => {
      const g = globals(command);
      const from = String(opts.from);
      let message: unknown;
      try {
        message = spec.build(opts);
        def.validateBasic(message);
      } catch (e) {
        throw asUsageError(e);
      }
      const payload = def.codec.encode(message);
      const givenNonce = parseNonce(opts.nonce as string | undefined);
      const fee = parseFee(opts.fee as string | undefined);
      const timeoutMs = Number(parseAmount(String(opts.timeout), 'timeout'));
      // The sender's public key is in the key file's clear fields: generating and simulating open no key.
      const sender = readKeyInfo(homePaths(g.home).keys, from);
      const senderPublicKey = fromHex(sender.publicKey);

      if (opts.generateOnly) {
        const file: UnsignedTxFile = {
          format: 'tributary-unsigned-tx',
          version: 1,
          chainId: (opts.chainId as string | undefined) ?? null,
          type: def.type,
          payload: hex0x(payload),
          message: def.view(message),
          fee: fee === 'auto' ? 'auto' : fee.toString(),
          nonce: givenNonce ?? null,
          sender: { address: sender.address, publicKey: hex0x(senderPublicKey) },
        };
        writeOut(g, opts.output as string | undefined, file, 'unsigned transaction');
        return;
      }

      const rpc = client(g);
      const status = await rpc.call<{ chainId: string; minFee: string }>('chain_status');
      if (opts.chainId !== undefined && opts.chainId !== status.chainId)
        throw new TributaryError<CliErrorCode>(
          'cli/invalid',
          `--chain-id ${String(opts.chainId)} is not the node's chain (${status.chainId})`,
        );
      const nonce = givenNonce ?? (await nextNonce(rpc, sender.address));
      const body = { chainId: status.chainId, senderPublicKey, nonce, type: def.type, payload };
      if (opts.dryRun) {
        const sim = await simulate(rpc, { ...body, fee: fee === 'auto' ? 0n : fee });
        printSimulation(g, def.type, nonce, sim);
        if (!sim.ok) process.exitCode = EXIT.rejected;
        return;
      }
      const signFee = fee === 'auto' ? await simulatedFee(rpc, body) : fee;
      const { key } = await openKey(g, from, opts.passwordFile as string | undefined);
      const bytes = signTx(key, { ...body, fee: signFee });
      const { hash, queued } = await submit(rpc, bytes);
      if (!opts.wait) {
        print(g, { hash, status: queued ? 'queued' : 'pending', type: def.type, nonce, fee: signFee.toString() }, () =>
          keyValueTable([
            ['hash', hash],
            ['status', queued ? 'queued (waits for an earlier nonce)' : 'pending'],
            ['type', def.type],
            ['sender', `${from} (${sender.address})`],
            ['nonce', String(nonce)],
            ['fee', formatAmount(signFee)],
          ]),
        );
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
      if (result.status === 'failed') process.exitCode = EXIT.rejected; // committed, but its message failed
    });
}

function badFile(path: string, why: string): TributaryError {
  return new TributaryError<CliErrorCode>('cli/bad_tx_file', `${path}: ${why}`);
}

/** Reads and checks an unsigned transaction file: its payload must decode and pass the type's checks. */
function readUnsigned(path: string, registry: TxRegistry): { file: UnsignedTxFile; def: AnyTxDefinition } {
  const raw = readJsonFile(path) as Partial<UnsignedTxFile> | null;
  if (raw?.format !== 'tributary-unsigned-tx') throw badFile(path, 'not an unsigned transaction file');
  if (raw.version !== 1) throw badFile(path, `layout version ${String(raw.version)} is not supported (this CLI: 1)`);
  const def = registry.txDefinitions.find((d) => d.type === raw.type);
  if (!def) throw badFile(path, `unknown transaction type "${String(raw.type)}"`);
  if (typeof raw.payload !== 'string' || typeof raw.sender?.publicKey !== 'string')
    throw badFile(path, 'payload and sender.publicKey must be hex strings');
  if (raw.chainId !== null && typeof raw.chainId !== 'string') throw badFile(path, 'chainId must be a string or null');
  if (raw.nonce !== null && !Number.isSafeInteger(raw.nonce)) throw badFile(path, 'nonce must be an integer or null');
  if (typeof raw.fee !== 'string') throw badFile(path, 'fee must be "auto" or a base-unit string');
  try {
    def.validateBasic(def.codec.decode(fromHex(raw.payload)));
  } catch (e) {
    throw badFile(path, `payload is not a valid ${def.type}: ${(e as Error).message}`);
  }
  return { file: raw as UnsignedTxFile, def };
}

function addSignCommand(tx: Command, registry: TxRegistry): void {
  tx.command('sign <file>')
    .description(
      'sign an unsigned transaction file (from --generate-only); --offline: with no network, given --nonce and --chain-id',
    )
    .requiredOption('--key <name>', 'name of the key in <home>/keys; must be the file sender')
    .option('--offline', 'sign with no network: needs --nonce, --chain-id and a numeric fee (file or --fee)')
    .option('--nonce <n>', "nonce (default: the file's, else the sender's next nonce from the node)")
    .option('--chain-id <id>', "chain id (default: the file's, else the node's)")
    .option('--fee <baseUnits|auto>', "fee (default: the file's; auto: the node simulation's)")
    .option('--output <file>', 'write the signed transaction here instead of stdout')
    .addOption(passwordFileOption())
    .action(async (path: string, opts: Record<string, string | boolean | undefined>, cmd: Command) => {
      const g = globals(cmd);
      const { file } = readUnsigned(path, registry);
      const senderPublicKey = fromHex(file.sender.publicKey);
      const givenChainId = opts.chainId as string | undefined;
      if (givenChainId !== undefined && file.chainId !== null && givenChainId !== file.chainId)
        throw new TributaryError<CliErrorCode>(
          'cli/invalid',
          `--chain-id ${givenChainId} differs from the file's chain id ${file.chainId}`,
        );
      let chainId = givenChainId ?? file.chainId;
      let nonce = parseNonce(opts.nonce as string | undefined) ?? file.nonce ?? undefined;
      let fee = parseFee((opts.fee as string | undefined) ?? file.fee);

      if (opts.offline) {
        const missing = [
          ...(nonce === undefined ? ['--nonce N'] : []),
          ...(chainId === null ? ['--chain-id ID'] : []),
          ...(fee === 'auto' ? ['a fee (--fee N): auto needs the node'] : []),
        ];
        if (missing.length > 0)
          throw new TributaryError<CliErrorCode>('cli/offline', `--offline signing needs ${missing.join(', ')}`);
      } else {
        const rpc = client(g);
        const status = await rpc.call<{ chainId: string }>('chain_status');
        if (chainId !== null && chainId !== status.chainId)
          throw new TributaryError<CliErrorCode>(
            'cli/invalid',
            `the transaction is for chain ${chainId}, the node serves ${status.chainId}`,
          );
        chainId = status.chainId;
        nonce ??= await nextNonce(rpc, formatAddress(addressFromPublicKey(senderPublicKey)));
        if (fee === 'auto')
          fee = await simulatedFee(rpc, {
            chainId,
            senderPublicKey,
            nonce,
            type: file.type,
            payload: fromHex(file.payload),
          });
      }
      const { key, info } = await openKey(g, String(opts.key), opts.passwordFile as string | undefined);
      if (!bytesEqual(key.publicKey, senderPublicKey))
        throw new TributaryError<CliErrorCode>(
          'cli/invalid',
          `key "${info.name}" is ${info.address}, but the transaction's sender is ${file.sender.address}`,
        );
      const body = {
        chainId: chainId!,
        senderPublicKey,
        nonce: nonce!,
        fee: fee as bigint,
        type: file.type,
        payload: fromHex(file.payload),
      };
      // The key is the file's sender (checked above): signTx signs as its public key.
      const bytes = signTx(key, body);
      const signed: SignedTxFile = {
        format: 'tributary-signed-tx',
        version: 1,
        hash: hex0x(txHash(bytes)),
        tx: hex0x(bytes),
        chainId: body.chainId,
        type: body.type,
        fee: body.fee.toString(),
        nonce: body.nonce,
        sender: info.address,
      };
      writeOut(g, opts.output as string | undefined, signed, `signed transaction ${signed.hash}`);
    });
}

function addBroadcastCommand(tx: Command): void {
  tx.command('broadcast <file>')
    .description('submit a signed transaction file (from `tx sign`) to the node')
    .action(async (path: string, _opts: unknown, cmd: Command) => {
      const g = globals(cmd);
      const raw = readJsonFile(path) as Partial<SignedTxFile> | null;
      if (raw?.format !== 'tributary-signed-tx') throw badFile(path, 'not a signed transaction file (from `tx sign`)');
      if (raw.version !== 1)
        throw badFile(path, `layout version ${String(raw.version)} is not supported (this CLI: 1)`);
      if (typeof raw.tx !== 'string') throw badFile(path, 'tx must be the hex of the signed transaction');
      const bytes = fromHex(raw.tx);
      if (raw.hash !== undefined && raw.hash !== hex0x(txHash(bytes)))
        throw badFile(path, `hash ${String(raw.hash)} is not the hash of its tx (edited after signing?)`);
      const { hash, queued } = await submit(client(g), bytes);
      print(g, { hash, status: queued ? 'queued' : 'pending' }, () =>
        keyValueTable([
          ['hash', hash],
          ['status', queued ? 'queued (waits for an earlier nonce)' : 'pending'],
          ['type', String(raw.type)],
          ['nonce', String(raw.nonce)],
        ]),
      );
    });
}
