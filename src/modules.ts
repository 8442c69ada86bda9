import { agentModule } from './attribution/agent/index.ts';
import { agentFlagsKeeper, paymentAgentsKeeper } from './attribution/agent/keepers.ts';
import { datanetModule } from './attribution/datanet/index.ts';
import {
  contributionCreditsKeeper,
  contributionDisputesKeeper,
  lineageDatanetsKeeper,
} from './attribution/datanet/keepers.ts';
import { disputeModule } from './attribution/dispute/index.ts';
import { disputeHoldsKeeper } from './attribution/dispute/keepers.ts';
import {
  AGENT_FLAGS,
  ATTRIBUTION_USE,
  CONTRIBUTION_CREDITS,
  CONTRIBUTION_DISPUTES,
  DISPUTE_HOLDS,
  EARNINGS,
  LINEAGE_DATANETS,
  MODEL_FLAGS,
  MODEL_USAGE,
  PAYMENT_AGENTS,
  PAYMENTS,
  RECORD_FLAGS,
} from './attribution/expected.ts';
import { inferenceModule } from './attribution/inference/index.ts';
import { paymentsKeeper } from './attribution/inference/keepers.ts';
import { modelModule } from './attribution/model/index.ts';
import { modelFlagsKeeper, modelUsageKeeper } from './attribution/model/keepers.ts';
import { attributionModule } from './attribution/record/index.ts';
import { recordFlagsKeeper, recordUseKeeper } from './attribution/record/keepers.ts';
import { rewardsModule } from './attribution/rewards/index.ts';
import { earningsKeeper } from './attribution/rewards/keepers.ts';
import { bankModule } from './state/bank/module.ts';
import { chainConfigModule } from './state/chainconfig/module.ts';
import { DOUBLE_SIGN_PUNISHER, evidenceModule } from './state/evidence/module.ts';
import { govModule } from './state/gov/module.ts';
import { STAKE } from './state/staking/api.ts';
import { stakingModule } from './state/staking/index.ts';
import { stakeKeeper } from './state/staking/keeper.ts';
import { doubleSignPunisher } from './state/staking/slashing.ts';
import { bindKeeper, withKeepers, type Module } from './state/module.ts';
import { TxRegistry, type ModuleOrder } from './state/registry.ts';

/**
 * The staking keeper bound to the `STAKE` slot (src/state/staking/api.ts): a module that declares
 * `expects: [STAKE]` is listed below as `withKeepers(module, [STAKE_BINDING, ...])`.
 */
export const STAKE_BINDING = bindKeeper(STAKE, stakeKeeper);

/**
 * The module list: the one place a module is switched on, and where each module's expected
 * keepers (attribution/expected.ts) are bound to the modules that provide them. The AI-economy
 * modules keep the order of `AI_MODULES` (attribution/index.ts).
 */
export const MODULES: readonly Module[] = [
  chainConfigModule,
  withKeepers(datanetModule, [bindKeeper(EARNINGS, earningsKeeper), STAKE_BINDING]),
  modelModule,
  attributionModule,
  withKeepers(inferenceModule, [
    bindKeeper(CONTRIBUTION_CREDITS, contributionCreditsKeeper),
    bindKeeper(LINEAGE_DATANETS, lineageDatanetsKeeper),
    bindKeeper(MODEL_USAGE, modelUsageKeeper),
    bindKeeper(ATTRIBUTION_USE, recordUseKeeper),
    bindKeeper(PAYMENT_AGENTS, paymentAgentsKeeper),
    bindKeeper(EARNINGS, earningsKeeper),
    bindKeeper(DISPUTE_HOLDS, disputeHoldsKeeper),
  ]),
  rewardsModule,
  withKeepers(agentModule, [bindKeeper(PAYMENTS, paymentsKeeper)]),
  withKeepers(disputeModule, [
    bindKeeper(CONTRIBUTION_DISPUTES, contributionDisputesKeeper),
    bindKeeper(MODEL_FLAGS, modelFlagsKeeper),
    bindKeeper(RECORD_FLAGS, recordFlagsKeeper),
    bindKeeper(AGENT_FLAGS, agentFlagsKeeper),
    bindKeeper(EARNINGS, earningsKeeper),
    STAKE_BINDING,
  ]),
  stakingModule,
  withKeepers(govModule, [STAKE_BINDING]),
  withKeepers(evidenceModule, [bindKeeper(DOUBLE_SIGN_PUNISHER, doubleSignPunisher)]),
  bankModule,
];

/**
 * Block hook order, the same on every node. Begin: the chainconfig module first, so every later hook
 * sees the validator set and parameters in force; then staking's liveness window (it may schedule a
 * jailed validator's removal). End: the AI-economy modules, staking (maturing unbonding entries),
 * then governance (tallies read the stake as it stands after that, executions change the set or
 * the parameters at H + 2 or pay from the treasury), all before the bank,
 * because the block's payment credits move the validators' share into the fee collector, which
 * the bank then pays out to the validators in the same block. Disputes resolve after the block's
 * vesting and payment credits, so a resolution in block H sees everything the target earned up to
 * and including H (held or locked) and a contribution whose window ended at H under dispute; and
 * before staking, so stake whose unbonding matures at H can still be slashed by a resolution at H.
 */
export const MODULE_ORDER: ModuleOrder = {
  beginBlock: ['chainconfig', 'staking'],
  endBlock: ['datanet', 'inference', 'dispute', 'staking', 'gov', 'bank'],
};

export function defaultRegistry(): TxRegistry {
  return new TxRegistry(MODULES, MODULE_ORDER);
}
