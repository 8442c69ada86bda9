// Apart from mempool.ts so that the node config (src/config.ts), which every CLI command reads, loads no chain code.

/** Node policy, not consensus: each operator may choose. */
export interface MempoolLimits {
  /** Pending (executable) transactions, in count and bytes. */
  maxTxs: number;
  maxBytes: number;
  /** One sender's pending plus queued transactions, so no sender can fill the mempool. */
  maxTxsPerSender: number;
  maxBytesPerSender: number;
  /** Transactions held for a future nonce (a gap before them), in all and per sender. */
  maxQueued: number;
  maxQueuedPerSender: number;
  /** A queued transaction whose gap has not filled in this long is dropped. */
  queuedTtlMs: number;
  /**
   * Pending transactions are also capped at what one post-commit recheck runs through in this
   * long, by the measured cost per transaction on this node (0: no such cap). See `Mempool.capacity`.
   */
  recheckBudgetMs: number;
  /**
   * The recheck budget never lowers the cap below this many transactions (CometBFT's default pool
   * size): a loaded host's slow checks must not shrink the pool below a few blocks' worth.
   */
  minCapacity: number;
}

export const DEFAULT_MEMPOOL_LIMITS: MempoolLimits = {
  maxTxs: 50_000,
  maxBytes: 64 * 1024 * 1024,
  maxTxsPerSender: 2_000,
  maxBytesPerSender: 4 * 1024 * 1024,
  maxQueued: 5_000,
  maxQueuedPerSender: 64,
  queuedTtlMs: 120_000,
  recheckBudgetMs: 250,
  minCapacity: 5_000,
};
