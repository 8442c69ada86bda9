import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contributeTx, createDatanetTx, reviewTx } from '../../src/attribution/datanet.ts';
import { publishModelTx, registerModelTx } from '../../src/attribution/model.ts';
import { EdgeKind, Relation } from '../../src/attribution/store.ts';
import { TX_CLI_SPECS } from '../../src/cli/specs/index.ts';
import { homePaths } from '../../src/config.ts';
import { addressFromPublicKey, formatAddress, moduleAddress } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { sha256, toHex, utf8 } from '../../src/crypto/hash.ts';
import { loadKey } from '../../src/keys.ts';
import type { TxDefinition } from '../../src/state/module.ts';
import { buildTx } from '../../src/state/tx.ts';
import {
  CLI,
  cliJson,
  startNodeProcess,
  stopNodeProcess,
  tempHome,
  until,
  type NodeProcess,
} from '../helpers/process.ts';

interface Run {
  stdout: string;
  stderr: string;
  status: number | null;
}

/** The CLI as an OS process, without blocking this process (the counting endpoint below runs here). */
function run(args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, TRIBUTARY_LOG_LEVEL: '' };
  delete env.TRIBUTARY_RPC;
  return new Promise((resolve) => {
    const child = spawn(CLI, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('exit', (status) => resolve({ stdout, stderr, status }));
  });
}

const STACK_LINE = /^\s+at /m;
const EXIT = { usage: 2, rejected: 3, network: 4 };
const h = (s: string) => sha256(utf8.encode(s));

/**
 * `tributary tx` against a real node process: offline signing in three steps, `tx sign` online,
 * `--dry-run` and the default `--fee auto` on an `inference/pay` with a long lineage, the exit
 * code of each class of failure, and malformed hex, addresses and amounts on every command that
 * takes them (refused before anything is signed: the node's nonce and mempool do not move).
 */
describe('CLI transactions on a real node', () => {
  const home = tempHome('tributary-cli-tx-');
  let node: NodeProcess;
  let validator: string;
  let validatorKey: SigningKey;
  let chainId: string;
  let minFee: bigint;
  // An endpoint that counts every request: what the offline steps are pointed at.
  let counter: Server;
  let counted = 0;
  let counterAddress: string;
  const bob = formatAddress(addressFromPublicKey(SigningKey.generate().publicKey));
  const atNode = () => ['--home', home, '--rpc', node.url];
  const file = (name: string) => join(home, name);

  const status = () => node.rpc.call<{ mempool: { size: number }; chainId: string; minFee: string }>('chain_status');
  const nextNonce = async () => (await node.rpc.call<{ nonce: number }>('account_nextNonce', [validator])).nonce;
  const committedNonce = async () => (await node.rpc.call<{ nonce: number }>('account_get', [validator])).nonce;
  const committed = (hash: string) =>
    until(async () => {
      const tx = await node.rpc.call<{ status: string; receipt: { fee: string; errorCode: string | null } } | null>(
        'tx_get',
        [hash],
      );
      return tx && (tx.status === 'committed' || tx.status === 'failed') ? tx : undefined;
    });

  beforeAll(async () => {
    validator = cliJson<{ validator: { address: string } }>(['--home', home, 'init', '--keyring-backend', 'test'])
      .validator.address;
    cliJson(['--home', home, 'keys', 'new', 'other', '--keyring-backend', 'test']);
    validatorKey = loadKey(homePaths(home).keys, 'validator').key;
    node = await startNodeProcess(home);
    const s = await status();
    chainId = s.chainId;
    minFee = BigInt(s.minFee);
    counter = createServer((req, res) => {
      counted++;
      req.resume();
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => counter.listen(0, '127.0.0.1', resolve));
    counterAddress = `127.0.0.1:${(counter.address() as AddressInfo).port}`;
  }, 60_000);
  afterAll(async () => {
    if (node) await stopNodeProcess(node);
    await new Promise((resolve) => counter.close(resolve));
    rmSync(home, { recursive: true, force: true });
  });

  it('signs offline in three steps: --generate-only and tx sign --offline reach no network, tx broadcast commits', async () => {
    const nonce = await nextNonce();
    const offline = ['--home', home, '--rpc', counterAddress];
    const gen = await run([
      ...offline,
      'tx',
      'transfer',
      '--from',
      'validator',
      '--to',
      bob,
      '--amount',
      '7',
      '--generate-only',
      '--output',
      file('unsigned.json'),
    ]);
    expect(gen.status, gen.stderr).toBe(0);
    const unsigned = JSON.parse(readFileSync(file('unsigned.json'), 'utf8'));
    expect(unsigned).toMatchObject({
      format: 'tributary-unsigned-tx',
      version: 1,
      chainId: null,
      type: 'bank/transfer',
      fee: 'auto',
      nonce: null,
      message: { to: bob, amount: '7' },
      sender: { address: validator },
    });

    // Offline signing needs what it cannot look up: refused, naming each, before any key is opened.
    const incomplete = await run([...offline, 'tx', 'sign', file('unsigned.json'), '--key', 'validator', '--offline']);
    expect(incomplete.status).toBe(EXIT.usage);
    expect(incomplete.stderr).toMatch(/^error \[cli\/offline\]: .*--nonce N, --chain-id ID, a fee/);

    const signArgs = ['--nonce', String(nonce), '--chain-id', chainId, '--fee', String(minFee)];
    const signed = await run([
      ...offline,
      'tx',
      'sign',
      file('unsigned.json'),
      '--key',
      'validator',
      '--offline',
      ...signArgs,
      '--output',
      file('signed.json'),
    ]);
    expect(signed.status, signed.stderr).toBe(0);
    expect(counted).toBe(0);
    const signedFile = JSON.parse(readFileSync(file('signed.json'), 'utf8'));
    expect(signedFile).toMatchObject({ format: 'tributary-signed-tx', version: 1, chainId, nonce, sender: validator });

    // Another key is not the sender: refused, nothing written.
    const wrongKey = await run([
      ...offline,
      'tx',
      'sign',
      file('unsigned.json'),
      '--key',
      'other',
      '--offline',
      ...signArgs,
    ]);
    expect(wrongKey.status).toBe(EXIT.usage);
    expect(wrongKey.stderr).toMatch(/^error \[cli\/invalid\]: key "other" is trib1.*sender is/);
    expect(counted).toBe(0);

    const sent = await run([...atNode(), 'tx', 'broadcast', file('signed.json'), '--json']);
    expect(sent.status, sent.stderr).toBe(0);
    expect(JSON.parse(sent.stdout).hash).toBe(signedFile.hash);
    expect((await committed(signedFile.hash)).status).toBe('committed');
    expect((await node.rpc.call<{ balance: string }>('account_get', [bob])).balance).toBe('7');

    // The same file again is the node's refusal: exit 3 with its code.
    const again = await run([...atNode(), 'tx', 'broadcast', file('signed.json')]);
    expect(again.status).toBe(EXIT.rejected);
    expect(again.stderr).toMatch(/^error \[(tx\/nonce_too_low|mempool\/duplicate)\]: /);
    // A file that is not a transaction file is a usage error.
    const notAFile = await run([...atNode(), 'tx', 'broadcast', file('unsigned.json')]);
    expect(notAFile.status).toBe(EXIT.usage);
    expect(notAFile.stderr).toMatch(/^error \[cli\/bad_tx_file\]: /);

    // Files edited by hand are refused before anything is signed or sent.
    const edited = file('edited.json');
    // The last byte is the top of S, below 0x10: often 00 already, so flip a bit instead of setting it.
    const lastByte = Number.parseInt(signedFile.tx.slice(-2), 16) ^ 0x01;
    const tamperedTx = signedFile.tx.slice(0, -2) + lastByte.toString(16).padStart(2, '0');
    writeFileSync(edited, JSON.stringify({ ...signedFile, tx: tamperedTx }));
    const tamperedSigned = await run([...atNode(), 'tx', 'broadcast', edited]);
    expect(tamperedSigned.status).toBe(EXIT.usage);
    expect(tamperedSigned.stderr).toMatch(/^error \[cli\/bad_tx_file\]: .*not the hash of its tx/);
    writeFileSync(edited, JSON.stringify({ ...unsigned, payload: '0x0a02' }));
    const badPayload = await run([...offline, 'tx', 'sign', edited, '--key', 'validator', '--offline', ...signArgs]);
    expect(badPayload.status).toBe(EXIT.usage);
    expect(badPayload.stderr).toMatch(/^error \[cli\/bad_tx_file\]: .*payload is not a valid bank\/transfer/);
    writeFileSync(edited, JSON.stringify({ ...unsigned, version: 2 }));
    const newer = await run([...offline, 'tx', 'sign', edited, '--key', 'validator', '--offline', ...signArgs]);
    expect(newer.stderr).toMatch(/^error \[cli\/bad_tx_file\]: .*version 2 is not supported/);
    expect(counted).toBe(0);
  });

  it('tx sign without --offline looks up the chain id, the next nonce (account_nextNonce) and the fee', async () => {
    const gen = await run([
      ...atNode(),
      'tx',
      'transfer',
      '--from',
      'validator',
      '--to',
      bob,
      '--amount',
      '3',
      '--generate-only',
      '--output',
      file('unsigned2.json'),
    ]);
    expect(gen.status, gen.stderr).toBe(0);
    const expectedNonce = await nextNonce();
    const signed = await run([...atNode(), 'tx', 'sign', file('unsigned2.json'), '--key', 'validator', '--json']);
    expect(signed.status, signed.stderr).toBe(0);
    const out = JSON.parse(signed.stdout);
    // A transfer meters nothing: the simulated fee is the minimum.
    expect(out).toMatchObject({ chainId, nonce: expectedNonce, fee: String(minFee) });
    const signedPath = file('signed2.json');
    const toFile = await run([
      ...atNode(),
      'tx',
      'sign',
      file('unsigned2.json'),
      '--key',
      'validator',
      '--output',
      signedPath,
    ]);
    expect(toFile.status, toFile.stderr).toBe(0);
    const sent = await run([...atNode(), 'tx', 'broadcast', signedPath, '--json']);
    expect(sent.status, sent.stderr).toBe(0);
    expect((await committed(JSON.parse(sent.stdout).hash)).status).toBe('committed');
  });

  it('a nonce ahead is sent with the fee simulated at the next nonce, queued, and commits once the gap fills', async () => {
    const next = await nextNonce();
    const transfer = ['tx', 'transfer', '--from', 'validator', '--to', bob, '--amount', '1', '--json'];
    const ahead = await run([...atNode(), ...transfer, '--nonce', String(next + 1)]);
    expect(ahead.status, ahead.stderr).toBe(0);
    const queued = JSON.parse(ahead.stdout) as { hash: string; status: string; fee: string };
    expect(queued).toMatchObject({ status: 'queued', fee: String(minFee) });
    const gap = await run([...atNode(), ...transfer, '--nonce', String(next)]);
    expect(gap.status, gap.stderr).toBe(0);
    expect((await committed(JSON.parse(gap.stdout).hash)).status).toBe('committed');
    expect((await committed(queued.hash)).status).toBe('committed');
  });

  it('exit codes tell a usage error (2), a rejected transaction (3) and a network failure (4) apart', async () => {
    const transfer = ['tx', 'transfer', '--from', 'validator', '--to', bob];
    const usage = await run([...atNode(), ...transfer]);
    expect(usage.status).toBe(EXIT.usage);
    expect(usage.stderr).toMatch(/^error \[cli\/usage\]: required option '--amount/);

    const stale = await run([...atNode(), ...transfer, '--amount', '1', '--nonce', '0']);
    expect(stale.status).toBe(EXIT.rejected);
    expect(stale.stderr).toMatch(/^error \[tx\/nonce_too_low\]: .*nothing was sent/);
    const underpaid = await run([...atNode(), ...transfer, '--amount', '1', '--fee', String(minFee - 1n)]);
    expect(underpaid.status).toBe(EXIT.rejected);
    expect(underpaid.stderr).toMatch(/^error \[tx\/fee_too_low\]: /);

    // Port 1: nothing listens there.
    const unreachable = await run(['--home', home, '--rpc', '127.0.0.1:1', ...transfer, '--amount', '1']);
    expect(unreachable.status).toBe(EXIT.network);
    expect(unreachable.stderr).toMatch(/^error \[rpc\/unreachable\]: .*\nhint: is the node running/);
    for (const r of [usage, stale, underpaid, unreachable]) expect(r.stderr).not.toMatch(STACK_LINE);
    expect((await status()).mempool.size).toBe(0);
  });

  it('inference/pay over a long lineage: --dry-run names the fee, the default fee (auto) succeeds first time', async () => {
    // The lineage, built over RPC: a datanet with three accepted contributions under twelve
    // versions, each the previous one's finetune with 90 % of it going to its parent.
    const VERSIONS = 12;
    const CONTRIBUTIONS = 3;
    const first = await nextNonce();
    const setup: Uint8Array[] = [];
    const sign = <M>(def: TxDefinition<M>, m: M) =>
      setup.push(buildTx(validatorKey, def, m, { chainId, nonce: first + setup.length, fee: 10n * minFee }));
    sign(createDatanetTx, {
      name: 'D',
      metadata_hash: h('D'),
      licence: 'CC0',
      curators: [],
      min_stake: 0n,
      challenge_window: 0,
    });
    for (let i = 1; i <= CONTRIBUTIONS; i++) {
      sign(contributeTx, { datanet_id: 1, content_hash: h(`c${i}`), size: 100 * i, uri: '', stake: 0n });
      sign(reviewTx, { contribution_id: i, accept: true });
    }
    sign(registerModelTx, { name: 'F', metadata_hash: new Uint8Array(0) });
    for (let v = 1; v <= VERSIONS; v++) {
      sign(publishModelTx, {
        family_id: 1,
        weights_hash: h(`v${v}`),
        config_hash: new Uint8Array(0),
        recipe_hash: new Uint8Array(0),
        relation: v === 1 ? Relation.base : Relation.finetune,
        parents:
          v === 1
            ? [{ kind: EdgeKind.datanet, id: 1, share_bps: 5_000 }]
            : [{ kind: EdgeKind.model, id: v - 1, share_bps: 9_000 }],
      });
    }
    const hashes: string[] = [];
    for (const bytes of setup)
      hashes.push((await node.rpc.call<{ hash: string }>('tx_submit', ['0x' + toHex(bytes)])).hash);
    for (const hash of hashes) expect((await committed(hash)).status).toBe('committed');

    const pay = [
      'tx',
      'pay',
      '--from',
      'validator',
      '--model',
      String(VERSIONS),
      '--amount',
      '1000000',
      '--request-hash',
      '0x' + toHex(h('request')),
    ];
    const before = { nonce: await nextNonce(), mempool: (await status()).mempool.size };
    const dry = await run([...atNode(), ...pay, '--dry-run', '--json']);
    expect(dry.status, dry.stderr).toBe(0);
    const sim = JSON.parse(dry.stdout) as {
      dryRun: boolean;
      ok: boolean;
      requiredFee: string;
      events: { type: string }[];
      error: unknown;
    };
    expect(sim).toMatchObject({ dryRun: true, ok: true, error: null });
    expect(sim.events.map((e) => e.type)).toContain('inference_paid');
    // minFee, then feePerNode (100) for each of the 12 versions and the datanet, and
    // feePerContribution (10) for each contribution paid.
    expect(BigInt(sim.requiredFee)).toBe(minFee + 100n * BigInt(VERSIONS + 1) + 10n * BigInt(CONTRIBUTIONS));
    // Nothing was signed or sent.
    expect({ nonce: await nextNonce(), mempool: (await status()).mempool.size }).toEqual(before);

    // The people-readable dry run shows the fee with the token's decimals.
    const human = await run([...atNode(), ...pay, '--dry-run']);
    expect(human.stdout).toMatch(new RegExp(`fee needed +${sim.requiredFee} \\(0\\.0+\\d+ OPEN\\)`));

    // The minimum fee, which is all an explicit --fee of old could guess, is refused by the node.
    const cheap = await run([...atNode(), ...pay, '--fee', String(minFee)]);
    expect(cheap.status).toBe(EXIT.rejected);
    expect(cheap.stderr).toMatch(/^error \[tx\/fee_too_low\]: /);

    const paid = await run([...atNode(), ...pay, '--json']);
    expect(paid.status, paid.stderr).toBe(0);
    const sent = JSON.parse(paid.stdout) as { hash: string; fee: string; nonce: number };
    expect(sent).toMatchObject({ fee: sim.requiredFee, nonce: before.nonce });
    const tx = await committed(sent.hash);
    expect(tx.status).toBe('committed');
    expect(tx.receipt).toMatchObject({ fee: sim.requiredFee, errorCode: null });
  }, 120_000);

  it('chain_params and query params name the module accounts and every fee rule', async () => {
    const params = await node.rpc.call<{
      minFee: string;
      moduleAccounts: { name: string; address: string; module: string }[];
      feeRules: { param: string; amount: string; txTypes: string[] }[];
    }>('chain_params');
    const accounts = Object.fromEntries(params.moduleAccounts.map((a) => [a.name, a.address]));
    for (const name of ['treasury', 'fee_collector', 'rewards_pool', 'datanet_escrow', 'agent_stake'])
      expect(accounts[name], name).toBe(formatAddress(moduleAddress(name)));
    expect(params.feeRules).toEqual([
      expect.objectContaining({ param: 'params.minFee', amount: params.minFee, txTypes: ['*'] }),
      expect.objectContaining({ param: 'params.modules.inference.feePerNode', amount: '100' }),
      expect.objectContaining({ param: 'params.modules.inference.feePerContribution', amount: '10' }),
    ]);
    const viaCli = await run([...atNode(), 'query', 'params', '--json']);
    expect(viaCli.status, viaCli.stderr).toBe(0);
    const shown = JSON.parse(viaCli.stdout);
    expect(shown).toMatchObject({ moduleAccounts: params.moduleAccounts, feeRules: params.feeRules });
    expect(shown.schedule).toBeDefined();
    const human = await run([...atNode(), 'query', 'params']);
    expect(human.stdout).toMatch(/^treasury +inference +trib1/m);
    expect(human.stdout).toMatch(/^fee_collector +bank +trib1/m);
  });

  describe('malformed hex, addresses and amounts on every command that takes them', () => {
    // A valid value for every placeholder the specs use, so that only the malformed option fails.
    const GOOD: Record<string, string> = {
      hex: '0x' + 'ab'.repeat(32),
      hexKeys: '0x' + 'cd'.repeat(32),
      address: '',
      addresses: '',
      baseUnits: '5',
      versionId: '1',
      id: '1',
      bytes: '10',
      blocks: '0',
      bps: '0',
      text: 'x',
      spdx: 'CC0',
      uri: '',
      targets: 'c:1:10000',
      edges: 'm:1:100',
    };
    // Options whose valid values are names (every other option of the command is still parsed after them).
    const NAMED: Record<string, string> = {
      '--method': 'declared',
      '--relation': 'base',
      '--kind': 'treasury_spend',
      '--target': 'contribution',
      '--reason': 'duplicate',
      '--role': 'contributor',
      '--option': 'yes',
    };
    const BAD: Record<string, [string, string][]> = {
      hex: [
        ['63 hex digits', '0x' + 'ab'.repeat(31) + 'c'],
        ['0xZZ', '0xZZ'],
      ],
      hexKeys: [['0xZZ', '0xZZ']],
      address: [
        ['not bech32', 'trib1qqqqnotanaddress'],
        ['a bad checksum', 'BADCHECKSUM'],
      ],
      addresses: [['not bech32', 'trib1qqqqnotanaddress']],
      baseUnits: [
        ['negative', '-5'],
        ['fractional', '1.5'],
        ['an exponent', '1e6'],
      ],
    };
    const CODE: Record<string, string> = {
      hex: 'codec/invalid_hex',
      hexKeys: 'codec/invalid_hex',
      address: 'address/invalid',
      addresses: 'address/invalid',
      baseUnits: 'math/invalid_amount',
    };
    const placeholder = (flags: string) => /<([A-Za-z]+)>/.exec(flags)?.[1];
    const flagOf = (flags: string) => flags.split(' ')[0]!;

    const cases: { name: string; args: () => string[]; code: string }[] = [];
    for (const spec of Object.values(TX_CLI_SPECS)) {
      const required = spec.options.filter((o) => o.required);
      const base = () =>
        required.flatMap((o) => {
          const p = placeholder(o.flags)!;
          const value = NAMED[flagOf(o.flags)] ?? (p === 'address' || p === 'addresses' ? validator : GOOD[p]);
          return [`${flagOf(o.flags)}=${value}`];
        });
      for (const o of spec.options) {
        const p = placeholder(o.flags);
        if (!p || !BAD[p]) continue;
        for (const [what, bad] of BAD[p]!) {
          const flag = flagOf(o.flags);
          cases.push({
            name: `${spec.name} ${flag} ${what}`,
            code: CODE[p]!,
            args: () => {
              const value =
                bad === 'BADCHECKSUM' ? validator.slice(0, -1) + (validator.endsWith('q') ? 'p' : 'q') : bad;
              const others = base().filter((a) => !a.startsWith(`${flag}=`));
              return ['tx', spec.name, '--from', 'validator', ...others, `${flag}=${value}`];
            },
          });
        }
      }
    }
    // The options every tx command shares.
    for (const [flag, bad] of [
      ['--fee', '-1'],
      ['--fee', '1.5'],
      ['--nonce', '-1'],
    ] as const) {
      cases.push({
        name: `transfer ${flag} ${bad}`,
        code: 'math/invalid_amount',
        args: () => ['tx', 'transfer', '--from', 'validator', `--to=${validator}`, '--amount=5', `${flag}=${bad}`],
      });
    }

    it('covers every option of a hex, address or amount kind', () => {
      const kinds = new Set(cases.map((c) => c.code));
      expect(kinds).toEqual(new Set(['codec/invalid_hex', 'address/invalid', 'math/invalid_amount']));
      expect(cases.length).toBeGreaterThan(40);
    });

    it('each is a coded error, exit 2, no stack trace, nothing on stdout, nothing signed or sent', async () => {
      const before = { nonce: await nextNonce(), committed: await committedNonce(), status: await status() };
      const failures: string[] = [];
      // Four at a time: each is a process start, and the machine is shared.
      const queue = [...cases];
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let c = queue.shift(); c; c = queue.shift()) {
            const r = await run([...atNode(), ...c.args()]);
            const ok =
              r.status === EXIT.usage &&
              r.stderr.startsWith(`error [${c.code}]: `) &&
              /\nhint: \S/.test(r.stderr) &&
              !STACK_LINE.test(r.stderr) &&
              r.stdout === '';
            if (!ok) failures.push(`${c.name}: exit ${r.status}: ${r.stderr}${r.stdout}`);
          }
        }),
      );
      expect(failures).toEqual([]);
      const after = { nonce: await nextNonce(), committed: await committedNonce(), status: await status() };
      expect(after.nonce).toBe(before.nonce);
      expect(after.committed).toBe(before.committed);
      expect(after.status.mempool).toEqual(before.status.mempool);
    }, 300_000);
  });
});
