import { TributaryError, errorModule, isTributaryError, type ErrorCode } from '../errors.ts';

export type RpcErrorCode =
  | 'rpc/parse_error'
  | 'rpc/invalid_request'
  | 'rpc/method_not_found'
  | 'rpc/invalid_params'
  | 'rpc/internal_error'
  | 'rpc/request_too_large'
  | 'rpc/not_found'
  | 'rpc/shutting_down'
  // Limits and HTTP policy (src/rpc/limits.ts): `data.limit` names the cap, `data.max` its value.
  | 'rpc/response_too_large'
  | 'rpc/batch_too_large'
  | 'rpc/too_many_connections'
  | 'rpc/request_timeout'
  | 'rpc/forbidden_host'
  | 'rpc/forbidden_origin'
  | 'rpc/unsupported_media_type'
  // WebSocket subscriptions (src/rpc/subscriptions.ts)
  | 'rpc/too_many_subscriptions'
  | 'rpc/subscription_lagging'
  | 'rpc/websocket_required'
  // A query range or page above its cap: `data.limit` ('heights' or 'events'), `data.max`, and for
  // heights `data.suggestedToHeight`, the last height a query from the same start may ask for.
  | 'rpc/range_too_large'
  // A page or resume cursor that is not one this API handed out for that list (src/rpc/cursor.ts):
  // `data.param`, `data.scope` (the list's), `data.reason` ("malformed" or "wrong_scope").
  | 'rpc/invalid_cursor';

/**
 * JSON-RPC error numbers. The standard ones for protocol errors; -32000 and below for ours. The
 * stable string code always travels in `error.data.code`, so clients can match on either. A
 * number, once given to a code, never changes meaning.
 */
const NUMBERS: Partial<Record<ErrorCode, number>> = {
  'rpc/parse_error': -32700,
  'rpc/invalid_request': -32600,
  'rpc/method_not_found': -32601,
  'rpc/invalid_params': -32602,
  'rpc/internal_error': -32603,
  'rpc/not_found': -32001,
  'rpc/request_too_large': -32005,
  'rpc/response_too_large': -32050,
  'rpc/batch_too_large': -32051,
  'rpc/too_many_connections': -32052,
  'rpc/request_timeout': -32053,
  'rpc/forbidden_host': -32054,
  'rpc/forbidden_origin': -32055,
  'rpc/unsupported_media_type': -32056,
  'rpc/shutting_down': -32057,
  'rpc/too_many_subscriptions': -32058,
  'rpc/subscription_lagging': -32059,
  'rpc/websocket_required': -32060,
  'rpc/range_too_large': -32061,
  'rpc/invalid_cursor': -32062,
  'state/pruned': -32002,
  'state/unknown_version': -32003,
  'tx/malformed': -32010,
  'tx/bad_signature': -32011,
  'tx/wrong_chain_id': -32012,
  'tx/nonce_too_low': -32013,
  'tx/nonce_too_high': -32014,
  'tx/insufficient_fee_balance': -32015,
  'bank/insufficient_funds': -32015,
  'tx/fee_too_low': -32016,
  'tx/too_large': -32017,
  'mempool/full': -32018,
  'mempool/duplicate': -32019,
  'tx/unknown_type': -32020,
  'mempool/sender_limit': -32021,
  'mempool/queue_full': -32022,
  'mempool/not_ready': -32023,
};

/** Any other rejection of a transaction by a module's rules (the module code is in data.code). */
const TX_REJECTED = -32030;
/** Any other coded error from a query (e.g. an unknown datanet). */
const QUERY_FAILED = -32040;

/** Every error number a client can get, for `rpc.discover`: one entry per code, and the two catch-alls. */
export function documentedErrors(): { code: string; number: number; description?: string }[] {
  const list: { code: string; number: number; description?: string }[] = Object.entries(NUMBERS).map(
    ([code, number]) => ({ code, number: number! }),
  );
  list.push(
    {
      code: 'tx_rejected',
      number: TX_REJECTED,
      description: "a module's rule refused the transaction: data.code names it",
    },
    { code: 'query_failed', number: QUERY_FAILED, description: 'a coded error of a query: data.code names it' },
  );
  return list.sort((a, b) => b.number - a.number || a.code.localeCompare(b.code));
}

export interface JsonRpcError {
  code: number;
  message: string;
  data: Record<string, unknown>;
}

export function rpcError(code: RpcErrorCode, message: string, data?: Record<string, unknown>): TributaryError {
  return new TributaryError(code, message, data);
}

export function toJsonRpcError(e: unknown, context: 'submit' | 'query'): JsonRpcError {
  if (!isTributaryError(e)) {
    return { code: -32603, message: 'internal error', data: { code: 'rpc/internal_error' } };
  }
  const known = NUMBERS[e.code];
  const fallback = context === 'submit' && errorModule(e.code) !== 'rpc' ? TX_REJECTED : QUERY_FAILED;
  return { code: known ?? fallback, message: e.message, data: { ...(e.data ?? {}), code: e.code } };
}
