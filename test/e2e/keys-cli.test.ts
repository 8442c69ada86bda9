import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { homePaths } from '../../src/config.ts';
import { CLI, startNodeProcess, stopNodeProcess, tempHome, until, type NodeProcess } from '../helpers/process.ts';

/* The keyring as a user drives it: bin/tributary with --password-file and TRIBUTARY_PASSWORD, stdin not a terminal. */

const PASSWORD = 'a long passphrase for the e2e keyring';
const homes: string[] = [];
const nodes: NodeProcess[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await stopNodeProcess(n);
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

function fresh(): { home: string; passwordFile: string } {
  const home = tempHome('tributary-keys-e2e-');
  homes.push(home);
  const passwordFile = join(home, 'password.txt');
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  return { home, passwordFile };
}

/** The environment without any password, so each call names its source. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (!('TRIBUTARY_PASSWORD' in extra)) delete env.TRIBUTARY_PASSWORD;
  return env;
}

function run(args: string[], opts: { env?: Record<string, string>; input?: string } = {}) {
  const r = spawnSync(CLI, args, {
    encoding: 'utf8',
    timeout: 60_000,
    env: cleanEnv(opts.env),
    input: opts.input ?? '',
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

function json<T>(args: string[], opts: { env?: Record<string, string>; input?: string } = {}): T {
  const r = run([...args, '--json'], opts);
  if (r.status !== 0) throw new Error(`tributary ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

interface Info {
  name: string;
  address: string;
  publicKey: string;
  backend: 'file' | 'test';
  path?: string;
}

describe('keys CLI', () => {
  it('new, list, show, export, import (mnemonic from a file, stdin, the flag; keystore), delete', () => {
    const { home, passwordFile } = fresh();
    const h = ['--home', home];
    const alice = json<Info & { mnemonic: string }>([...h, 'keys', 'new', 'alice', '--password-file', passwordFile]);
    expect(alice.backend).toBe('file');
    expect(alice.mnemonic.split(' ')).toHaveLength(24);
    expect(alice.path).toBe("m/44'/1'/0'/0'/0'");
    const aliceFile = readFileSync(join(homePaths(home).keys, 'alice.json'), 'utf8');
    expect(JSON.parse(aliceFile)).toMatchObject({ format: 'tributary-keystore', version: 1, address: alice.address });
    expect(aliceFile).not.toContain(alice.mnemonic.split(' ')[0]! + ' ');

    const bob = json<Info>([...h, 'keys', 'new', 'bob'], { env: { TRIBUTARY_PASSWORD: PASSWORD } });
    expect(bob.backend).toBe('file');

    // No password source and no terminal: a coded error, and no key written.
    const none = run([...h, 'keys', 'new', 'carol']);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/^error \[keys\/password_required\]: /);
    expect(existsSync(join(homePaths(home).keys, 'carol.json'))).toBe(false);

    const tester = json<Info>([...h, 'keys', 'new', 'tester', '--keyring-backend', 'test']);
    expect(tester.backend).toBe('test');

    const listed = json<Info[]>([...h, 'keys', 'list']);
    expect(listed.map((k) => [k.name, k.backend])).toEqual([
      ['alice', 'file'],
      ['bob', 'file'],
      ['tester', 'test'],
    ]);
    const shown = run([...h, 'keys', 'show', 'alice']);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain(alice.address);
    expect(shown.stdout).toContain('file (encrypted)');
    expect(shown.stdout).not.toContain(alice.mnemonic);

    // The same mnemonic, three ways in, is the same address every time.
    const mnemonicFile = join(home, 'words.txt');
    writeFileSync(mnemonicFile, `${alice.mnemonic}\n`);
    const fromFile = json<Info>([
      ...h,
      'keys',
      'import',
      'a2',
      '--mnemonic-file',
      mnemonicFile,
      '--password-file',
      passwordFile,
    ]);
    const fromStdin = json<Info>([...h, 'keys', 'import', 'a3', '--mnemonic-file', '-', '--keyring-backend', 'test'], {
      input: alice.mnemonic,
    });
    const fromFlag = json<Info>([...h, 'keys', 'import', 'a4', '--mnemonic', alice.mnemonic], {
      env: { TRIBUTARY_PASSWORD: PASSWORD },
    });
    for (const k of [fromFile, fromStdin, fromFlag]) expect(k.address).toBe(alice.address);
    const badWords = run([
      ...h,
      'keys',
      'import',
      'a5',
      '--mnemonic',
      'abandon abandon abandon',
      '--keyring-backend',
      'test',
    ]);
    expect(badWords.stderr).toMatch(/^error \[keystore\/bad_mnemonic\]: /);
    const taken = run([...h, 'keys', 'import', 'alice', '--mnemonic', alice.mnemonic, '--keyring-backend', 'test']);
    expect(taken.stderr).toMatch(/^error \[keys\/exists\]: /);
    expect(readFileSync(join(homePaths(home).keys, 'alice.json'), 'utf8')).toBe(aliceFile);

    // Export needs the right password; the export imports into another home as the same key.
    const wrong = run([...h, 'keys', 'export', 'alice'], { env: { TRIBUTARY_PASSWORD: 'not it' } });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/^error \[keystore\/bad_password\]: /);
    const exported = run([...h, 'keys', 'export', 'alice', '--password-file', passwordFile]);
    expect(exported.status).toBe(0);
    expect(JSON.parse(exported.stdout)).toEqual(JSON.parse(aliceFile));
    const other = fresh();
    const exportPath = join(other.home, 'alice-export.json');
    writeFileSync(exportPath, exported.stdout);
    const imported = json<Info>(['--home', other.home, 'keys', 'import', 'alice', '--keystore', exportPath], {
      env: { TRIBUTARY_PASSWORD: PASSWORD },
    });
    expect(imported).toMatchObject({ address: alice.address, backend: 'file' });

    const refused = run([...h, 'keys', 'delete', 'bob']);
    expect(refused.stderr).toMatch(/^error \[cli\/invalid\]: /);
    expect(json<{ deleted: Info }>([...h, 'keys', 'delete', 'bob', '--yes']).deleted.address).toBe(bob.address);
    expect(json<Info[]>([...h, 'keys', 'list']).map((k) => k.name)).toEqual(['a2', 'a3', 'a4', 'alice', 'tester']);
    expect(run([...h, 'keys', 'show', 'bob']).stderr).toMatch(/^error \[keys\/not_found\]: /);
  }, 180_000);

  it('init encrypts the validator key; start decrypts it from --password-file or TRIBUTARY_PASSWORD and signs blocks', async () => {
    const { home, passwordFile } = fresh();
    const h = ['--home', home];
    const init = json<{ validator: Info }>([...h, 'init', '--password-file', passwordFile]);
    expect(init.validator.backend).toBe('file');
    const file = JSON.parse(readFileSync(join(homePaths(home).keys, 'validator.json'), 'utf8')) as { format: string };
    expect(file.format).toBe('tributary-keystore');

    // A service without a password source, or with a wrong one, stops with a code before opening anything.
    const noPassword = run([...h, 'start', '--rpc-listen', '127.0.0.1:0']);
    expect(noPassword.status).toBe(1);
    expect(noPassword.stderr).toMatch(/^error \[keys\/password_required\]: /);
    const badPassword = run([...h, 'start', '--rpc-listen', '127.0.0.1:0'], { env: { TRIBUTARY_PASSWORD: 'wrong' } });
    expect(badPassword.status).toBe(1);
    expect(badPassword.stderr).toMatch(/^error \[keystore\/bad_password\]: /);

    let node = await startNodeProcess(home, ['--password-file', passwordFile], { env: cleanEnv(), testKeyring: false });
    nodes.push(node);
    await until(async () => ((await node.rpc.call<{ height: number }>('chain_status')).height >= 2 ? true : undefined));
    expect(node.logs.join('\n')).not.toContain('plaintext test keyring');

    // tx --from an encrypted key takes the password the same ways.
    const bob = json<Info>([...h, 'keys', 'new', 'bob', '--keyring-backend', 'test']);
    const sent = json<{ status: string; height: number }>(
      [
        ...h,
        '--rpc',
        node.url,
        'tx',
        'transfer',
        '--from',
        'validator',
        '--to',
        bob.address,
        '--amount',
        '7',
        '--wait',
      ],
      { env: { TRIBUTARY_PASSWORD: PASSWORD } },
    );
    expect(sent.status).toBe('committed');
    await stopNodeProcess(nodes.pop()!);

    node = await startNodeProcess(home, [], { env: cleanEnv({ TRIBUTARY_PASSWORD: PASSWORD }), testKeyring: false });
    nodes.push(node);
    const height = (await node.rpc.call<{ height: number }>('chain_status')).height;
    await until(async () =>
      (await node.rpc.call<{ height: number }>('chain_status')).height > height ? true : undefined,
    );
  }, 180_000);

  it('a plaintext validator key needs --keyring-backend test; start --devnet uses it and says so', async () => {
    const { home } = fresh();
    expect(json<{ validator: Info }>(['--home', home, 'init', '--keyring-backend', 'test']).validator.backend).toBe(
      'test',
    );
    const refused = run(['--home', home, 'start', '--rpc-listen', '127.0.0.1:0']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^error \[keys\/plaintext_refused\]: /);

    const devnetHome = fresh().home;
    const node = await startNodeProcess(devnetHome, ['--devnet'], { env: cleanEnv(), testKeyring: false });
    nodes.push(node);
    expect(node.logs.join('\n')).toContain('validator key is in the plaintext test keyring');
  }, 120_000);
});
