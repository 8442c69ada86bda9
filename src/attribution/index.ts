import type { Module } from '../state/module.ts';
import { agentModule } from './agent/index.ts';
import { datanetModule } from './datanet/index.ts';
import { disputeModule } from './dispute/index.ts';
import { inferenceModule } from './inference/index.ts';
import { modelModule } from './model/index.ts';
import { attributionModule } from './record/index.ts';
import { rewardsModule } from './rewards/index.ts';

/**
 * The AI-economy modules, in end-of-block order: datanet (vesting), then inference (the block's
 * payment credits, including the validators' share into the fee collector), then dispute
 * (resolutions see the block's credits). They are registered
 * before the bank so that the bank's fee distribution, which runs last, pays that share out in the
 * same block.
 */
export const AI_MODULES: readonly Module[] = [
  datanetModule,
  modelModule,
  attributionModule,
  inferenceModule,
  rewardsModule,
  agentModule,
  disputeModule,
];
