import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cliJson, tempHome } from '../helpers/process.ts';

interface Run {
  stdout: string;
  stderr: string;
  status: number | null;
}

/** The CLI as an OS process, without blocking this process (the endpoint below runs here). */
function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(CLI, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TRIBUTARY_LOG_LEVEL: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('exit', (status) => resolve({ stdout, stderr, status }));
  });
}

const STACK_LINE = /^\s+at /m;

/**
 * Bad command-line input is refused by the CLI itself, with a code, exit status 2 and no stack
 * trace, before any request leaves the process. The endpoint the CLI is pointed at is a plain
 * HTTP server that counts requests and answers something that is not JSON-RPC, so a command that
 * got as far as the network shows up in the count (and as an uncoded error).
 */
describe('CLI: bad input is a coded error on stderr, exit 2, no stack trace, nothing sent', () => {
  const home = tempHome('tributary-cli-errors-');
  let server: Server;
  let endpoint: string;
  let requests = 0;
  let validator: string;

  beforeAll(async () => {
    validator = cliJson<{ validator: { address: string } }>(['--home', home, 'init', '--keyring-backend', 'test'])
      .validator.address;
    server = createServer((req, res) => {
      requests++;
      req.resume();
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not a JSON-RPC node</html>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(home, { recursive: true, force: true });
  });

  const tx = (name: string, ...options: string[]) => [
    '--home',
    home,
    '--rpc',
    endpoint,
    'tx',
    name,
    '--from',
    'validator',
    ...options,
  ];
  const hash63 = 'ab'.repeat(31) + 'c';
  const goodHash = '0x' + 'ab'.repeat(32);

  // Arguments are built lazily: the validator's address is known only once the home exists.
  const cases: [string, () => string[], string][] = [
    [
      'content hash with 63 hex digits',
      () => tx('datanet-contribute', '--datanet', '1', '--size', '10', '--content-hash', hash63),
      'codec/invalid_hex',
    ],
    [
      'content hash 0xZZ',
      () => tx('datanet-contribute', '--datanet', '1', '--size', '10', '--content-hash', '0xZZ'),
      'codec/invalid_hex',
    ],
    [
      'request hash with 63 hex digits',
      () => tx('pay', '--model', '1', '--amount', '10', '--request-hash', '0x' + hash63),
      'codec/invalid_hex',
    ],
    [
      'malformed recipient address',
      () => tx('transfer', '--to', 'trib1qqqqnotanaddress', '--amount', '5'),
      'address/invalid',
    ],
    ['negative transfer amount', () => tx('transfer', '--to', validator, '--amount', '-5'), 'math/invalid_amount'],
    ['non-numeric transfer amount', () => tx('transfer', '--to', validator, '--amount', 'five'), 'math/invalid_amount'],
    [
      'negative payment amount',
      () => tx('pay', '--model', '1', '--amount=-1', '--request-hash', goodHash),
      'math/invalid_amount',
    ],
    [
      'non-numeric stake',
      () => tx('datanet-contribute', '--datanet', '1', '--size', '10', '--content-hash', goodHash, '--stake', '1e6'),
      'math/invalid_amount',
    ],
    [
      'non-numeric datanet id',
      () => tx('datanet-contribute', '--datanet', 'one', '--size', '10', '--content-hash', goodHash),
      'cli/invalid',
    ],
    ['negative fee', () => tx('transfer', '--to', validator, '--amount', '5', '--fee', '-1'), 'math/invalid_amount'],
    [
      'non-numeric --wait timeout',
      () => tx('transfer', '--to', validator, '--amount', '5', '--wait', '--timeout', 'soon'),
      'math/invalid_amount',
    ],
    [
      'unknown attribution --method',
      () => tx('attribution-record', '--model', '1', '--method', 'tracin', '--weights', 'c:1:10000'),
      'cli/invalid',
    ],
    [
      'unknown model --relation',
      () => tx('model-publish', '--family', '1', '--weights-hash', goodHash, '--relation', 'fork'),
      'cli/invalid',
    ],
    [
      'a 31-byte content hash (validateBasic, before signing)',
      () => tx('datanet-contribute', '--datanet', '1', '--size', '10', '--content-hash', 'ab'.repeat(31)),
      'datanet/invalid',
    ],
  ];

  for (const [what, args, code] of cases) {
    it(`${what}: ${code}`, async () => {
      const before = requests;
      const r = await run(args());
      expect(r.status).toBe(2);
      expect(r.stderr.startsWith(`error [${code}]: `), r.stderr).toBe(true);
      // Every error says what to do next.
      expect(r.stderr).toMatch(/\nhint: \S/);
      expect(r.stderr).not.toMatch(STACK_LINE);
      expect(r.stdout).toBe('');
      expect(requests).toBe(before);
    });
  }

  it('with --json the error is one JSON line on stderr carrying the code', async () => {
    const r = await run([
      ...tx('datanet-contribute', '--datanet', '1', '--size', '10', '--content-hash', '0xZZ'),
      '--json',
    ]);
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stderr)).toMatchObject({ error: { code: 'codec/invalid_hex', hint: expect.any(String) } });
  });

  it('an unknown --method is named in the error, with the methods there are', async () => {
    const r = await run(tx('attribution-record', '--model', '1', '--method', 'tracin', '--weights', 'c:1:10000'));
    expect(r.stderr).toMatch(
      /unknown method "tracin": expected one of declared, infini-gram, trak, influence, shapley/,
    );
    expect(r.stderr).not.toMatch(/method 0/);
  });

  it('parser errors (a missing required option, an unknown command) are cli/usage, exit 2', async () => {
    const missing = await run(tx('transfer', '--to', validator));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^error \[cli\/usage\]: required option '--amount <baseUnits>' not specified/);
    const asJson = await run([...tx('transfer', '--to', validator), '--json']);
    expect(asJson.status).toBe(2);
    expect(JSON.parse(asJson.stderr)).toMatchObject({ error: { code: 'cli/usage', hint: expect.any(String) } });
    const unknown = await run(['--home', home, 'tx', 'teleport']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^error \[cli\/usage\]: unknown command 'teleport'/);
  });

  it('help marks required options and lists the global options under every subcommand', async () => {
    for (const args of [
      ['tx', 'pay', '--help'],
      ['tx', 'sign', '--help'],
      ['query', 'account', '--help'],
      ['keys', 'new', '--help'],
    ]) {
      const r = await run(['--home', home, ...args]);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/Global Options:/);
      for (const global of ['--home <dir>', '--json', '--rpc <url>']) expect(r.stdout).toContain(global);
    }
    const pay = await run(['tx', 'pay', '--help']);
    // commander wraps long descriptions: "(required)" closes the description of each mandatory option.
    const optionBlock = (flag: string) => pay.stdout.slice(pay.stdout.indexOf(flag)).split(/\n {2}-/)[0]!;
    for (const flag of ['--model <versionId>', '--amount <baseUnits>', '--request-hash <hex>', '--from <key>'])
      expect(optionBlock(flag)).toMatch(/\(required\)\s*$/);
    for (const flag of ['--response-hash <hex>', '--fee <baseUnits|auto>', '--dry-run'])
      expect(optionBlock(flag)).not.toMatch(/\(required\)/);
  });

  it('well-formed input does reach the endpoint; an error without a code prints as [internal], stack only when debugging', async () => {
    const before = requests;
    const r = await run(tx('transfer', '--to', validator, '--amount', '5'));
    expect(requests).toBeGreaterThan(before);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error \[internal\]: /);
    expect(r.stderr).not.toMatch(STACK_LINE);

    const debug = await run(tx('transfer', '--to', validator, '--amount', '5'), { TRIBUTARY_LOG_LEVEL: 'debug' });
    expect(debug.status).toBe(1);
    expect(debug.stderr).toMatch(/^error \[internal\]: /);
    expect(debug.stderr).toMatch(STACK_LINE);
  });

  it('an unknown log level for start is refused before the node opens', async () => {
    const r = await run(['--home', home, 'start', '--rpc-listen', '127.0.0.1:0', '--log-level', 'loud']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error \[config\/invalid_value\]: /);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });
});
