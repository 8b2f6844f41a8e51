/**
 * Runs slow work inside a consumer's batch while heartbeating on a timer. kafkajs heartbeats only
 * when the handler calls heartbeat() or returns, so work that outlasts the session timeout (an
 * INSERT against a stalled database) would get the member evicted and its partitions handed to
 * another member, which would read the same records again. With this, the session timeout only
 * has to detect a dead process, and can be short.
 */
export async function whileHeartbeating<T>(
  heartbeat: () => Promise<void>,
  intervalMs: number,
  work: () => Promise<T>,
): Promise<T> {
  // A failed heartbeat (a rebalance began) is not this work's failure: the handler's next own
  // heartbeat or commit reports it, and kafkajs stops the batch.
  const timer = setInterval(() => void heartbeat().catch(() => {}), intervalMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
