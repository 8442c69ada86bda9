import type { Module } from '../../state/module.ts';
import {
  ATTRIBUTION_USE,
  CONTRIBUTION_CREDITS,
  DISPUTE_HOLDS,
  EARNINGS,
  LINEAGE_DATANETS,
  MODEL_USAGE,
  PAYMENT_AGENTS,
} from '../expected.ts';
import { aiParams, parseAiParams } from '../params.ts';
import { TREASURY } from '../store.ts';
import { flushPaymentCredits } from './credits.ts';
import { paymentsKeeper } from './keepers.ts';
import { inferenceQueries } from './queries.ts';
import { inferencePaidEvent, payTx } from './txs.ts';

/*
 * Inference payments. The payer's amount is split (src/attribution/split.ts) into legs:
 * validators, treasury, the agent's fee, the owners along the lineage and the datanet
 * contributions. The amount moves to the rewards pool in the transaction; at the end of the block
 * (credits.ts) the validators' and treasury's parts move on, and the earners' parts become
 * claimable (a contribution inside its challenge window: locked until it ends). Execution never
 * reads a payment back, so it is not state: the receipt carries it, legs included, as one typed
 * `inference_paid` event (provable through the results root), and `attribution_trace` reads it
 * from the chain index to explain each unit.
 * Metering: `feePerNode` per lineage node visited and `feePerContribution` per contribution paid.
 */

export const inferenceModule: Module = {
  name: 'inference',
  moduleAccounts: [
    { name: 'treasury', address: TREASURY, description: "the treasury's share of every inference payment" },
  ],
  // A payment is metered wherever it is made: `inference/pay`, and `agent/act` with a payment.
  feeRules(params) {
    const { feePerNode, feePerContribution } = aiParams(params).inference;
    const txTypes = ['inference/pay', 'agent/act'];
    return [
      {
        param: 'params.modules.inference.feePerNode',
        amount: feePerNode,
        per: 'lineage node (model version or datanet) a payment visits with a non-zero inflow',
        txTypes,
      },
      {
        param: 'params.modules.inference.feePerContribution',
        amount: feePerContribution,
        per: 'contribution a payment credits',
        txTypes,
      },
    ];
  },
  keepers: [paymentsKeeper],
  expects: [
    CONTRIBUTION_CREDITS,
    LINEAGE_DATANETS,
    MODEL_USAGE,
    ATTRIBUTION_USE,
    PAYMENT_AGENTS,
    EARNINGS,
    DISPUTE_HOLDS,
  ],
  txs: [payTx],
  queries: inferenceQueries,
  // The AI-economy sections are checked together: the payment split ties several of them.
  validateParams: (params) => void parseAiParams(params),
  events: [inferencePaidEvent],
  async initGenesis(ctx) {
    aiParams(ctx.params);
  },
  /** The block's payment credits land in earnings, contributions and usage counters. */
  async endBlock(ctx) {
    await flushPaymentCredits(ctx, {
      earnings: ctx.keeper(EARNINGS),
      contributions: ctx.keeper(CONTRIBUTION_CREDITS),
      usage: ctx.keeper(MODEL_USAGE),
      holds: ctx.keeper(DISPUTE_HOLDS),
    });
  },
};
