import type { Command } from 'commander';
import { toJson } from '../codec/json.ts';
import { defaultHome, ENV_CLIENT_RPC, loadConfig, parseHostPort, refuseRetiredEnv } from '../config.ts';
import { readRpcAddress, rpcUrlFor } from '../rpc-address.ts';
import { RpcClient } from '../rpc/client.ts';

/* What every command group shares: the global options, output, and the RPC client. */

export interface GlobalOptions {
  home: string;
  json: boolean;
  rpc?: string;
}

export function globals(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals() as { home?: string; json?: boolean; rpc?: string };
  return { home: o.home ?? defaultHome(), json: o.json ?? false, rpc: o.rpc };
}

export function print(g: GlobalOptions, value: unknown, human?: () => string): void {
  if (g.json || !human) process.stdout.write(JSON.stringify(toJson(value), null, g.json ? 0 : 2) + '\n');
  else process.stdout.write(human() + '\n');
}

/**
 * RPC endpoint: --rpc, then TRIBUTARY_CLIENT_RPC, then the address the node running on this
 * --home recorded (`<home>/rpc-address.json`), then the listen address the home's config names.
 */
export function rpcUrl(g: GlobalOptions, env: NodeJS.ProcessEnv = process.env): string {
  refuseRetiredEnv(env);
  const text = g.rpc ?? env[ENV_CLIENT_RPC];
  if (text) {
    if (/^https?:\/\//.test(text)) return text;
    const { host, port } = parseHostPort(text, '127.0.0.1', g.rpc !== undefined ? '--rpc' : ENV_CLIENT_RPC);
    return rpcUrlFor(host, port);
  }
  const recorded = readRpcAddress(g.home);
  if (recorded) return recorded.url;
  const config = loadConfig(g.home, env);
  return rpcUrlFor(config.rpc.host, config.rpc.port);
}

export function client(g: GlobalOptions): RpcClient {
  return new RpcClient(rpcUrl(g));
}
