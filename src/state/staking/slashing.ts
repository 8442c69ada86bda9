import { bytesEqual, toHex } from '../../crypto/hash.ts';
import type { Address } from '../../crypto/address.ts';
import { TributaryError } from '../../errors.ts';
import type { ChainConfigKeeper } from '../chainconfig/keeper.ts';
import { readValidatorSchedule } from '../chainconfig/keeper.ts';
import { validatorSetFromRecord, type Validator } from '../chainconfig/records.ts';
import type { DoubleSignPunisher } from '../evidence/module.ts';
import { bpsOf } from '../math.ts';
import type { BlockContext, EventSink, KeeperSource, TxContext } from '../module.ts';
import type { ModuleStore } from '../module-store.ts';
import type { ChainParams } from '../params.ts';
import { validatorJailedEvent, validatorUnjailedEvent } from './events.ts';
import { StakeLedger } from './keeper.ts';
import { stakingParams, type StakingParams } from './params.ts';
import type { SigningInfo } from './staking.pb.ts';
import { SLASH_TREASURY, SigningInfoCodec, readSigningInfo, signingKey } from './store.ts';

/*
 * Validator punishment. Liveness: each block's begin hook reads who signed the parent block (its
 * `last_commit`) and moves every validator of the parent's set one step along its window, a
 * bitmap of `signedBlocksWindow` bits in its signing record (bit `observed mod window`), so the
 * record's size is bounded and the update is O(set size) per block. Missing more than the window
 * allows jails it: power 0 through ChainConfigKeeper (in force at H + 2), a `downtimeSlashBps`
 * slash to the treasury, and `stake/unjail` accepted from H + downtimeJailBlocks. Double-signing
 * (the evidence module's record) slashes `doubleSignSlashBps`, removes the validator and
 * tombstones it: it never unjails. Neither removes the last validator of the set: a chain
 * without one cannot make blocks, so that validator is punished but stays.
 */

interface PunishEnv {
  readonly store: ModuleStore;
  readonly ledger: StakeLedger;
  readonly events: EventSink;
  readonly height: number;
  readonly params: StakingParams;
  readonly chainConfig: ChainConfigKeeper;
}

function freshWindow(info: SigningInfo, window: number): void {
  info.window_size = window;
  info.observed = 0;
  info.missed = 0;
  info.missed_bitmap = new Uint8Array(Math.ceil(window / 8));
}

function newSigningInfo(publicKey: Uint8Array, window: number): SigningInfo {
  const info: SigningInfo = {
    public_key: publicKey,
    window_size: window,
    observed: 0,
    missed_bitmap: new Uint8Array(0),
    missed: 0,
    last_signed_height: 0,
    jailed_until: 0,
    jailed_power: 0,
    tombstoned: false,
  };
  freshWindow(info, window);
  return info;
}

export function isJailed(info: SigningInfo | undefined): boolean {
  return info !== undefined && (info.jailed_until > 0 || info.tombstoned);
}

/** Most blocks of a window a validator may miss: the window less the share it must sign (rounded up). */
export function maxMissed(p: StakingParams): number {
  const mustSign = Math.ceil((p.signedBlocksWindow * p.minSignedBps) / 10_000);
  return p.signedBlocksWindow - mustSign;
}

async function latestSet(store: ModuleStore): Promise<Validator[]> {
  const schedule = await readValidatorSchedule(store);
  return validatorSetFromRecord(schedule.entries[schedule.entries.length - 1]!.set);
}

function writeInfo(store: ModuleStore, validator: Address, info: SigningInfo): void {
  store.set(signingKey(validator), SigningInfoCodec.encode(info));
}

/**
 * Takes `validator` out of the latest scheduled set. Returns its power and the height the removal
 * takes effect, or undefined when it is not in that set or is its last member.
 */
async function removeFromSet(
  env: PunishEnv,
  validator: Address,
): Promise<{ power: number; publicKey: Uint8Array; effective: number } | undefined> {
  const set = await latestSet(env.store);
  const member = set.find((v) => bytesEqual(v.address, validator));
  if (!member || set.length === 1) return undefined;
  const effective = await env.chainConfig.scheduleValidatorUpdates([{ publicKey: member.publicKey, power: 0 }]);
  return { power: member.power, publicKey: member.publicKey, effective };
}

async function slashValidator(env: PunishEnv, validator: Address, bps: number, reason: string): Promise<bigint> {
  const stake = await env.ledger.slashableValidatorStake(validator);
  return env.ledger.slash(validator, 'validator', bpsOf(stake, bps), SLASH_TREASURY, reason);
}

async function jailForDowntime(env: PunishEnv, validator: Validator, info: SigningInfo): Promise<void> {
  freshWindow(info, env.params.signedBlocksWindow);
  const removed = await removeFromSet(env, validator.address);
  if (!removed) return;
  await slashValidator(env, validator.address, env.params.downtimeSlashBps, 'downtime');
  info.public_key = removed.publicKey;
  info.jailed_until = env.height + env.params.downtimeJailBlocks;
  info.jailed_power = removed.power;
  validatorJailedEvent.emit(env.events, {
    validator: validator.address,
    reason: 'downtime',
    power: removed.power,
    jailed_until: info.jailed_until,
    tombstoned: false,
    effective_height: removed.effective,
  });
}

/** Begin-block hook: one step of every parent-set validator's liveness window. */
export async function trackLiveness(ctx: BlockContext): Promise<void> {
  if (ctx.lastValidators.length === 0) return;
  const params = stakingParams(ctx.params);
  const env: PunishEnv = {
    store: ctx.store,
    ledger: new StakeLedger(ctx.store, ctx.bank, ctx),
    events: ctx,
    height: ctx.height,
    params,
    chainConfig: ctx.chainConfig,
  };
  const signed = new Set(ctx.lastCommitSigners.map(toHex));
  const window = params.signedBlocksWindow;
  const allowed = maxMissed(params);
  for (const v of ctx.lastValidators) {
    const info = (await readSigningInfo(ctx.store, v.address)) ?? newSigningInfo(v.publicKey, window);
    // Already on its way out (or out for good): its absence is expected, not counted again.
    if (isJailed(info)) continue;
    if (info.window_size !== window) freshWindow(info, window);
    const index = info.observed % window;
    const byte = index >> 3;
    const bit = 1 << (index & 7);
    const wasMissed = (info.missed_bitmap[byte]! & bit) !== 0;
    const missed = !signed.has(toHex(v.address));
    if (wasMissed !== missed) {
      info.missed_bitmap[byte]! ^= bit;
      info.missed += missed ? 1 : -1;
    }
    info.observed += 1;
    if (!missed) info.last_signed_height = ctx.height - 1;
    if (info.missed > allowed) await jailForDowntime(env, v, info);
    writeInfo(ctx.store, v.address, info);
  }
}

/** The punisher the evidence module expects (`DOUBLE_SIGN_PUNISHER`), over the staking store. */
export const doubleSignPunisher: KeeperSource<DoubleSignPunisher> = {
  module: 'staking',
  create: ({ store, bank, emit }) => ({
    async punishDoubleSign(at: { height: number; params: ChainParams; chainConfig: ChainConfigKeeper }, validator) {
      const params = stakingParams(at.params);
      const events: EventSink = { emit };
      const env: PunishEnv = {
        store,
        ledger: new StakeLedger(store, bank, events),
        events,
        height: at.height,
        params,
        chainConfig: at.chainConfig,
      };
      const info =
        (await readSigningInfo(store, validator.address)) ??
        newSigningInfo(validator.publicKey, params.signedBlocksWindow);
      // One punishment per validator: later evidence (another round or height) changes nothing.
      if (info.tombstoned) return;
      await slashValidator(env, validator.address, params.doubleSignSlashBps, 'double_sign');
      const removed = await removeFromSet(env, validator.address);
      info.tombstoned = true;
      info.jailed_power = removed?.power ?? info.jailed_power;
      writeInfo(store, validator.address, info);
      validatorJailedEvent.emit(events, {
        validator: validator.address,
        reason: 'double_sign',
        power: removed?.power ?? 0,
        jailed_until: info.jailed_until,
        tombstoned: true,
        effective_height: removed?.effective ?? 0,
      });
    },
  }),
};

/** `stake/unjail`: a downtime-jailed validator with its bond intact gets its power back. */
export async function unjail(ctx: TxContext, ledger: StakeLedger, validator: Address): Promise<void> {
  const params = stakingParams(ctx.params);
  const info = await readSigningInfo(ctx.store, validator);
  if (!info || !isJailed(info)) throw new TributaryError('staking/not_jailed', 'this validator is not jailed');
  if (info.tombstoned)
    throw new TributaryError('staking/tombstoned', 'a validator removed for double-signing never unjails');
  if (ctx.height < info.jailed_until)
    throw new TributaryError('staking/jail_not_expired', `jailed until height ${info.jailed_until}`, {
      jailedUntil: info.jailed_until,
    });
  const bonded = await ledger.bonded(validator, 'validator');
  if (bonded < params.minBond.validator)
    throw new TributaryError('staking/below_min_bond', `unjailing needs ${params.minBond.validator} bonded`, {
      minimum: params.minBond.validator.toString(),
    });
  const power = info.jailed_power;
  const effective = await ctx.chainConfig.scheduleValidatorUpdates([{ publicKey: info.public_key, power }]);
  info.jailed_until = 0;
  info.jailed_power = 0;
  freshWindow(info, params.signedBlocksWindow);
  writeInfo(ctx.store, validator, info);
  validatorUnjailedEvent.emit(ctx, { validator, power, effective_height: effective });
}
