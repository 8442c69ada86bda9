import { agentCliSpecs } from './agent.ts';
import { attributionCliSpecs } from './attribution.ts';
import { bankCliSpecs } from './bank.ts';
import { datanetCliSpecs } from './datanet.ts';
import { govCliSpecs } from './gov.ts';
import { disputeCliSpecs } from './dispute.ts';
import { inferenceCliSpecs } from './inference.ts';
import { modelCliSpecs } from './model.ts';
import { rewardsCliSpecs } from './rewards.ts';
import { stakingCliSpecs } from './staking.ts';
import type { TxCliSpecs } from './types.ts';

export type { AnyTxCliSpec, CliOption, TxCliSpec, TxCliSpecs } from './types.ts';

/** Every `tributary tx` command, by transaction type; a type without a spec has no command. */
export const TX_CLI_SPECS: TxCliSpecs = {
  ...datanetCliSpecs,
  ...modelCliSpecs,
  ...attributionCliSpecs,
  ...inferenceCliSpecs,
  ...rewardsCliSpecs,
  ...agentCliSpecs,
  ...disputeCliSpecs,
  ...stakingCliSpecs,
  ...bankCliSpecs,
  ...govCliSpecs,
};
