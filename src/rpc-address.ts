import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homePaths } from './config.ts';

/*
 * `<home>/rpc-address.json`: the address a running node actually serves JSON-RPC on (after
 * listen, so port 0 is the port it got), with its process id. Client commands given that --home
 * call it; the node removes the file on a clean stop, and a file whose process is gone (a crash)
 * is stale and ignored.
 */

export interface RecordedRpcAddress {
  url: string;
  host: string;
  port: number;
  pid: number;
}

/** A wildcard listen address is reached over loopback. */
function dialHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export function rpcUrlFor(host: string, port: number): string {
  return `http://${dialHost(host)}:${port}`;
}

export function writeRpcAddress(home: string, address: { host: string; port: number }, pid = process.pid): void {
  const path = homePaths(home).rpcAddress;
  const record: RecordedRpcAddress = { url: rpcUrlFor(address.host, address.port), ...address, pid };
  // Written aside and renamed, so that a client never reads half a file.
  writeFileSync(`${path}.tmp`, JSON.stringify(record) + '\n');
  renameSync(`${path}.tmp`, path);
}

/** Removes the record, but only this process's (a second node refused on the same home leaves the first one's). */
export function removeRpcAddress(home: string, pid = process.pid): void {
  if (readRpcAddress(home, { includeStale: true })?.pid === pid) rmSync(homePaths(home).rpcAddress, { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The recorded address if its node process is still alive (or any readable record with `includeStale`). */
export function readRpcAddress(home: string, opts: { includeStale?: boolean } = {}): RecordedRpcAddress | undefined {
  let record: RecordedRpcAddress;
  try {
    record = JSON.parse(readFileSync(homePaths(home).rpcAddress, 'utf8')) as RecordedRpcAddress;
  } catch {
    return undefined;
  }
  if (typeof record?.url !== 'string' || !Number.isSafeInteger(record.pid)) return undefined;
  return opts.includeStale || alive(record.pid) ? record : undefined;
}
