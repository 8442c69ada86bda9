import { describe, expect, it } from 'vitest';
import { buildProgram, commandName } from '../../src/cli/main.ts';

describe('CLI entry: only the command group argv names is loaded', () => {
  it('finds the command past the global options and their values', () => {
    expect(commandName(['--home', '/h', '--json', 'query', 'block'])).toBe('query');
    expect(commandName(['--rpc', 'status', 'status'])).toBe('status'); // "--rpc status": a value, not the command
    expect(commandName(['--home=/h', 'keys', 'list'])).toBe('keys');
    expect(commandName(['--json'])).toBeUndefined();
  });

  it('registers that group alone, and every group for help or an unknown command', async () => {
    expect((await buildProgram(['--home', '/h', 'status'])).commands.map((c) => c.name())).toEqual(['status']);
    expect((await buildProgram(['config', 'show'])).commands.map((c) => c.name())).toEqual(['config']);
    const all = (await buildProgram(['--help'])).commands.map((c) => c.name());
    expect(all).toEqual(
      expect.arrayContaining(['init', 'start', 'verify', 'keys', 'tx', 'query', 'status', 'index', 'config']),
    );
    expect((await buildProgram(['bogus'])).commands.length).toBe(all.length);
  });
});
