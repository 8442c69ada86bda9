/*
 * Every error code of the project, as one union: `TributaryError` accepts only these, so a code
 * that no module declares does not compile, and the RPC number table is keyed by the same type.
 * A new module adds its `<Name>ErrorCode` union here (test/unit/errors.test.ts checks none is missing).
 */
import type { AgentErrorCode } from './attribution/agent/txs.ts';
import type { DatanetErrorCode } from './attribution/datanet/txs.ts';
import type { DisputeErrorCode } from './attribution/dispute/txs.ts';
import type { InferenceErrorCode } from './attribution/inference/txs.ts';
import type { ModelErrorCode } from './attribution/model/txs.ts';
import type { AttributionErrorCode } from './attribution/record/txs.ts';
import type { RewardsErrorCode } from './attribution/rewards/txs.ts';
import type { CliErrorCode } from './cli/errors.ts';
import type { CodecErrorCode } from './codec/canonical.ts';
import type { ProtocolErrorCode } from './codec/protocol.ts';
import type { ConfigErrorCode } from './config.ts';
import type { MempoolErrorCode } from './consensus/mempool.ts';
import type { SignerErrorCode } from './consensus/signer.ts';
import type { EngineErrorCode } from './consensus/solo-engine.ts';
import type { TendermintErrorCode } from './consensus/tendermint/state-machine.ts';
import type { VoteKeeperErrorCode } from './consensus/tendermint/vote-keeper.ts';
import type { ConsensusErrorCode } from './consensus/validator-set.ts';
import type { BftErrorCode } from './consensus/bft-engine.ts';
import type { WalErrorCode } from './consensus/wal.ts';
import type { AddressErrorCode } from './crypto/address.ts';
import type { Ed25519ErrorCode } from './crypto/ed25519.ts';
import type { HexErrorCode } from './crypto/hash.ts';
import type { GenesisErrorCode } from './genesis.ts';
import type { HomeErrorCode } from './home.ts';
import type { IndexErrorCode } from './index/chain-index.ts';
import type { KeysErrorCode } from './keys.ts';
import type { KeystoreErrorCode } from './keystore/keystore.ts';
import type { MnemonicErrorCode } from './keystore/mnemonic.ts';
import type { DerivationErrorCode } from './keystore/slip10.ts';
import type { LightErrorCode } from './light/verify.ts';
import type { NodeErrorCode } from './node.ts';
import type { FrameErrorCode } from './p2p/frames.ts';
import type { P2pKeyErrorCode } from './p2p/keys.ts';
import type { P2pErrorCode } from './p2p/network.ts';
import type { SyncErrorCode } from './p2p/sync.ts';
import type { RpcClientErrorCode } from './rpc/client.ts';
import type { RpcErrorCode } from './rpc/errors.ts';
import type { AppErrorCode } from './state/app.ts';
import type { BankErrorCode } from './state/bank/keeper.ts';
import type { ChainConfigErrorCode } from './state/chainconfig/keeper.ts';
import type { EventErrorCode } from './state/events.ts';
import type { EvidenceErrorCode } from './state/evidence/module.ts';
import type { GovErrorCode } from './state/gov/txs.ts';
import type { MathErrorCode } from './state/math.ts';
import type { ModuleStoreErrorCode } from './state/module-store.ts';
import type { ParamsErrorCode } from './state/params.ts';
import type { RegistryErrorCode } from './state/registry.ts';
import type { StakingErrorCode } from './state/staking/keeper.ts';
import type { TreeErrorCode } from './state/tree/node.ts';
import type { ProofErrorCode } from './state/tree/proof.ts';
import type { TxErrorCode } from './state/tx.ts';
import type { StorageErrorCode } from './storage/db.ts';

export type ErrorCode =
  | AddressErrorCode
  | AgentErrorCode
  | AppErrorCode
  | AttributionErrorCode
  | BankErrorCode
  | BftErrorCode
  | ChainConfigErrorCode
  | CliErrorCode
  | CodecErrorCode
  | DerivationErrorCode
  | ConfigErrorCode
  | ConsensusErrorCode
  | DatanetErrorCode
  | DisputeErrorCode
  | Ed25519ErrorCode
  | EngineErrorCode
  | EventErrorCode
  | EvidenceErrorCode
  | FrameErrorCode
  | GenesisErrorCode
  | GovErrorCode
  | HexErrorCode
  | HomeErrorCode
  | IndexErrorCode
  | InferenceErrorCode
  | KeysErrorCode
  | KeystoreErrorCode
  | LightErrorCode
  | MathErrorCode
  | MempoolErrorCode
  | MnemonicErrorCode
  | ModelErrorCode
  | ModuleStoreErrorCode
  | NodeErrorCode
  | P2pErrorCode
  | P2pKeyErrorCode
  | ParamsErrorCode
  | ProofErrorCode
  | ProtocolErrorCode
  | RegistryErrorCode
  | RewardsErrorCode
  | RpcClientErrorCode
  | RpcErrorCode
  | SignerErrorCode
  | StakingErrorCode
  | StorageErrorCode
  | SyncErrorCode
  | TendermintErrorCode
  | TreeErrorCode
  | TxErrorCode
  | VoteKeeperErrorCode
  | WalErrorCode;
