import { readFileSync } from 'node:fs';
import { addressFromPublicKey, formatAddress, parseAddress, type Address } from './crypto/address.ts';
import { PUBLIC_KEY_LENGTH } from './crypto/ed25519.ts';
import { canonicalJson } from './codec/json.ts';
import { compareBytes, fromHex, sha256, toHex, utf8 } from './crypto/hash.ts';
import { TributaryError } from './errors.ts';
import type { AppGenesis } from './state/app.ts';
import type { Validator } from './state/chainconfig/records.ts';
import { parseAmount } from './state/math.ts';
import { paramsToJson, parseParams, type ChainParamsJson } from './state/params.ts';

export type GenesisErrorCode = 'genesis/invalid';
export type { Validator };

/** genesis.json as written on disk. Amounts are decimal strings of base units. */
export interface GenesisJson {
  chainId: string;
  genesisTimeMs?: number;
  validators: { name?: string; publicKey: string; power: number }[];
  accounts: { address: string; balance: string }[];
  params?: ChainParamsJson;
  /** Per-module genesis sections, keyed by module name. */
  modules?: Record<string, unknown>;
}

/** Parsed genesis: what the application writes as state version 0 (validators sorted by address). */
export type Genesis = AppGenesis;

function invalid(msg: string): never {
  throw new TributaryError('genesis/invalid', `genesis: ${msg}`);
}

export function parseGenesis(json: GenesisJson): Genesis {
  if (typeof json !== 'object' || json === null) invalid('not an object');
  if (typeof json.chainId !== 'string' || !/^[a-z0-9][a-z0-9-]{0,48}$/.test(json.chainId)) {
    invalid('chainId must be 1-49 characters of a-z, 0-9 and "-"');
  }
  if (!Array.isArray(json.validators) || json.validators.length === 0) invalid('at least one validator is needed');
  const validators = json.validators.map((v, i): Validator => {
    let publicKey: Uint8Array;
    try {
      publicKey = fromHex(v.publicKey);
    } catch {
      invalid(`validators[${i}].publicKey is not hex`);
    }
    if (publicKey.length !== PUBLIC_KEY_LENGTH) invalid(`validators[${i}].publicKey must be 32 bytes`);
    if (!Number.isSafeInteger(v.power) || v.power <= 0) invalid(`validators[${i}].power must be a positive integer`);
    return { name: v.name ?? `validator-${i}`, publicKey, address: addressFromPublicKey(publicKey), power: v.power };
  });
  validators.sort((a, b) => compareBytes(a.address, b.address));
  for (let i = 1; i < validators.length; i++) {
    if (compareBytes(validators[i - 1]!.address, validators[i]!.address) === 0) invalid('duplicate validator');
  }
  const seen = new Set<string>();
  const accounts = (json.accounts ?? []).map((a, i) => {
    let address: Address;
    try {
      address = parseAddress(a.address);
    } catch {
      invalid(`accounts[${i}].address is not a valid address`);
    }
    if (seen.has(a.address)) invalid(`accounts[${i}] duplicates ${a.address}`);
    seen.add(a.address);
    return { address, balance: parseAmount(a.balance, `accounts[${i}].balance`) };
  });
  accounts.sort((a, b) => compareBytes(a.address, b.address));
  const genesisTimeMs = json.genesisTimeMs ?? 0;
  if (!Number.isSafeInteger(genesisTimeMs) || genesisTimeMs < 0)
    invalid('genesisTimeMs must be a non-negative integer');
  return {
    chainId: json.chainId,
    genesisTimeMs,
    validators,
    accounts,
    params: parseParams(json.params),
    modules: json.modules ?? {},
  };
}

export function loadGenesis(path: string): Genesis {
  let json: GenesisJson;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as GenesisJson;
  } catch (e) {
    throw new TributaryError('genesis/invalid', `cannot read genesis ${path}: ${(e as Error).message}`);
  }
  return parseGenesis(json);
}

export function genesisToJson(g: Genesis): GenesisJson {
  return {
    chainId: g.chainId,
    genesisTimeMs: g.genesisTimeMs,
    validators: g.validators.map((v) => ({ name: v.name, publicKey: toHex(v.publicKey), power: v.power })),
    accounts: g.accounts.map((a) => ({ address: formatAddress(a.address), balance: a.balance.toString() })),
    params: paramsToJson(g.params),
    modules: g.modules,
  };
}

const GENESIS_DOMAIN = 'tributary/genesis/v1\0';

/**
 * The chain's identity beside its id: SHA-256 of the parsed genesis in canonical JSON (sorted keys,
 * no whitespace), so reformatting genesis.json keeps the hash and any change of meaning does not.
 * The node stores it at init and refuses to start from a genesis.json with another hash.
 */
export function genesisHash(g: Genesis): Uint8Array {
  return sha256(utf8.encode(GENESIS_DOMAIN + canonicalJson(genesisToJson(g))));
}
