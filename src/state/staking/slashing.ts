import { bytesEqual, toHex } from '../../crypto/hash.ts';
import type { Address } from '../../crypto/address.ts';
import { TributaryError } from '../../errors.ts';
import type { ChainConfigKeeper } from '../chainconfig/keeper.ts';
import { latestScheduledValidators } from '../chainconfig/keeper.ts';
import type { Validator } from '../chainconfig/records.ts';
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
 * `last_commit`) and records it for every validator of the parent's set in a bitmap of
 * `signedBlocksWindow` bits (bit `height mod window`: block `height` missed) in its signing
 * record: bounded in size, O(set size) reads per block, and a write only when a bit changes (a
 * miss, or a signature where the bit still held a miss from a window ago). Missing more than the window
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
  info.missed = 0;
  info.missed_bitmap = new Uint8Array(Math.ceil(window / 8));
}

function newSigningInfo(publicKey: Uint8Array, window: number): SigningInfo {
  const info: SigningInfo = {
    public_key: publicKey,
    window_size: window,
    missed_bitmap: new Uint8Array(0),
    missed: 0,
    recorded_height: 0,
    jailed_until: 0,
    jailed_power: 0,
    tombstoned: false,
  };
  freshWindow(info, window);
  return info;
}

function bitAt(info: SigningInfo, height: number): { byte: number; bit: number } {
  const index = height % info.window_size;
  return { byte: index >> 3, bit: 1 << (index & 7) };
}

export function missedAt(info: SigningInfo, height: number): boolean {
  const { byte, bit } = bitAt(info, height);
  return (info.missed_bitmap[byte]! & bit) !== 0;
}

/**
 * The last block the validator signed, as far as the window tells, when blocks up to `through`
 * are recorded: a block after `recorded_height` changed nothing, so it was signed; before that
 * the bitmap says. Undefined when every block of the window was missed.
 */
export function lastSignedHeight(info: SigningInfo | undefined, through: number): number | undefined {
  if (through < 1) return undefined;
  if (!info || info.recorded_height < through) return through;
  for (let h = through; h > 0 && h > through - info.window_size; h--) if (!missedAt(info, h)) return h;
  return undefined;
}

export function isJailed(info: SigningInfo | undefined): boolean {
  return info !== undefined && (info.jailed_until > 0 || info.tombstoned);
}

/** Most blocks of a window a validator may miss: the window less the share it must sign (rounded up). */
export function maxMissed(p: StakingParams): number {
  const mustSign = Math.ceil((p.signedBlocksWindow * p.minSignedBps) / 10_000);
  return p.signedBlocksWindow - mustSign;
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
  const set = await latestScheduledValidators(env.store);
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

/** Begin-block hook: records the parent block's signatures in the liveness window of every validator that signed it or should have. */
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
  // This block carries the parent's commit: the signatures of block `ctx.height - 1`.
  const height = ctx.height - 1;
  for (const v of ctx.lastValidators) {
    const missed = !signed.has(toHex(v.address));
    const stored = await readSigningInfo(ctx.store, v.address);
    // Nothing recorded and signed: nothing to write.
    if (!stored && !missed) continue;
    const info = stored ?? newSigningInfo(v.publicKey, window);
    // Already on its way out (or out for good): its absence is expected, not counted again.
    if (isJailed(info)) continue;
    if (info.window_size !== window || height - info.recorded_height >= window) {
      // A new window size, or nothing recorded for a whole window (every bit is stale): start over.
      if (!missed && info.missed === 0) continue;
      freshWindow(info, window);
      if (!missed) {
        info.recorded_height = height;
        writeInfo(ctx.store, v.address, info);
        continue;
      }
    } else {
      // Decoded bytes fields share memory with the stored (possibly cached, committed) value: copy
      // before flipping a bit, or a second execution of this height would read the changed bits.
      info.missed_bitmap = info.missed_bitmap.slice();
    }
    const { byte, bit } = bitAt(info, height);
    const wasMissed = (info.missed_bitmap[byte]! & bit) !== 0;
    // A signature over a clear bit changes nothing. A miss is always recorded (its height too, so
    // that every block after `recorded_height` is known to be signed).
    if (!missed && !wasMissed) continue;
    if (wasMissed !== missed) {
      info.missed_bitmap[byte]! ^= bit;
      info.missed += missed ? 1 : -1;
    }
    info.recorded_height = height;
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
