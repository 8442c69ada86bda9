/**
 * The refusals a bench's load client sends again later, in every bench that submits: the node's
 * pool or its queue for nonce gaps is full for now. Dropping one instead leaves a nonce gap that
 * stalls every later transfer of its sender.
 */
export const BACK_PRESSURE_CODES: ReadonlySet<string> = new Set(['mempool/full', 'mempool/queue_full']);
