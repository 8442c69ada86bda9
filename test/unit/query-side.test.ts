import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toJson } from '../../src/codec/json.ts';
import { queryViews, runSmallEconomy } from '../helpers/small-economy.ts';

/*
 * Query-side data (payment legs, agent actions, children and contributor lists) lives in the chain
 * index, not in the state tree. The answers must be what they were when it lived in the tree:
 * `fixtures/small-economy-views.json` holds every such query of the small economy as answered by
 * the build before the move (commit 6a26558), and this build must answer them identically.
 */
describe('query-side data outside the state tree', () => {
  it('answers traces, payments, actions, lineage, earnings and fees exactly as before the move', async () => {
    const expected = JSON.parse(readFileSync(new URL('./fixtures/small-economy-views.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    const views = toJson(await queryViews(await runSmallEconomy()));
    expect(Object.keys(views as object)).toEqual(Object.keys(expected));
    for (const [query, answer] of Object.entries(expected)) expect((views as Record<string, unknown>)[query], query).toEqual(answer);
  });
});
