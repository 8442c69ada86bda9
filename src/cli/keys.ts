import { type Command, Option } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { homePaths } from '../config.ts';
import { TributaryError } from '../errors.ts';
import {
  createKey,
  deleteKey,
  exportKeystore,
  importKeystore,
  type KeyInfo,
  type KeyProtection,
  type KeyringBackend,
  listKeys,
  readKeyInfo,
  TEST_KEYRING,
} from '../keys.ts';
import { keyFromMnemonic, newMnemonic } from '../keystore/mnemonic.ts';
import { globals, print } from './common.ts';
import { readPassword } from './password.ts';

/** `--keyring-backend`: how a new key is stored (init, keys new/import), or which kind `start` accepts. */
export const keyringBackendOption = (
  description = 'file (encrypted, default) or test (plaintext: for tests and devnets only)',
) => new Option('--keyring-backend <backend>', description).choices(['file', 'test']);

export const passwordFileOption = () =>
  new Option(
    '--password-file <file>',
    'read the keystore password from the first line of FILE (else $TRIBUTARY_PASSWORD, else a prompt)',
  );

interface ProtectionOptions {
  keyringBackend?: KeyringBackend;
  passwordFile?: string;
}

/** How a new key is stored: the test backend asks no password; the file backend asks a new one. */
export async function protectionFor(opts: ProtectionOptions, purpose: string): Promise<KeyProtection> {
  if (opts.keyringBackend === 'test') return TEST_KEYRING;
  return { backend: 'file', password: await readPassword(opts, purpose, true) };
}

function describe(info: KeyInfo): string {
  const lines = [
    `name       ${info.name}`,
    `address    ${info.address}`,
    `public key ${info.publicKey}`,
    `backend    ${info.backend === 'test' ? 'test (plaintext)' : 'file (encrypted)'}`,
  ];
  if (info.path) lines.push(`path       ${info.path}`);
  return lines.join('\n');
}

function readText(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new TributaryError('cli/invalid', `cannot read ${file === '-' ? 'stdin' : file}: ${(e as Error).message}`);
  }
}

export function addKeysCommands(program: Command): void {
  const keys = program.command('keys').description('manage signing keys in <home>/keys (encrypted keystores)');
  keys
    .command('new <name>')
    .description('create a key from a new 24-word BIP-39 mnemonic, printed once: write it down')
    .addOption(keyringBackendOption())
    .addOption(passwordFileOption())
    .action(async (name: string, opts: ProtectionOptions, cmd: Command) => {
      const g = globals(cmd);
      const mnemonic = newMnemonic();
      const { key, derivation } = keyFromMnemonic(mnemonic);
      const protection = await protectionFor(opts, `the new key "${name}"`);
      const info = createKey(homePaths(g.home).keys, name, protection, { key, derivation });
      print(
        g,
        { ...info, mnemonic },
        () => `${describe(info)}\n\nmnemonic (shown once; anyone with these words has the key):\n${mnemonic}`,
      );
    });
  keys
    .command('import <name>')
    .description('import a key from a BIP-39 mnemonic or an exported keystore file')
    .option('--mnemonic <words>', 'the mnemonic itself (visible in shell history: prefer --mnemonic-file)')
    .option('--mnemonic-file <file>', 'read the mnemonic from FILE ("-" for stdin)')
    .option('--keystore <file>', 'an encrypted keystore from "keys export" ("-" for stdin), kept as it is')
    .addOption(keyringBackendOption())
    .addOption(passwordFileOption())
    .action(
      async (
        name: string,
        opts: ProtectionOptions & { mnemonic?: string; mnemonicFile?: string; keystore?: string },
        cmd: Command,
      ) => {
        const g = globals(cmd);
        const dir = homePaths(g.home).keys;
        const given = [opts.mnemonic, opts.mnemonicFile, opts.keystore].filter((v) => v !== undefined).length;
        if (given !== 1) {
          throw new TributaryError('cli/invalid', 'give exactly one of --mnemonic, --mnemonic-file, --keystore');
        }
        let info: KeyInfo;
        if (opts.keystore !== undefined) {
          let value: unknown;
          try {
            value = JSON.parse(readText(opts.keystore));
          } catch (e) {
            throw new TributaryError('cli/invalid', `keystore ${opts.keystore} is not JSON: ${(e as Error).message}`);
          }
          info = importKeystore(dir, name, value, await readPassword(opts, `the keystore being imported as "${name}"`));
        } else {
          const { key, derivation } = keyFromMnemonic(opts.mnemonic ?? readText(opts.mnemonicFile!));
          info = createKey(dir, name, await protectionFor(opts, `the imported key "${name}"`), { key, derivation });
        }
        print(g, info, () => describe(info));
      },
    );
  keys
    .command('export <name>')
    .description('write the key as an encrypted keystore (a test key is encrypted with the password given)')
    .option('--output <file>', 'write to FILE (owner-only) instead of stdout')
    .addOption(passwordFileOption())
    .action(async (name: string, opts: { passwordFile?: string; output?: string }, cmd: Command) => {
      const g = globals(cmd);
      const dir = homePaths(g.home).keys;
      const info = readKeyInfo(dir, name);
      const password = await readPassword(opts, `key "${name}"`, info.backend === 'test');
      const keystore = exportKeystore(dir, name, password);
      const text = JSON.stringify(keystore, null, 2) + '\n';
      if (opts.output) {
        writeFileSync(opts.output, text, { mode: 0o600, flag: 'wx' });
        print(g, { name, address: info.address, output: opts.output }, () => `wrote ${opts.output}`);
      } else process.stdout.write(g.json ? JSON.stringify(keystore) + '\n' : text);
    });
  keys
    .command('list')
    .description('list keys')
    .action((_o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const all = listKeys(homePaths(g.home).keys);
      print(g, all, () => all.map((k) => `${k.name}\t${k.address}\t${k.backend}`).join('\n') || '(no keys)');
    });
  keys
    .command('show <name>')
    .description('show a key (address, public key, backend, path; never the secret)')
    .action((name: string, _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const info = readKeyInfo(homePaths(g.home).keys, name);
      print(g, info, () => describe(info));
    });
  keys
    .command('delete <name>')
    .description('delete a key file (export it or keep its mnemonic first)')
    .option('--yes', 'required: confirms the key is backed up or no longer needed')
    .action((name: string, opts: { yes?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      if (!opts.yes) throw new TributaryError('cli/invalid', `deleting "${name}" cannot be undone: pass --yes`);
      const info = deleteKey(homePaths(g.home).keys, name);
      print(g, { deleted: info }, () => `deleted ${info.name} ${info.address}`);
    });
}
