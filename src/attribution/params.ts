import { TributaryError } from '../errors.ts';
import { parseAmount } from '../state/math.ts';
import type { ChainParams } from '../state/params.ts';

/*
 * Parameters of the AI-economy modules, from genesis `params.modules.<module>`. Each section is
 * optional; missing fields take the defaults below. Parsed once per ChainParams object.
 */

export interface DatanetParams {
  maxCurators: number;
  /** Longest challenge window a datanet may set, in blocks. */
  maxChallengeWindow: number;
  /** Length of a reward epoch for the caps below, in blocks. */
  epochBlocks: number;
  /** Most a datanet's contributions are credited per epoch, all together; 0 for no cap. */
  datanetEpochCap: bigint;
  /**
   * Per epoch, a contributor's contributions are credited at most this share of its bonded
   * `contributor` stake (staking); 0 for no cap. Linear in stake, so splitting the stake over many
   * identities splits the cap too.
   */
  contributorCapPerStakeBps: number;
}

export interface ModelParams {
  /** Cap on the sum of a version's parent shares; the rest always stays with its owner. */
  maxParentShareBps: number;
  maxParents: number;
  /** Cap on a version's ancestor set (model versions plus datanets). */
  maxAncestors: number;
}

export interface AttributionParams {
  maxWeights: number;
}

export interface InferenceParams {
  validatorBps: number;
  treasuryBps: number;
  /** Extra fee per lineage node (model version or datanet) a payment visits. */
  feePerNode: bigint;
  /** Extra fee per contribution a payment credits. */
  feePerContribution: bigint;
}

export interface AgentParams {
  maxFeeBps: number;
  minStake: bigint;
  /** Length of a spend-limit epoch, in blocks. */
  epochBlocks: number;
}

export interface DisputeParams {
  /** Least bond a challenger posts; a respondent's counter-bond, when given, at least the same. */
  minBond: bigint;
  /** Blocks from opening to resolution (end of block opened + votingBlocks); answers and votes fit inside. */
  votingBlocks: number;
  /** The winner's share of what the loser forfeits (bond, slashed stake, clawed-back rewards); the rest to the treasury. */
  winnerShareBps: number;
  /** Fraction of the respondent's bonded stake in the target's staking role taken when a dispute is upheld. */
  slashBps: number;
}

export interface AiParams {
  datanet: DatanetParams;
  model: ModelParams;
  attribution: AttributionParams;
  inference: InferenceParams;
  agent: AgentParams;
  dispute: DisputeParams;
}

export const DEFAULT_AI_PARAMS: AiParams = {
  datanet: {
    maxCurators: 16,
    maxChallengeWindow: 1_000_000,
    epochBlocks: 1_000,
    datanetEpochCap: 0n,
    contributorCapPerStakeBps: 0,
  },
  model: { maxParentShareBps: 9_000, maxParents: 16, maxAncestors: 1_024 },
  attribution: { maxWeights: 64 },
  inference: { validatorBps: 500, treasuryBps: 500, feePerNode: 100n, feePerContribution: 10n },
  agent: { maxFeeBps: 2_000, minStake: 0n, epochBlocks: 100 },
  dispute: { minBond: 1_000n, votingBlocks: 100, winnerShareBps: 5_000, slashBps: 1_000 },
};

function invalid(msg: string): never {
  throw new TributaryError('params/invalid', `params.modules.${msg}`);
}

function section(params: ChainParams, name: string): Record<string, unknown> {
  const s = params.modules[name];
  if (s === undefined) return {};
  if (typeof s !== 'object' || s === null || Array.isArray(s)) invalid(`${name} must be an object`);
  return s as Record<string, unknown>;
}

function int(
  s: Record<string, unknown>,
  where: string,
  field: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const v = s[field];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    invalid(`${where}.${field} must be an integer in [${min}, ${max}]`);
  }
  return v;
}

function amount(s: Record<string, unknown>, where: string, field: string, fallback: bigint): bigint {
  const v = s[field];
  if (v === undefined) return fallback;
  if (typeof v !== 'string') invalid(`${where}.${field} must be a decimal string of base units`);
  return parseAmount(v, `params.modules.${where}.${field}`);
}

export function parseAiParams(params: ChainParams): AiParams {
  const d = DEFAULT_AI_PARAMS;
  const dn = section(params, 'datanet');
  const md = section(params, 'model');
  const at = section(params, 'attribution');
  const inf = section(params, 'inference');
  const ag = section(params, 'agent');
  const dp = section(params, 'dispute');
  const out: AiParams = {
    datanet: {
      maxCurators: int(dn, 'datanet', 'maxCurators', d.datanet.maxCurators, 0, 256),
      maxChallengeWindow: int(dn, 'datanet', 'maxChallengeWindow', d.datanet.maxChallengeWindow, 0, 1e12),
      epochBlocks: int(dn, 'datanet', 'epochBlocks', d.datanet.epochBlocks, 1, 1e12),
      datanetEpochCap: amount(dn, 'datanet', 'datanetEpochCap', d.datanet.datanetEpochCap),
      contributorCapPerStakeBps: int(
        dn,
        'datanet',
        'contributorCapPerStakeBps',
        d.datanet.contributorCapPerStakeBps,
        0,
        1_000_000_000,
      ),
    },
    model: {
      maxParentShareBps: int(md, 'model', 'maxParentShareBps', d.model.maxParentShareBps, 0, 10_000),
      maxParents: int(md, 'model', 'maxParents', d.model.maxParents, 1, 16),
      maxAncestors: int(md, 'model', 'maxAncestors', d.model.maxAncestors, 1, 65_536),
    },
    attribution: { maxWeights: int(at, 'attribution', 'maxWeights', d.attribution.maxWeights, 1, 1_024) },
    inference: {
      validatorBps: int(inf, 'inference', 'validatorBps', d.inference.validatorBps, 0, 10_000),
      treasuryBps: int(inf, 'inference', 'treasuryBps', d.inference.treasuryBps, 0, 10_000),
      feePerNode: amount(inf, 'inference', 'feePerNode', d.inference.feePerNode),
      feePerContribution: amount(inf, 'inference', 'feePerContribution', d.inference.feePerContribution),
    },
    agent: {
      maxFeeBps: int(ag, 'agent', 'maxFeeBps', d.agent.maxFeeBps, 0, 10_000),
      minStake: amount(ag, 'agent', 'minStake', d.agent.minStake),
      epochBlocks: int(ag, 'agent', 'epochBlocks', d.agent.epochBlocks, 1, 1e12),
    },
    dispute: {
      minBond: amount(dp, 'dispute', 'minBond', d.dispute.minBond),
      votingBlocks: int(dp, 'dispute', 'votingBlocks', d.dispute.votingBlocks, 1, 1e9),
      winnerShareBps: int(dp, 'dispute', 'winnerShareBps', d.dispute.winnerShareBps, 0, 10_000),
      slashBps: int(dp, 'dispute', 'slashBps', d.dispute.slashBps, 0, 10_000),
    },
  };
  // The payment split takes these three off the top; together they must leave the model something.
  if (out.inference.validatorBps + out.inference.treasuryBps + out.agent.maxFeeBps > 10_000) {
    invalid('inference.validatorBps + inference.treasuryBps + agent.maxFeeBps must not exceed 10000');
  }
  return out;
}

const cache = new WeakMap<ChainParams, AiParams>();

export function aiParams(params: ChainParams): AiParams {
  let parsed = cache.get(params);
  if (!parsed) {
    parsed = parseAiParams(params);
    cache.set(params, parsed);
  }
  return parsed;
}
