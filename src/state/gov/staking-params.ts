import type { ChainParams } from '../params.ts';

/* TEMPORARY until the staking module lands: the validator minimum bond from params.modules.staking. */
export function validatorMinBond(params: ChainParams): bigint {
  const s = params.modules.staking as { minBond?: { validator?: string } } | undefined;
  return BigInt(s?.minBond?.validator ?? '0');
}
