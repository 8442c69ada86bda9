import type { JsonValue } from '../../codec/json.ts';
import { type JsonSchema, schema as s } from '../../state/json-schema.ts';
import { hexOrNull } from '../common.ts';
import type { AgentAction } from '../store.ts';

/* The agent module: JSON views of records (where a view adds meaning to the schema). */

export const ACTION_SCHEMA: JsonSchema = s.object({
  agentId: s.id(),
  seq: s.integer('0, 1, ... per agent'),
  kind: s.string(),
  modelVersionId: s.id(),
  inputHash: s.nullable(s.hash()),
  outputHash: s.nullable(s.hash()),
  prevActionHash: s.nullable(s.hash()),
  actionHash: s.nullable(s.hash()),
  paymentId: s.nullable(s.id()),
  height: s.integer(),
  txHash: s.nullable(s.hash()),
});

export function actionView(a: AgentAction): JsonValue {
  return {
    agentId: a.agent_id,
    seq: a.seq,
    kind: a.kind,
    modelVersionId: a.model_version_id,
    inputHash: hexOrNull(a.input_hash),
    outputHash: hexOrNull(a.output_hash),
    prevActionHash: hexOrNull(a.prev_action_hash),
    actionHash: hexOrNull(a.action_hash),
    paymentId: a.payment_id || null,
    height: a.height,
    txHash: hexOrNull(a.tx_hash),
  };
}
