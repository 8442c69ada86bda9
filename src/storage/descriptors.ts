import { readFileSync } from 'node:fs';

/*
 * The descriptor budget of the process, shared out so that storage never runs out of descriptors
 * because sockets took them: RPC connections get at most half (src/rpc/limits.ts), LevelDB's
 * table-file cache at most a quarter, and the rest stays for logs, the signer, the WAL and peers.
 */

/** The process's soft limit on open descriptors (Linux: /proc/self/limits); undefined elsewhere or if unlimited. */
export function descriptorLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  return m && m[1] !== 'unlimited' ? Number(m[1]) : undefined;
}

/** LevelDB's `maxOpenFiles` for a process with `limit` descriptors: a quarter, between 64 and LevelDB's default 1000. */
export function levelMaxOpenFiles(limit = descriptorLimit()): number {
  if (limit === undefined) return 1000;
  return Math.min(1000, Math.max(64, Math.floor(limit / 4)));
}
