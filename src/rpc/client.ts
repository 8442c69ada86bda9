import { TributaryError, type ErrorCode } from '../errors.ts';

/** `rpc/error`: the node answered with an error that carried no code (never one of ours). */
export type RpcClientErrorCode = 'rpc/unreachable' | 'rpc/error';

/** A small JSON-RPC client for the CLI and tests. Errors come back as coded TributaryErrors. */
export class RpcClient {
  readonly url: string;
  private nextId = 1;

  constructor(url: string) {
    this.url = url;
  }

  async call<T = unknown>(method: string, params: unknown[] | Record<string, unknown> = []): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: this.nextId++, method, params }),
      });
    } catch (e) {
      throw new TributaryError(
        'rpc/unreachable',
        `cannot reach ${this.url}: ${(e as Error).cause ?? (e as Error).message}`,
      );
    }
    const body = (await res.json()) as {
      result?: T;
      error?: { code: number; message: string; data?: { code?: string } };
    };
    if (body.error) {
      // The node only sends codes of its own (error.data.code): the same union as ours.
      throw new TributaryError((body.error.data?.code as ErrorCode | undefined) ?? 'rpc/error', body.error.message, {
        ...body.error.data,
        rpcCode: body.error.code,
      });
    }
    return body.result as T;
  }
}
