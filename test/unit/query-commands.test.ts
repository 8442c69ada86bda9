import { describe, expect, it } from 'vitest';
import { loadQueryCommands, queryCommandsOf } from '../../src/cli/query-commands.ts';
import { defaultRegistry } from '../../src/modules.ts';

describe('src/cli/query-commands.json', () => {
  it('is what the registry says (run "npm run query-commands" when this fails)', () => {
    const fromRegistry = queryCommandsOf(defaultRegistry().queries);
    expect(fromRegistry.length).toBeGreaterThan(0);
    expect(loadQueryCommands()).toEqual(JSON.parse(JSON.stringify(fromRegistry)));
  });
});
