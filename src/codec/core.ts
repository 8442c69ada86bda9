import { readFileSync } from 'node:fs';
import { messageCodec, parseSchema } from './canonical.ts';
import type { CoreMessages } from './core.pb.ts';

export type {
  Attribute,
  Block,
  BlockFrame,
  BlockHeader,
  BlockReceipts,
  Commit,
  CommitSig,
  CoreMessages,
  Event,
  Receipt,
  SignedTx,
  TxBody,
  TxLocation,
  Vote,
} from './core.pb.ts';

export const coreSchema = parseSchema<CoreMessages>(readFileSync(new URL('./core.proto', import.meta.url), 'utf8'));

export const TxBodyCodec = messageCodec(coreSchema, 'tributary.core.TxBody');
export const SignedTxCodec = messageCodec(coreSchema, 'tributary.core.SignedTx');
export const BlockHeaderCodec = messageCodec(coreSchema, 'tributary.core.BlockHeader');
export const VoteCodec = messageCodec(coreSchema, 'tributary.core.Vote');
export const CommitCodec = messageCodec(coreSchema, 'tributary.core.Commit');
export const BlockCodec = messageCodec(coreSchema, 'tributary.core.Block');
export const BlockFrameCodec = messageCodec(coreSchema, 'tributary.core.BlockFrame');
export const ReceiptCodec = messageCodec(coreSchema, 'tributary.core.Receipt');
export const BlockReceiptsCodec = messageCodec(coreSchema, 'tributary.core.BlockReceipts');
export const TxLocationCodec = messageCodec(coreSchema, 'tributary.core.TxLocation');
