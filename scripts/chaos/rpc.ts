/**
 * JSON-RPC for the chaos runner: single calls and batches, each with a deadline, because a node
 * under SIGSTOP accepts connections (the kernel does) and then answers nothing until SIGCONT.
 */

/** `rpc/unreachable`: no connection; `rpc/timeout`: no answer in time; else the node's own code. */
export class ChaosRpcError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'ChaosRpcError';
    this.code = code;
  }
}

export interface RpcCall {
  method: string;
  params: unknown[];
}

export type RpcOutcome<T> = { ok: true; result: T } | { ok: false; code: string; message: string };

interface WireResponse {
  id?: number;
  result?: unknown;
  error?: { code: number; message: string; data?: { code?: string } };
}

/** The largest batch the node serves by default (config rpc.maxBatch). */
export const MAX_BATCH = 100;

async function post(url: string, body: unknown, timeoutMs: number): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    const err = e as Error;
    if (err.name === 'TimeoutError') throw new ChaosRpcError('rpc/timeout', `no answer from ${url} in ${timeoutMs} ms`);
    throw new ChaosRpcError('rpc/unreachable', `cannot reach ${url}: ${String(err.cause ?? err.message)}`);
  }
  try {
    return await res.json();
  } catch (e) {
    // The node died while answering, or the deadline fell inside the body.
    const err = e as Error;
    throw new ChaosRpcError(
      err.name === 'TimeoutError' ? 'rpc/timeout' : 'rpc/unreachable',
      `broken answer from ${url}: ${err.message}`,
    );
  }
}

function outcome<T>(r: WireResponse | undefined): RpcOutcome<T> {
  if (!r) return { ok: false, code: 'rpc/missing_response', message: 'no response for this call in the batch' };
  if (r.error) return { ok: false, code: r.error.data?.code ?? `rpc/${r.error.code}`, message: r.error.message };
  return { ok: true, result: r.result as T };
}

export async function rpcCall<T>(url: string, method: string, params: unknown[] = [], timeoutMs = 10_000): Promise<T> {
  const r = outcome<T>((await post(url, { jsonrpc: '2.0', id: 1, method, params }, timeoutMs)) as WireResponse);
  if (!r.ok) throw new ChaosRpcError(r.code, r.message);
  return r.result;
}

/** Calls in batches of MAX_BATCH; one outcome per call, in order. */
export async function rpcBatch<T>(url: string, calls: RpcCall[], timeoutMs = 30_000): Promise<RpcOutcome<T>[]> {
  const out: RpcOutcome<T>[] = [];
  for (let start = 0; start < calls.length; start += MAX_BATCH) {
    const chunk = calls.slice(start, start + MAX_BATCH);
    const body = chunk.map((c, i) => ({ jsonrpc: '2.0', id: i, method: c.method, params: c.params }));
    const answer = await post(url, body, timeoutMs);
    if (!Array.isArray(answer)) {
      // A whole-batch refusal (for example rpc/batch_too_large) comes back as one error object.
      const single = outcome<T>(answer as WireResponse);
      throw new ChaosRpcError(
        single.ok ? 'rpc/not_a_batch' : single.code,
        single.ok ? 'batch answered with one result' : single.message,
      );
    }
    const byId = new Map<number, WireResponse>();
    for (const r of answer as WireResponse[]) if (typeof r.id === 'number') byId.set(r.id, r);
    for (let i = 0; i < chunk.length; i++) out.push(outcome<T>(byId.get(i)));
  }
  return out;
}
