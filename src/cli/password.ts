import { readFileSync } from 'node:fs';
import { TributaryError } from '../errors.ts';

/*
 * Where a keystore password comes from, in this order: `--password-file FILE` (its first line),
 * the TRIBUTARY_PASSWORD environment variable, a prompt without echo when stdin is a terminal.
 * Otherwise `keys/password_required`: a service never hangs waiting for input nobody can give.
 */

export interface PasswordSource {
  passwordFile?: string;
}

export const PASSWORD_ENV = 'TRIBUTARY_PASSWORD';

function fromFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TributaryError('keys/password_file', `cannot read password file ${path}: ${(e as Error).message}`);
  }
  const line = text.split(/\r?\n/)[0] ?? '';
  if (line === '') throw new TributaryError('keys/password_file', `password file ${path} has an empty first line`);
  return line;
}

/** Reads one line from the terminal with echo off (raw mode), for the prompt. */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let answer = '';
    const wasRaw = stdin.isRaw;
    // Echo off before the question shows, so nothing typed after it can appear.
    stdin.setRawMode(true);
    process.stderr.write(question);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (error?: Error) => {
      stdin.setRawMode(wasRaw);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(answer);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        // Ctrl-C and Ctrl-D arrive as characters in raw mode: both end the prompt with no password.
        if (ch === '\u0003' || ch === '\u0004') {
          return done(new TributaryError('keys/password_required', 'password prompt interrupted'));
        }
        if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
        else answer += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * The password for `purpose` (e.g. 'key "alice"'). `confirm`: a new password, asked twice at the
 * prompt (files and the environment are taken as they are).
 */
export async function readPassword(source: PasswordSource, purpose: string, confirm = false): Promise<string> {
  if (source.passwordFile) return fromFile(source.passwordFile);
  const env = process.env[PASSWORD_ENV];
  if (env !== undefined && env !== '') return env;
  if (!process.stdin.isTTY) {
    throw new TributaryError(
      'keys/password_required',
      `${purpose} needs a password: pass --password-file FILE or set ${PASSWORD_ENV} (no terminal to prompt on)`,
    );
  }
  const first = await promptHidden(`Password for ${purpose}: `);
  if (first === '') throw new TributaryError('keys/password_required', 'empty password');
  if (confirm && (await promptHidden('Repeat the password: ')) !== first) {
    throw new TributaryError('keys/password_mismatch', 'the two passwords differ');
  }
  return first;
}
