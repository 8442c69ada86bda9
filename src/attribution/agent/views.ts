import type { JsonValue } from '../../codec/json.ts';
import { hexOrNull } from '../common.ts';
import type { AgentAction } from '../store.ts';

/* The agent module: JSON views of records (where a view adds meaning to the schema). */

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
