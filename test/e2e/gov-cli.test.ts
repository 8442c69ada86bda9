import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { homePaths } from '../../src/config.ts';
import {
  cli,
  cliJson,
  startNodeProcess,
  stopNodeProcess,
  tempHome,
  until,
  type NodeProcess,
} from '../helpers/process.ts';

/*
 * Governance as a user drives it, against a real node process: the bond, the proposal and the vote
 * through `tributary tx`, the lifecycle watched through `tributary query proposal(s)`, the change
 * read back through `query params` at its effective height, and `tributary verify` replaying it all.
 */

const homes: string[] = [];
const nodes: NodeProcess[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await stopNodeProcess(n);
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

interface ProposalJson {
  id: number;
  status: string;
  votingEndHeight: number | null;
  executeHeight: number | null;
  effectiveHeight: number | null;
  tally: { yes: string; eligible: string } | null;
}

describe('governance through the CLI', () => {
  it('propose, vote, watch it execute, see the parameter in force at the stated height, verify the chain', async () => {
    const home = tempHome('tributary-gov-e2e-');
    homes.push(home);
    const h = ['--home', home];
    cliJson([...h, 'init', '--keyring-backend', 'test']);
    // Short periods (blocks of 200 ms): votes open at once for 50 blocks, executed 2 blocks after the tally.
    const genesisPath = homePaths(home).genesis;
    const genesis = JSON.parse(readFileSync(genesisPath, 'utf8')) as { params: { modules: Record<string, unknown> } };
    genesis.params.modules.gov = {
      minDeposit: '1000',
      depositPeriodBlocks: 50,
      votingDelayBlocks: 0,
      votingPeriodBlocks: 50,
      executionDelayBlocks: 2,
    };
    writeFileSync(genesisPath, JSON.stringify(genesis, null, 2));
    const node = await startNodeProcess(home);
    nodes.push(node);
    const rpc = ['--rpc', node.url];

    const bonded = cliJson<{ status: string }>([
      ...h,
      ...rpc,
      'tx',
      'stake-bond',
      '--from',
      'validator',
      '--role',
      'validator',
      '--amount',
      (10n ** 24n).toString(),
      '--wait',
    ]);
    expect(bonded.status).toBe('committed');

    const proposed = cliJson<{ status: string; height: number }>([
      ...h,
      ...rpc,
      'tx',
      'gov-propose',
      '--from',
      'validator',
      '--kind',
      'param-change',
      '--title',
      'bigger blocks',
      '--params',
      '{ "maxBlockTxs": 12345 }',
      '--deposit',
      '1000',
      '--wait',
    ]);
    expect(proposed.status).toBe('committed');
    let p = cliJson<ProposalJson>([...h, ...rpc, 'query', 'proposal', '1']);
    expect(p.status).toBe('voting');
    const voted = cliJson<{ status: string }>([
      ...h,
      ...rpc,
      'tx',
      'gov-vote',
      '--from',
      'validator',
      '--proposal',
      '1',
      '--option',
      'yes',
      '--wait',
    ]);
    expect(voted.status).toBe('committed');

    p = await until(
      async () => {
        const q = cliJson<ProposalJson>([...h, ...rpc, 'query', 'proposal', '1']);
        return q.status === 'executed' ? q : undefined;
      },
      60_000,
      500,
    );
    expect(p.tally!.yes).toBe(p.tally!.eligible);
    expect(p.executeHeight).toBe(p.votingEndHeight! + 2);
    expect(p.effectiveHeight).toBe(p.executeHeight! + 2);
    const listed = cliJson<{ proposals: ProposalJson[]; cursor: string | null }>([
      ...h,
      ...rpc,
      'query',
      'proposals',
      'executed',
    ]);
    expect(listed.proposals.map((x) => x.id)).toEqual([1]);
    expect(listed.cursor).toBeNull();

    // Scheduled for the effective height (the entry before it keeps the old value until then),
    // and in force once the chain is there.
    type Schedule = { height: number; schedule: { fromHeight: number; params: { maxBlockTxs: number } }[] };
    const scheduled = cliJson<Schedule>([...h, ...rpc, 'query', 'params-schedule']);
    expect(scheduled.schedule.find((e) => e.params.maxBlockTxs === 12_345)?.fromHeight).toBe(p.effectiveHeight);
    const later = await until(async () => {
      const c = cliJson<Schedule>([...h, ...rpc, 'query', 'params-schedule']);
      return c.height >= p.effectiveHeight! ? c : undefined;
    });
    const inForce = later.schedule.filter((e) => e.fromHeight <= later.height).at(-1)!;
    expect(inForce.params.maxBlockTxs).toBe(12_345);

    const bad = cli([...h, ...rpc, 'tx', 'gov-vote', '--from', 'validator', '--proposal', '1', '--option', 'maybe']);
    expect(bad.status).toBe(2); // a usage error: nothing signed or sent
    expect(bad.stderr).toMatch(/^error \[cli\/invalid\]: /);

    await stopNodeProcess(nodes.pop()!);
    const verified = cliJson<{ height: number }>([...h, 'verify']);
    expect(verified.height).toBeGreaterThanOrEqual(p.effectiveHeight!);
  }, 180_000);
});
