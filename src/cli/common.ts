import type { Command } from 'commander';
import { toJson } from '../codec/json.ts';
import { defaultHome, loadConfig, parseHostPort } from '../config.ts';
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

/** RPC endpoint: --rpc flag, then TRIBUTARY_RPC, then the home's config, then the default. */
function rpcUrl(g: GlobalOptions): string {
  const text = g.rpc ?? process.env.TRIBUTARY_RPC;
  if (text) {
    if (/^https?:\/\//.test(text)) return text;
    const { host, port } = parseHostPort(text);
    return `http://${host}:${port}`;
  }
  const config = loadConfig(g.home);
  return `http://${config.rpc.host}:${config.rpc.port}`;
}

export function client(g: GlobalOptions): RpcClient {
  return new RpcClient(rpcUrl(g));
}
