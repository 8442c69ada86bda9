import { describe, expect, it } from 'vitest';
import { addressFromPublicKey, formatAddress } from '../../src/crypto/address.ts';
import { toHex } from '../../src/crypto/hash.ts';
import { END_BLOCK_POSITION } from '../../src/index/committed-block.ts';
import { formatCursor, parseEventQuery, queryEvents } from '../../src/rpc/events.ts';
import type { EventPosition } from '../../src/state/module.ts';
import { codeOf } from '../helpers/codes.ts';
import { runSmallEconomy } from '../helpers/small-economy.ts';

interface Row {
  at: string;
  type: string;
  attributes: Record<string, string>;
}

const at = (p: EventPosition) => `${p.height}.${p.txIndex ?? END_BLOCK_POSITION}.${p.eventIndex}`;

/** `chain_getEvents`' query over the index, against every event of every block read from the block store. */
describe('event queries: AND across attributes, OR within one and across types, cursor paging', () => {
  it('matches a scan of every receipt, page by page, with no gap and no duplicate', async () => {
    const { chain, versions, people } = await runSmallEconomy();
    const c = chain.committed;
    const all: Row[] = [];
    for (let h = 1; h <= c.latestHeight; h++) {
      const r = (await c.blocks.getReceipts(h))!;
      const row = (p: EventPosition, e: { type: string; attributes: { key: string; value: string }[] }): Row => ({
        at: at(p),
        type: e.type,
        attributes: Object.fromEntries(e.attributes.map((a) => [a.key, a.value])),
      });
      for (const [i, rc] of r.receipts.entries()) {
        for (const [k, e] of rc.events.entries()) all.push(row({ height: h, txIndex: i, eventIndex: k }, e));
      }
      for (const [k, e] of r.end_block_events.entries()) all.push(row({ height: h, txIndex: null, eventIndex: k }, e));
    }
    const payer = formatAddress(addressFromPublicKey(people.payer!.publicKey));
    const m2 = String(versions[1]);
    const m3 = String(versions[2]);

    const run = async (filter: Record<string, unknown>): Promise<Row[]> => {
      const rows: Row[] = [];
      let cursor: string | undefined;
      const seen = new Set<string>();
      for (let pages = 0; pages < 1000; pages++) {
        const q = await parseEventQuery(c, { fromHeight: 1, ...filter, ...(cursor ? { cursor } : {}) });
        const page = await queryEvents(c, q);
        expect(page.events.length).toBeLessThanOrEqual(q.limit);
        for (const e of page.events) {
          const key = at(e);
          expect(seen.has(key)).toBe(false);
          seen.add(key);
          rows.push({
            at: key,
            type: e.event.type,
            attributes: Object.fromEntries(e.event.attributes.map((a) => [a.key, a.value])),
          });
          // Every event names its block and its time, from the stored header.
          const block = (await c.blocks.getBlock(e.height))!;
          expect(toHex(e.blockHash)).toBe(toHex(block.hash));
          expect(e.blockTimeMs).toBe(block.header.time_ms);
        }
        if (!page.cursor) return rows;
        cursor = formatCursor(page.cursor);
      }
      throw new Error('no end after 1000 pages');
    };

    // OR across types, in chain order.
    const types = ['inference_paid', 'fees_distributed', 'transfer'];
    const byTypes = all.filter((r) => types.includes(r.type));
    expect(byTypes.length).toBeGreaterThan(10);
    expect(await run({ types, limit: 3 })).toEqual(byTypes);
    expect(await run({ types, limit: 1000 })).toEqual(byTypes);

    // AND across attributes, OR within one.
    const paid = all.filter((r) => r.type === 'inference_paid');
    const both = paid.filter((r) => r.attributes.payer === payer && [m2, m3].includes(r.attributes.version_id!));
    const onlyM3 = paid.filter((r) => r.attributes.payer === payer && r.attributes.version_id === m3);
    expect(both.length).toBeGreaterThan(onlyM3.length);
    expect(onlyM3.length).toBeGreaterThan(0);
    expect(await run({ types: ['inference_paid'], attributes: { payer, version_id: [m2, m3] }, limit: 2 })).toEqual(
      both,
    );
    expect(await run({ types: ['inference_paid'], attributes: { version_id: [m3], payer }, limit: 2 })).toEqual(onlyM3);
    // A list field: a leg recipient, OR over two recipients, each event once even when it pays both.
    const recipients = [...new Set(paid.flatMap((r) => (r.attributes.leg_recipients ?? '').split(',')))].filter(
      Boolean,
    );
    const two = recipients.slice(0, 2);
    expect(two).toHaveLength(2);
    const paidEither = paid.filter((r) => r.attributes.leg_recipients!.split(',').some((x) => two.includes(x)));
    expect(await run({ types: ['inference_paid'], attributes: { leg_recipients: two }, limit: 4 })).toEqual(paidEither);

    // Bounds, coded.
    expect(await codeOf(parseEventQuery(c, { types: ['transfer'], fromHeight: 0, toHeight: 20_000 }))).toBe(
      'rpc/range_too_large',
    );
    expect(await codeOf(parseEventQuery(c, { types: ['transfer'], limit: 5000 }))).toBe('rpc/range_too_large');
    expect(await codeOf(parseEventQuery(c, { types: ['transfer'], attributes: { from: payer } }))).toBe(
      'index/not_indexed',
    );
    expect(await codeOf(parseEventQuery(c, { types: [] }))).toBe('rpc/invalid_params');
    expect(await codeOf(parseEventQuery(c, { types: ['transfer'], cursor: 'x' }))).toBe('rpc/invalid_cursor');
    expect(await codeOf(parseEventQuery(c, { types: ['transfer'], colour: 'red' }))).toBe('rpc/invalid_params');
  });
});
