import type { Command } from 'commander';
import { homePaths } from '../config.ts';
import { createKey, listKeys, loadKey } from '../keys.ts';
import { globals, print } from './common.ts';

export function addKeysCommands(program: Command): void {
  const keys = program.command('keys').description('manage signing keys in <home>/keys');
  keys
    .command('new <name>')
    .description('create a new Ed25519 key')
    .action((name: string, _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const info = createKey(homePaths(g.home).keys, name);
      print(g, info, () => `${info.name} ${info.address}`);
    });
  keys
    .command('list')
    .description('list keys')
    .action((_o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const all = listKeys(homePaths(g.home).keys);
      print(g, all, () => all.map((k) => `${k.name}\t${k.address}`).join('\n') || '(no keys)');
    });
  keys
    .command('show <name>')
    .description('show a key (address and public key; never the secret)')
    .action((name: string, _o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const { info } = loadKey(homePaths(g.home).keys, name);
      print(g, info, () => `name       ${info.name}\naddress    ${info.address}\npublic key ${info.publicKey}`);
    });
}
