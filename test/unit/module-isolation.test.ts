import { describe, expect, it } from 'vitest';
import { messageCodec, parseSchema } from '../../src/codec/canonical.ts';
import { addressFromPublicKey } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { utf8 } from '../../src/crypto/hash.ts';
import { MODULES, MODULE_ORDER } from '../../src/modules.ts';
import { AccountCodec, accountKey, type BankKeeper } from '../../src/state/bank/keeper.ts';
import {
  bindKeeper,
  expectKeeper,
  withKeepers,
  type KeeperSource,
  type Module,
  type TxDefinition,
} from '../../src/state/module.ts';
import { TxRegistry } from '../../src/state/registry.ts';
import { TestChain } from '../helpers/test-chain.ts';

/*
 * The module guard: a module's context holds its own store (writes only under its prefixes), the
 * bank's transfers (no setAccount) and the keepers the module list bound for it. These test
 * modules try each way around it and must fail; the same modules doing what they may must work.
 */

const schema = parseSchema(`
syntax = "proto3";
package tributary.guardtest;
message MsgTry {
  string what = 1;
}`);

interface MsgTry {
  what: string;
}

const alice = new SigningKey(new Uint8Array(32).fill(7));
const aliceAddress = addressFromPublicKey(alice.publicKey);
const ownKey = utf8.encode('guard/note');
const noteKey = utf8.encode('notes/note');
const hex = (key: string): string => Buffer.from(key).toString('hex');

/** The `notes` module offers one keeper that writes its own key. */
const notesKeeper: KeeperSource<{ write(text: string): void }> = {
  module: 'notes',
  create: ({ store }) => ({ write: (text) => store.set(noteKey, utf8.encode(text)) }),
};
const notesModule: Module = { name: 'notes', txs: [], keepers: [notesKeeper] };
const NOTES = expectKeeper<{ write(text: string): void }>('notes');

const tryTx: TxDefinition<MsgTry> = {
  type: 'guard/try',
  codec: messageCodec<MsgTry>(schema, 'tributary.guardtest.MsgTry'),
  validateBasic() {},
  async execute(ctx, m) {
    const rich = AccountCodec.encode({ balance: 10n ** 30n, nonce: 1 });
    if (m.what === 'own-prefix') ctx.store.set(ownKey, utf8.encode('ok'));
    if (m.what === 'other-prefix') ctx.store.set(noteKey, utf8.encode('forged'));
    if (m.what === 'bank-key') ctx.store.set(accountKey(ctx.sender), rich);
    if (m.what === 'bank-delete') ctx.store.delete(accountKey(ctx.sender));
    if (m.what === 'set-account')
      (ctx.bank as unknown as BankKeeper).setAccount(ctx.sender, { balance: 10n ** 30n, nonce: 1 });
    if (m.what === 'mint') await (ctx.bank as unknown as BankKeeper).mintAtGenesis(ctx.sender, 10n ** 30n);
    if (m.what === 'reach-state')
      (ctx.store as unknown as { state: { set(k: Uint8Array, v: Uint8Array): void } }).state.set(
        accountKey(ctx.sender),
        rich,
      );
    if (m.what === 'keeper') ctx.keeper(NOTES).write('through the keeper');
  },
  view: (m) => ({ what: m.what }),
};
const guardModule: Module = withKeepers({ name: 'guard', txs: [tryTx], expects: [NOTES] }, [
  bindKeeper(NOTES, notesKeeper),
]);

async function chain(): Promise<TestChain> {
  return TestChain.create({
    funded: [{ key: alice, balance: 1_000_000_000n }],
    registry: new TxRegistry([...MODULES, notesModule, guardModule], MODULE_ORDER),
  });
}

describe('module isolation', () => {
  it("a write outside the module's prefix fails with state/write_outside_prefix and leaves no trace", async () => {
    const c = await chain();
    const before = await c.balance(aliceAddress);
    for (const what of ['other-prefix', 'bank-key', 'bank-delete']) {
      const receipt = await c.run(c.sign(alice, tryTx, { what }));
      expect(receipt.error_code, what).toBe('state/write_outside_prefix');
    }
    const fee = c.genesis.params.minFee;
    expect(await c.balance(aliceAddress)).toBe(before - 3n * fee);
    expect((await c.snapshot()).has(hex('notes/note'))).toBe(false);
  });

  it('a module cannot set a balance, mint, or reach the working state under its store', async () => {
    const c = await chain();
    const before = await c.balance(aliceAddress);
    for (const what of ['set-account', 'mint', 'reach-state']) {
      const receipt = await c.run(c.sign(alice, tryTx, { what }));
      // No such function on what the module holds: the call itself throws (an uncoded error).
      expect(receipt.error_code, what).toBe('tx/internal_error');
    }
    expect(await c.balance(aliceAddress)).toBe(before - 3n * c.genesis.params.minFee);
  });

  it("what a module may do works: its own prefix, and another module's record through the bound keeper", async () => {
    const c = await chain();
    expect((await c.run(c.sign(alice, tryTx, { what: 'own-prefix' }))).error_code).toBe('');
    expect((await c.run(c.sign(alice, tryTx, { what: 'keeper' }))).error_code).toBe('');
    const snapshot = await c.snapshot();
    expect(snapshot.has(hex('guard/note'))).toBe(true);
    expect(snapshot.has(hex('notes/note'))).toBe(true);
  });

  it('the registry refuses overlapping prefixes, unbound expectations and keepers a module does not offer', () => {
    const overlapping: Module = { name: 'bankish', txs: [], storePrefixes: ['bank/acct/'] };
    expect(() => new TxRegistry([...MODULES, overlapping], MODULE_ORDER)).toThrow(/overlaps/);
    const unbound: Module = { name: 'needy', txs: [], expects: [NOTES] };
    expect(() => new TxRegistry([...MODULES, notesModule, unbound], MODULE_ORDER)).toThrow(/does not bind/);
    // A "keeper" for the bank's store that the bank never offered: refused, so it never gets that store.
    const forged: KeeperSource<{ write(text: string): void }> = {
      module: 'bank',
      create: ({ store }) => ({ write: (t) => store.set(accountKey(aliceAddress), utf8.encode(t)) }),
    };
    const thief = withKeepers({ name: 'thief', txs: [], expects: [NOTES] }, [bindKeeper(NOTES, forged)]);
    expect(() => new TxRegistry([...MODULES, thief], MODULE_ORDER)).toThrow(/does not offer/);
  });
});

describe('the working state as the cache layer', () => {
  it('the committed-value cache yields to any buffered write, whoever made it, and returns after a revert', async () => {
    const { WorkingState } = await import('../../src/state/working-state.ts');
    const key = utf8.encode('datanet/c/x');
    const committed = utf8.encode('committed');
    const state = new WorkingState({ get: async () => committed });
    const parse = (raw: Uint8Array): string => Buffer.from(raw).toString();
    expect(await state.loadCached(key, parse)).toBe('committed');
    state.checkpoint();
    state.set(key, utf8.encode('written raw')); // not through any helper that could "mark" it
    expect(await state.loadCached(key, parse)).toBe('written raw');
    state.delete(key);
    expect(await state.loadCached(key, parse)).toBeUndefined();
    state.revert();
    expect(await state.loadCached(key, parse)).toBe('committed');
  });

  it('scratch lives outside checkpoints: a revert does not undo it, and taking it empties it', async () => {
    const { WorkingState } = await import('../../src/state/working-state.ts');
    const state = new WorkingState({ get: async () => undefined });
    state.checkpoint();
    state.scratch('inference:credits', () => [] as number[]).push(1);
    state.revert();
    expect(state.scratch('inference:credits', () => [] as number[])).toEqual([1]);
    expect(state.takeScratch('inference:credits')).toEqual([1]);
    expect(state.takeScratch('inference:credits')).toBeUndefined();
  });
});
