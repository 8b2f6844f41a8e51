/**
 * Coalesces concurrent calls per key: while a load for a key is running, further calls for that key
 * get the same promise instead of starting another load. A settled load is forgotten at once, so
 * nothing is kept beyond the calls that overlapped with it.
 */
export function singleFlight<K, V>(): (key: K, load: () => Promise<V>) => Promise<V> {
  const inFlight = new Map<K, Promise<V>>();
  return (key, load) => {
    const running = inFlight.get(key);
    if (running) return running;
    const started = load().finally(() => inFlight.delete(key));
    inFlight.set(key, started);
    return started;
  };
}
