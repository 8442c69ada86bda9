import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { JsonValue } from '../codec/json.ts';
import type { Chain } from '../consensus/chain.ts';
import type { Mempool } from '../consensus/mempool.ts';
import type { NodeConfig } from '../config.ts';
import { isTributaryError } from '../errors.ts';
import { rpcError, toJsonRpcError, type JsonRpcError } from './errors.ts';
import { buildMethodTable, type RpcMethod } from './methods.ts';
import { parseCallParams } from './params.ts';

interface JsonRpcResponse {
  jsonrpc: '2.0';
  id: string | number | null;
  result?: JsonValue;
  error?: JsonRpcError;
}

/**
 * JSON-RPC 2.0 over HTTP (POST /, single or batch). GET /health answers for load balancers.
 * Every failure is a JSON-RPC error with a number and a stable string code in `data.code`; a
 * handler that throws something uncoded is logged and answered as an internal error, and the
 * server keeps serving.
 */
export class RpcServer {
  private readonly ctx: { chain: Chain; mempool: Mempool };
  private readonly config: NodeConfig['rpc'];
  private readonly logger: Logger | undefined;
  readonly methods: Map<string, RpcMethod>;
  private server: Server | undefined;

  /** Why the node cannot commit blocks now, or undefined: `/health` answers 503 with it. */
  private readonly notReady: () => string | undefined;

  constructor(opts: {
    chain: Chain;
    mempool: Mempool;
    config: NodeConfig['rpc'];
    logger?: Logger;
    extraMethods?: RpcMethod[];
    notReady?: () => string | undefined;
  }) {
    this.notReady = opts.notReady ?? (() => opts.chain.storageFault());
    this.ctx = { chain: opts.chain, mempool: opts.mempool };
    this.config = opts.config;
    this.logger = opts.logger;
    this.methods = buildMethodTable(opts.chain.app.registry.queries, opts.extraMethods);
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    const server = createServer((req, res) => {
      this.handleHttp(req, res).catch((e) => {
        this.logger?.error({ err: e }, 'rpc request failed');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    server.keepAliveTimeout = 5000;
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const a = server.address() as AddressInfo;
        resolve({ host: a.address, port: a.port });
      });
    });
  }

  close(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && (req.url === '/health' || req.url === '/')) {
      const chain = this.ctx.chain;
      const reason = this.notReady();
      if (reason !== undefined) {
        return send(res, 503, { status: 'unavailable', reason, chainId: chain.app.chainId, height: chain.latestHeight });
      }
      return send(res, 200, { status: 'ok', chainId: chain.app.chainId, height: chain.latestHeight });
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, POST' });
      return void res.end();
    }
    const body = await readBody(req, this.config.maxBodyBytes);
    if (body === undefined) {
      const error = toJsonRpcError(
        rpcError('rpc/request_too_large', `request body exceeds ${this.config.maxBodyBytes} bytes`),
        'query',
      );
      res.setHeader('connection', 'close');
      return send(res, 413, { jsonrpc: '2.0', id: null, error });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return send(res, 200, failure(null, rpcError('rpc/parse_error', 'request body is not valid JSON')));
    }
    if (Array.isArray(parsed)) {
      if (parsed.length === 0) return send(res, 200, failure(null, rpcError('rpc/invalid_request', 'empty batch')));
      if (parsed.length > this.config.maxBatch) {
        return send(res, 200, failure(null, rpcError('rpc/invalid_request', `batch larger than ${this.config.maxBatch}`)));
      }
      const responses: JsonRpcResponse[] = [];
      for (const item of parsed) {
        const r = await this.handleCall(item);
        if (r) responses.push(r);
      }
      if (responses.length === 0) return void res.writeHead(204).end();
      return send(res, 200, responses);
    }
    const response = await this.handleCall(parsed);
    if (!response) return void res.writeHead(204).end();
    return send(res, 200, response);
  }

  /** One call; undefined for a notification (no id), which gets no answer. */
  async handleCall(call: unknown): Promise<JsonRpcResponse | undefined> {
    if (typeof call !== 'object' || call === null || Array.isArray(call)) {
      return failure(null, rpcError('rpc/invalid_request', 'a call must be a JSON object'));
    }
    const { jsonrpc, method, params, id } = call as Record<string, unknown>;
    const validId = id === undefined || id === null || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
    const replyId = validId ? ((id as string | number | undefined) ?? null) : null;
    if (jsonrpc !== '2.0' || typeof method !== 'string' || !validId) {
      return failure(replyId, rpcError('rpc/invalid_request', 'expected {"jsonrpc":"2.0","method":string,"id":...}'));
    }
    const m = this.methods.get(method);
    let response: JsonRpcResponse;
    if (!m) {
      response = failure(replyId, rpcError('rpc/method_not_found', `method "${method}" does not exist`, { method }));
    } else {
      try {
        const result = await m.handler(this.ctx, parseCallParams(m.params, params));
        response = { jsonrpc: '2.0', id: replyId, result };
      } catch (e) {
        if (!isTributaryError(e)) this.logger?.error({ err: e, method }, 'uncoded error in rpc handler');
        response = { jsonrpc: '2.0', id: replyId, error: toJsonRpcError(e, m.kind) };
      }
    }
    return id === undefined ? undefined : response;
  }
}

function failure(id: string | number | null, e: unknown): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: toJsonRpcError(e, 'query') };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Reads the body, or returns undefined as soon as it passes `limit` bytes (the rest is not buffered). */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}
