import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, cliJson, startNodeProcess, stopNodeProcess, tempHome, type NodeProcess } from '../helpers/process.ts';

/*
 * The staking commands as an operator uses them: a real node process, the real CLI, JSON-RPC over
 * HTTP. The single devnet validator bonds validator stake, sees it in `query stake` and
 * `query validators`, cannot unbond below the minimum while it is in the set, and is told
 * (with a code) that it is not jailed.
 */
describe('staking CLI against a node process', () => {
  const home = tempHome('tributary-staking-cli-');
  let node: NodeProcess | undefined;
  afterAll(async () => {
    if (node) await stopNodeProcess(node);
    rmSync(home, { recursive: true, force: true });
  });

  it('tx stake-bond / stake-unbond / stake-unjail, query stake, query validators', async () => {
    const init = cliJson<{ validator: { address: string } }>(['--home', home, 'init', '--keyring-backend', 'test']);
    const validator = init.validator.address;
    node = await startNodeProcess(home);
    const base = ['--home', home, '--rpc', node.url];
    const tx = (name: string, ...args: string[]) =>
      cliJson<{ status: string; height: number; error?: { code: string } | null; events: { type: string }[] }>([
        ...base,
        'tx',
        name,
        '--from',
        'validator',
        ...args,
        '--wait',
      ]);

    const bonded = tx('stake-bond', '--role', 'validator', '--amount', '2000000');
    expect(bonded.status).toBe('committed');
    expect(bonded.events.map((e) => e.type)).toEqual(['stake_bonded']);

    const stake = cliJson<{ roles: Record<string, { bonded: string; unbonding: unknown[] }> }>([
      ...base,
      'query',
      'stake',
      validator,
    ]);
    expect(stake.roles.validator).toEqual({ bonded: '2000000', unbonding: [] });
    expect(stake.roles.curator).toEqual({ bonded: '0', unbonding: [] });

    const listed = cliJson<{
      validators: { address: string; bond: string; jailed: boolean; lastSignedHeight: number }[];
    }>([...base, 'query', 'validators']);
    expect(listed.validators).toEqual([
      expect.objectContaining({ address: validator, bond: '2000000', jailed: false, tombstoned: false }),
    ]);
    expect(listed.validators[0]!.lastSignedHeight).toBeGreaterThan(0);

    // The node refuses at admission (the mempool runs the message): a coded error, exit 3 (rejected).
    const refused = (name: string, ...args: string[]) => {
      const r = cli([...base, 'tx', name, '--from', 'validator', ...args, '--wait', '--json']);
      expect(r.status).toBe(3);
      return JSON.parse(r.stdout || r.stderr) as { error: { code: string } };
    };
    expect(refused('stake-unbond', '--role', 'validator', '--amount', '1000001').error.code).toBe(
      'staking/validator_in_set',
    );
    const unbonding = tx('stake-unbond', '--role', 'validator', '--amount', '1000000');
    expect(unbonding.status).toBe('committed');
    const after = cliJson<{ roles: { validator: { bonded: string; unbonding: { amount: string }[] } } }>([
      ...base,
      'query',
      'stake',
      validator,
    ]);
    expect(after.roles.validator.bonded).toBe('1000000');
    expect(after.roles.validator.unbonding.map((e) => e.amount)).toEqual(['1000000']);

    expect(refused('stake-unjail').error.code).toBe('staking/not_jailed');

    // Bad input never reaches the node: a coded error from the CLI itself.
    const bad = cli([...base, 'tx', 'stake-bond', '--from', 'validator', '--role', 'miner', '--amount', '1']);
    expect(bad.status).toBe(2); // a usage error: nothing signed or sent
    expect(bad.stderr).toContain('[staking/invalid_role]');
  }, 90_000);
});
