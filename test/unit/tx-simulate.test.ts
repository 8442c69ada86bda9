import { describe, expect, it } from 'vitest';
import { payTx } from '../../src/attribution/inference.ts';
import { addressFromPublicKey } from '../../src/crypto/address.ts';
import { SigningKey } from '../../src/crypto/ed25519.ts';
import { sha256, utf8 } from '../../src/crypto/hash.ts';
import { transferTx } from '../../src/state/bank/module.ts';
import { readAccount } from '../../src/state/bank/keeper.ts';
import type { TxDefinition } from '../../src/state/module.ts';
import { buildTx } from '../../src/state/tx.ts';
import { codeOf } from '../helpers/codes.ts';
import { runSmallEconomy } from '../helpers/small-economy.ts';
import { TestChain } from '../helpers/test-chain.ts';

/** `Application.simulateTx`: the fee a transaction needs, found in one call, and nothing changed. */
describe('transaction simulation', () => {
  it('reports the metered fee of an inference payment; that fee is admitted and one unit less is refused', async () => {
    const { chain, versions, people } = await runSmallEconomy();
    const app = chain.app;
    const payer = people.payer!;
    const nonce = (await readAccount(app.queryContext(chain.reader).state, addressFromPublicKey(payer.publicKey)))
      .nonce;
    const message = {
      model_version_id: versions[2]!,
      amount: 5_000n,
      request_hash: sha256(utf8.encode('simulated request')),
      response_hash: sha256(utf8.encode('simulated response')),
      agent_id: 0,
      attribution_id: 0,
    };
    const build = (fee: bigint) => buildTx(payer, payTx, message, { chainId: app.chainId, nonce, fee });

    const state = app.newCheckState();
    const sim = await app.simulateTx(state, app.decodeTx(build(0n), false));
    expect(sim.error).toBeUndefined();
    expect(sim.ok).toBe(true);
    // A descendant of two versions with paid contributions: far above the minimum fee.
    expect(sim.requiredFee).toBeGreaterThan(app.params.minFee);
    expect(sim.declaredFee).toBe(0n);
    expect(sim.chargedFee).toBe(sim.requiredFee);
    expect(sim.events.map((e) => e.type)).toContain('inference_paid');

    // The same simulation again gives the same answer: the first one left the state as it was.
    expect(await app.simulateTx(state, app.decodeTx(build(0n), false))).toEqual(sim);

    expect(await codeOf(app.checkTx(app.newCheckState(), app.decodeTx(build(sim.requiredFee - 1n))))).toBe(
      'tx/fee_too_low',
    );
    await app.checkTx(state, app.decodeTx(build(sim.requiredFee)));
    // Now that the check state holds the payment, the same nonce is used up.
    const again = await app.simulateTx(state, app.decodeTx(build(0n), false));
    expect(again.ok).toBe(false);
    expect(again.error?.code).toBe('tx/nonce_too_low');
  });

  it('reports the outcome with the fee paid: a transfer of everything but the fee passes, one unit more fails', async () => {
    const sender = new SigningKey(sha256(utf8.encode('simulate sender')));
    const balance = 50_000n;
    const chain = await TestChain.create({
      funded: [{ key: sender, balance }],
      validator: new SigningKey(sha256(utf8.encode('simulate validator'))),
    });
    const app = chain.app;
    const minFee = app.params.minFee;
    const to = addressFromPublicKey(SigningKey.generate().publicKey);
    const sim = (amount: bigint, fee = 0n, def: TxDefinition<{ to: Uint8Array; amount: bigint }> = transferTx) =>
      app.simulateTx(
        app.newCheckState(),
        app.decodeTx(buildTx(sender, def, { to, amount }, { chainId: app.chainId, nonce: 0, fee }), false),
      );
    const before = await chain.snapshot();

    const fits = await sim(balance - minFee);
    expect(fits).toMatchObject({ ok: true, requiredFee: minFee, chargedFee: minFee, error: undefined });
    expect(fits.events.length).toBeGreaterThan(0);

    const over = await sim(balance - minFee + 1n);
    expect(over.ok).toBe(false);
    expect(over.error?.code).toBe('bank/insufficient_funds');
    expect(over.events).toEqual([]);

    // A declared fee above what is needed is what the outcome pays.
    const generous = await sim(balance - 2n * minFee, 2n * minFee);
    expect(generous).toMatchObject({ ok: true, requiredFee: minFee, chargedFee: 2n * minFee });
    expect((await sim(balance - 2n * minFee + 1n, 2n * minFee)).error?.code).toBe('bank/insufficient_funds');

    // Simulation never writes: the committed state is what it was.
    expect(await chain.snapshot()).toEqual(before);
    await chain.expectInvariants();
  });
});
