import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { payTx } from '../../src/attribution/inference.ts';
import { toJson } from '../../src/codec/json.ts';
import { sha256, toHex, utf8 } from '../../src/crypto/hash.ts';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import type { TributaryError } from '../../src/errors.ts';
import { queryViews, runSmallEconomy } from '../helpers/small-economy.ts';
import type { TestChain } from '../helpers/test-chain.ts';

/** Keys added, changed or removed in the state tree by one block. */
async function treeKeysWritten(chain: TestChain, txs: Uint8Array[]): Promise<string[]> {
  const before = await chain.snapshot();
  await chain.block(txs);
  const after = await chain.snapshot();
  const changed = [...after].filter(([k, v]) => before.get(k) !== v).map(([k]) => k);
  return [...changed, ...[...before.keys()].filter((k) => !after.has(k))].sort();
}

const text = (hexKey: string) => Buffer.from(hexKey, 'hex').toString('latin1');

/*
 * Query-side data (payment legs, agent actions, children and contributor lists) lives in the chain
 * index, not in the state tree. The answers must be what they were when it lived in the tree:
 * `fixtures/small-economy-views.json` holds every such query of the small economy as answered by
 * the build before the move (commit 6a26558), and this build must answer them identically (updated
 * since, on purpose: the units a datanet's size split leaves over go to its owner, anti-sybil; agent_get
 * shows flaggedByDispute).
 */
describe('query-side data outside the state tree', () => {
  it('answers traces, payments, actions, lineage, earnings and fees exactly as before the move', async () => {
    const expected = JSON.parse(
      readFileSync(new URL('./fixtures/small-economy-views.json', import.meta.url), 'utf8'),
    ) as Record<string, unknown>;
    const views = toJson(await queryViews(await runSmallEconomy()));
    expect(Object.keys(views as object)).toEqual(Object.keys(expected));
    for (const [query, answer] of Object.entries(expected))
      expect((views as Record<string, unknown>)[query], query).toEqual(answer);
  });

  it('the state root does not change when only query-side data changes', async () => {
    // Two economies that differ only in the response hashes their payments name: those are in the
    // receipts (and the results root), and no longer in the state.
    const a = await runSmallEconomy();
    const b = await runSmallEconomy({ responseTag: ' (another response)' });
    expect(b.chain.app.height).toBe(a.chain.app.height);
    let resultsDiffer = 0;
    for (let h = 1; h <= a.chain.app.height; h++) {
      const [ha, hb] = [
        (await a.chain.chain.blocks.getBlock(h))!.header,
        (await b.chain.chain.blocks.getBlock(h))!.header,
      ];
      expect(toHex(hb.state_root), `state root at ${h}`).toBe(toHex(ha.state_root));
      if (toHex(ha.results_root) !== toHex(hb.results_root)) resultsDiffer++;
    }
    expect(resultsDiffer).toBe(6); // the five blocks of one inference/pay and the block of four
    expect(await b.chain.snapshot()).toEqual(await a.chain.snapshot());
    // The answers differ where they should: the trace shows each chain its own response hash.
    const trace = async (e: typeof a) =>
      ((await e.chain.query('attribution_trace', { paymentId: 1 })) as { payment: { responseHash: string } }).payment
        .responseHash;
    expect(await trace(b)).not.toBe(await trace(a));
    // None of the retired query-side keys are in the tree.
    const retired = ['inference/p/', 'agent/x/', 'datanet/by/', 'datanet/ch/', 'model/ch/'];
    for (const key of (await a.chain.snapshot()).keys())
      for (const prefix of retired) expect(text(key).startsWith(prefix), text(key)).toBe(false);
  });

  it('a payment writes no tree key of its own: more payments from the same payers write the same keys', async () => {
    const economy = await runSmallEconomy();
    const { chain, people } = economy;
    const m2 = economy.versions[1]!;
    let n = 0;
    const payments = (count: number) =>
      Array.from({ length: count }, (_, i) => {
        const who = i % 2 ? people.payer! : people.ben!;
        n++;
        return chain.sign(
          who,
          payTx,
          {
            model_version_id: m2,
            amount: 1_000n + BigInt(n),
            request_hash: sha256(utf8.encode(`more ${n}`)),
            response_hash: new Uint8Array(0),
            agent_id: 0,
            attribution_id: 0,
          },
          100_000n,
        );
      });
    const four = await treeKeysWritten(chain, payments(4));
    const twelve = await treeKeysWritten(chain, payments(12));
    // The two payers' accounts, the payment counter, the pool, treasury, validator and fee
    // collector, each earner's and contribution's record and the version's usage: once per block.
    expect(twelve).toEqual(four);
    expect(four.length).toBeLessThan(20);
  });

  it('lists payments by payer, model and earner, one cursor page at a time', async () => {
    const economy = await runSmallEconomy();
    const { chain } = economy;
    type Page = {
      payments: { id: number; payer: string; modelVersionId: number; earned?: string }[];
      next: string | null;
    };
    const all = async (params: Record<string, unknown>, limit: number) => {
      const out: Page['payments'] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 100; pages++) {
        const page = (await chain.query('inference_listPayments', { ...params, limit, cursor })) as Page;
        out.push(...page.payments);
        if (!page.next) return out;
        cursor = page.next;
      }
      throw new Error('cursor never ended');
    };
    const traces = await Promise.all(
      economy.payments.map(
        async (id) =>
          (await chain.query('attribution_trace', { paymentId: id })) as {
            payment: { id: number; payer: string; modelVersionId: number };
            legs: { recipient: string; amount: string }[];
          },
      ),
    );
    const ada = formatAddress(addressFromPublicKey(economy.people.ada!.publicKey));
    const payer = formatAddress(addressFromPublicKey(economy.people.payer!.publicKey));
    const m3 = economy.versions[2]!;

    const byPayer = await all({ by: 'payer', id: payer }, 2);
    expect(byPayer.map((p) => p.id)).toEqual(traces.filter((t) => t.payment.payer === payer).map((t) => t.payment.id));
    expect((await all({ by: 'model', id: m3 }, 1)).map((p) => p.id)).toEqual(
      traces.filter((t) => t.payment.modelVersionId === m3).map((t) => t.payment.id),
    );
    const earned = traces
      .map((t) => ({
        id: t.payment.id,
        earned: t.legs.filter((l) => l.recipient === ada).reduce((sum, l) => sum + BigInt(l.amount), 0n),
      }))
      .filter((t) => t.earned > 0n)
      .map((t) => ({ id: t.id, earned: t.earned.toString() }));
    expect(earned.length).toBeGreaterThan(3);
    for (const limit of [1, 3, 500])
      expect((await all({ by: 'earner', id: ada }, limit)).map((p) => ({ id: p.id, earned: p.earned }))).toEqual(
        earned,
      );
    // The last block holds the four payments paid together.
    const late = (await chain.query('inference_listPayments', {
      by: 'earner',
      id: ada,
      fromHeight: chain.app.height,
    })) as Page;
    expect(late.payments.map((p) => p.id)).toEqual(
      economy.payments.slice(-4).filter((id) => earned.some((e) => e.id === id)),
    );

    const codeOf = async (params: Record<string, unknown>) =>
      chain.query('inference_listPayments', params).then(
        () => undefined,
        (e: TributaryError) => e.code,
      );
    expect(await codeOf({ by: 'sender', id: payer })).toBe('rpc/invalid_params');
    expect(await codeOf({ by: 'model', id: 'three' })).toBe('rpc/invalid_params');
    expect(await codeOf({ by: 'payer', id: payer, cursor: 'nope' })).toBe('rpc/invalid_cursor');
    // The old "height.txIndex.eventIndex" text is refused with the same code, not read.
    expect(await codeOf({ by: 'payer', id: payer, cursor: '3.0.1' })).toBe('rpc/invalid_cursor');
    expect(await codeOf({ by: 'earner', id: 'trib1nope' })).toBe('address/invalid');
  });
});
