import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { appendLeaf, frontierRoot } from '../../src/attribution/accumulator.ts';
import {
  splitPayment,
  type LineageDatanet,
  type LineageVersion,
  type LineageView,
  type SplitRequest,
} from '../../src/attribution/split.ts';
import { EdgeKind, TargetKind, type ParentEdge, type Weight } from '../../src/attribution/store.ts';
import { moduleAddress } from '../../src/crypto/address.ts';
import { merkleRoot } from '../../src/crypto/merkle.ts';
import { MAX_AMOUNT } from '../../src/state/math.ts';

/*
 * The payment split as a pure function over random lineage DAGs: exact conservation, no zero or
 * negative legs, and a result independent of the order the inputs happen to be listed in.
 */

const people = Array.from({ length: 6 }, (_, i) => moduleAddress(`person-${i}`));
const VALIDATORS = moduleAddress('v');
const TREASURY = moduleAddress('t');

interface World {
  versions: Map<number, LineageVersion>;
  datanets: Map<number, LineageDatanet>;
  contributions: Map<number, { id: number; contributor: Uint8Array; size: number; datanet: number }>;
}

const worldArb = fc
  .record({
    datanets: fc.array(
      fc.array(fc.record({ who: fc.nat(5), size: fc.integer({ min: 1, max: 1_000_000 }) }), { maxLength: 5 }),
      { minLength: 1, maxLength: 4 },
    ),
    versions: fc.array(
      fc.record({
        owner: fc.nat(5),
        parents: fc.array(
          fc.record({ pick: fc.nat(), datanet: fc.boolean(), share: fc.integer({ min: 1, max: 3000 }) }),
          { maxLength: 4 },
        ),
      }),
      { minLength: 1, maxLength: 12 },
    ),
  })
  .map(({ datanets, versions }): World => {
    const world: World = { versions: new Map(), datanets: new Map(), contributions: new Map() };
    let cid = 0;
    datanets.forEach((contribs, i) => {
      const accepted = contribs.map((c) => ({ id: ++cid, contributor: people[c.who]!, size: c.size }));
      for (const a of accepted) world.contributions.set(a.id, { ...a, datanet: i + 1 });
      world.datanets.set(i + 1, { owner: people[i % people.length]!, accepted });
    });
    versions.forEach((v, i) => {
      const id = i + 1;
      const parents: ParentEdge[] = [];
      const seen = new Set<string>();
      let sum = 0;
      for (const p of v.parents) {
        const kind = p.datanet || id === 1 ? EdgeKind.datanet : EdgeKind.model;
        const pid = kind === EdgeKind.datanet ? (p.pick % datanets.length) + 1 : (p.pick % (id - 1)) + 1;
        if (seen.has(`${kind}:${pid}`) || sum + p.share > 9000) continue;
        seen.add(`${kind}:${pid}`);
        sum += p.share;
        parents.push({ kind, id: pid, share_bps: p.share });
      }
      world.versions.set(id, { owner: people[v.owner]!, parents });
    });
    return world;
  });

function ancestorsOf(world: World, id: number): { models: number[]; datanets: number[] } {
  const models = new Set<number>();
  const datanets = new Set<number>();
  const stack = [id];
  while (stack.length) {
    for (const p of world.versions.get(stack.pop()!)!.parents) {
      if (p.kind === EdgeKind.datanet) datanets.add(p.id);
      else if (!models.has(p.id)) {
        models.add(p.id);
        stack.push(p.id);
      }
    }
  }
  return { models: [...models], datanets: [...datanets] };
}

function viewOf(world: World, shuffle: (xs: ParentEdge[]) => ParentEdge[]): LineageView {
  return {
    async version(id) {
      const v = world.versions.get(id)!;
      return { owner: v.owner, parents: shuffle([...v.parents]) };
    },
    async datanet(id) {
      return world.datanets.get(id)!;
    },
    async contribution(id) {
      return world.contributions.get(id)!;
    },
  };
}

const amountArb = fc.oneof(
  fc.constant(1n),
  fc.bigInt({ min: 1n, max: 10_000_000n }),
  fc.bigInt({ min: MAX_AMOUNT - 1_000_000n, max: MAX_AMOUNT }),
);

function legsKey(
  legs: { role: string; recipient: Uint8Array; amount: bigint; node_kind: number; node_id: number }[],
): string {
  return legs
    .map((l) => `${l.role}|${Buffer.from(l.recipient).toString('hex')}|${l.node_kind}|${l.node_id}|${l.amount}`)
    .sort()
    .join('\n');
}

describe('splitPayment', () => {
  it('conserves every payment exactly and does not depend on input order', async () => {
    await fc.assert(
      fc.asyncProperty(
        worldArb,
        amountArb,
        fc.nat(),
        fc.integer({ min: 0, max: 2000 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        async (world, amount, pick, agentFee, withRecord, rawWeights, seed) => {
          const versionId = (pick % world.versions.size) + 1;
          const anc = ancestorsOf(world, versionId);
          let recordWeights: Weight[] | undefined;
          if (withRecord && anc.datanets.length > 0) {
            // Random targets in the closure, weights normalised to exactly 10,000 bps.
            const targets: { kind: number; id: number }[] = [];
            for (const d of anc.datanets) {
              targets.push({ kind: TargetKind.datanet, id: d });
              for (const c of world.datanets.get(d)!.accepted)
                targets.push({ kind: TargetKind.contribution, id: c.id });
            }
            const chosen = targets.filter((_, i) => i % rawWeights.length === seed % rawWeights.length || i === 0);
            const raw = chosen.map((_, i) => rawWeights[i % rawWeights.length]!);
            const total = raw.reduce((a, b) => a + b, 0);
            const bps = raw.map((r) => Math.max(1, Math.floor((r * 10_000) / total)));
            bps[0]! += 10_000 - bps.reduce((a, b) => a + b, 0);
            if (bps[0]! >= 1) recordWeights = chosen.map((t, i) => ({ ...t, bps: bps[i]! }));
          }
          const req: SplitRequest = {
            amount,
            validatorBps: 500,
            treasuryBps: 300,
            validatorsAccount: VALIDATORS,
            treasuryAccount: TREASURY,
            agent: agentFee > 0 ? { id: 7, account: moduleAddress('agent'), feeBps: agentFee } : undefined,
            versionId,
            ancestorVersionIds: anc.models,
            recordWeights,
          };
          const a = await splitPayment(
            req,
            viewOf(world, (xs) => xs),
          );
          let sum = 0n;
          for (const leg of a.legs) {
            expect(leg.amount > 0n).toBe(true);
            sum += leg.amount;
          }
          expect(sum).toBe(amount);

          // Same payment, every list permuted: identical legs.
          const rot = (seed % 7) + 1;
          const permute = <T>(xs: T[]): T[] =>
            [...xs.slice(rot % Math.max(1, xs.length)), ...xs.slice(0, rot % Math.max(1, xs.length))].reverse();
          const b = await splitPayment(
            {
              ...req,
              ancestorVersionIds: permute([...anc.models]),
              recordWeights: recordWeights ? permute([...recordWeights]) : undefined,
            },
            viewOf(world, permute),
          );
          expect(legsKey(b.legs)).toBe(legsKey(a.legs));
          expect(b.nodesVisited).toBe(a.nodesVisited);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('follows the documented rule on a small diamond (hand computed)', async () => {
    // D1 (contributions of size 1 and 3) <- M1 (30 %) ; M2 <- M1 (40 %) ; M3 <- M1 (20 %) ; M4 <- M2 (50 %), M3 (10 %)
    const [alice, bob, o1, o2, o3, o4] = people as [
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
    ];
    const world: World = {
      datanets: new Map([
        [
          1,
          {
            owner: o1,
            accepted: [
              { id: 1, contributor: alice, size: 1 },
              { id: 2, contributor: bob, size: 3 },
            ],
          },
        ],
      ]),
      versions: new Map([
        [1, { owner: o1, parents: [{ kind: EdgeKind.datanet, id: 1, share_bps: 3000 }] }],
        [2, { owner: o2, parents: [{ kind: EdgeKind.model, id: 1, share_bps: 4000 }] }],
        [3, { owner: o3, parents: [{ kind: EdgeKind.model, id: 1, share_bps: 2000 }] }],
        [
          4,
          {
            owner: o4,
            parents: [
              { kind: EdgeKind.model, id: 2, share_bps: 5000 },
              { kind: EdgeKind.model, id: 3, share_bps: 1000 },
            ],
          },
        ],
      ]),
      contributions: new Map(),
    };
    const { legs, nodesVisited } = await splitPayment(
      {
        amount: 100_000n,
        validatorBps: 500,
        treasuryBps: 500,
        validatorsAccount: VALIDATORS,
        treasuryAccount: TREASURY,
        versionId: 4,
        ancestorVersionIds: [1, 2, 3],
      },
      viewOf(world, (xs) => xs),
    );
    // 90,000 to M4: owner 36,000, M2 45,000, M3 9,000. M3: owner 7,200, M1 1,800. M2: owner 27,000, M1 18,000.
    // M1 gets 19,800 once (diamond): owner 13,860, D1 5,940 -> alice 1,485, bob 4,455.
    const got = Object.fromEntries(legs.map((l) => [`${l.role}:${l.node_kind}:${l.node_id}`, l.amount]));
    expect(got).toEqual({
      'validated:0:0': 5_000n,
      'treasury:0:0': 5_000n,
      'refined:1:4': 36_000n,
      'refined:1:3': 7_200n,
      'refined:1:2': 27_000n,
      'refined:1:1': 13_860n,
      'contributed:3:1': 1_485n,
      'contributed:3:2': 4_455n,
    });
    expect(nodesVisited).toBe(5); // four versions and one datanet, each once
  });

  it('gives leftover units to the largest remainders, ties to the owner first, then edges by (kind, id)', async () => {
    const world: World = {
      datanets: new Map([[1, { owner: people[0]!, accepted: [] }]]),
      versions: new Map([
        [1, { owner: people[1]!, parents: [] }],
        [
          2,
          {
            owner: people[2]!,
            parents: [
              { kind: EdgeKind.datanet, id: 1, share_bps: 5000 },
              { kind: EdgeKind.model, id: 1, share_bps: 5000 - 1 },
            ],
          },
        ],
      ]),
      contributions: new Map(),
    };
    const { legs } = await splitPayment(
      {
        amount: 1n,
        validatorBps: 0,
        treasuryBps: 0,
        validatorsAccount: VALIDATORS,
        treasuryAccount: TREASURY,
        versionId: 2,
        ancestorVersionIds: [1],
      },
      viewOf(world, (xs) => xs),
    );
    // weights [owner 1, model 4999, datanet 5000]: the one unit goes to the largest remainder (datanet).
    expect(legs.map((l) => [l.role, l.amount])).toEqual([['curated', 1n]]);

    // Equal remainders: owner 5,000 and parent 5,000 bps of 1 unit -> the owner (lower index).
    world.versions.set(3, { owner: people[3]!, parents: [{ kind: EdgeKind.model, id: 1, share_bps: 5000 }] });
    const tie = await splitPayment(
      {
        amount: 1n,
        validatorBps: 0,
        treasuryBps: 0,
        validatorsAccount: VALIDATORS,
        treasuryAccount: TREASURY,
        versionId: 3,
        ancestorVersionIds: [1],
      },
      viewOf(world, (xs) => xs),
    );
    expect(tie.legs.map((l) => [l.role, l.node_id, l.amount])).toEqual([['refined', 3, 1n]]);
    // Two datanet edges with equal shares: the lower datanet id.
    world.datanets.set(2, { owner: people[4]!, accepted: [] });
    world.versions.set(4, {
      owner: people[3]!,
      parents: [
        { kind: EdgeKind.datanet, id: 2, share_bps: 5000 },
        { kind: EdgeKind.datanet, id: 1, share_bps: 5000 },
      ],
    });
    const edges = await splitPayment(
      {
        amount: 1n,
        validatorBps: 0,
        treasuryBps: 0,
        validatorsAccount: VALIDATORS,
        treasuryAccount: TREASURY,
        versionId: 4,
        ancestorVersionIds: [],
      },
      viewOf(world, (xs) => xs.reverse()),
    );
    expect(edges.legs.map((l) => [l.role, l.node_id, l.amount])).toEqual([['curated', 1, 1n]]);
  });
});

describe('Merkle accumulator', () => {
  it('matches merkleRoot over the same leaves for every size', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 70 }), (leaves) => {
        let frontier: Uint8Array[] = [];
        for (const leaf of leaves) frontier = appendLeaf(frontier, leaf);
        expect(Buffer.from(frontierRoot(frontier)).toString('hex')).toBe(
          Buffer.from(merkleRoot(leaves)).toString('hex'),
        );
        expect(frontier.filter((f) => f.length > 0).length).toBe(leaves.length.toString(2).split('1').length - 1);
      }),
      { numRuns: 200 },
    );
  });
});

describe('record memo and read cache (store.ts)', () => {
  it('never hands back a value that differs from the stored bytes, across mutation and revert', async () => {
    const { WorkingState } = await import('../../src/state/working-state.ts');
    const { IdListCodec, load, loadCached, save } = await import('../../src/attribution/store.ts');
    const base = new Map<string, Uint8Array>([['k2', IdListCodec.encode({ ids: [7] })]]);
    const state = new WorkingState({ get: async (k) => base.get(Buffer.from(k).toString()) });
    const key = Buffer.from('k1');
    save(state, IdListCodec, key, { ids: [1] });
    state.checkpoint();
    const loaded = (await load(state, IdListCodec, key))!;
    loaded.ids.push(2); // mutate what was loaded, then fail before saving
    state.revert();
    expect((await load(state, IdListCodec, key))!.ids).toEqual([1]);
    state.checkpoint();
    save(state, IdListCodec, key, { ids: [1, 3] });
    state.revert();
    expect((await load(state, IdListCodec, key))!.ids).toEqual([1]);

    // The read cache serves unwritten keys, and stops as soon as the key is written.
    const k2 = Buffer.from('k2');
    expect((await loadCached(state, k2, IdListCodec.decode))!.ids).toEqual([7]);
    base.set('k2', IdListCodec.encode({ ids: [8] })); // (a committed value never changes under a working state; this only proves the cache is used)
    expect((await loadCached(state, k2, IdListCodec.decode))!.ids).toEqual([7]);
    save(state, IdListCodec, k2, { ids: [9] });
    expect((await loadCached(state, k2, IdListCodec.decode))!.ids).toEqual([9]);
  });
});
