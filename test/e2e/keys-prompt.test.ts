import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, tempHome } from '../helpers/process.ts';

/*
 * The password prompt as a person meets it: the CLI on a pseudo-terminal (util-linux `script`
 * gives the child one and relays our pipe to it), answering each prompt when it appears.
 */

const hasScript = spawnSync('script', ['--version']).status === 0;
const homes: string[] = [];
afterEach(() => {
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Runs the CLI on a terminal, typing `answers[i]` at the i-th prompt; resolves with everything the terminal showed. */
function onTerminal(args: string[], answers: string[]): Promise<{ screen: string; status: number | null }> {
  const command = [CLI, ...args].map(shellQuote).join(' ');
  const env = { ...process.env };
  delete env.TRIBUTARY_PASSWORD;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env });
  let screen = '';
  let answered = 0;
  const prompts = () => screen.match(/Password for [^\n]*: |Repeat the password: /g)?.length ?? 0;
  const onOutput = (chunk: Buffer) => {
    screen += chunk.toString('utf8');
    while (answered < prompts() && answered < answers.length) child.stdin!.write(`${answers[answered++]}\r`);
  };
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', onOutput);
  return new Promise((resolve) => child.once('exit', (status) => resolve({ screen, status })));
}

describe.skipIf(!hasScript)('password prompt on a terminal', () => {
  it('asks twice for a new key without echoing it; the key opens with that password', async () => {
    const home = tempHome('tributary-prompt-');
    homes.push(home);
    const password = 'typed-at-the-prompt-42';
    const created = await onTerminal(['--home', home, 'keys', 'new', 'alice'], [password, password]);
    expect(created.status).toBe(0);
    expect(created.screen).toContain('Password for the new key "alice": ');
    expect(created.screen).toContain('Repeat the password: ');
    expect(created.screen).toContain('mnemonic (shown once');
    expect(created.screen).not.toContain(password);

    const opened = await onTerminal(['--home', home, 'keys', 'export', 'alice'], [password]);
    expect(opened.status).toBe(0);
    expect(opened.screen).toContain('"format": "tributary-keystore"');
    expect(opened.screen).not.toContain(password);

    const wrong = await onTerminal(['--home', home, 'keys', 'export', 'alice'], ['not-the-password']);
    expect(wrong.status).toBe(1);
    expect(wrong.screen).toContain('error [keystore/bad_password]');

    const mismatch = await onTerminal(['--home', home, 'keys', 'new', 'bob'], ['one-password', 'another-one']);
    expect(mismatch.status).toBe(1);
    expect(mismatch.screen).toContain('error [keys/password_mismatch]');
  }, 120_000);
});
