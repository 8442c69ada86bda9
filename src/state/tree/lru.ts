/** Least-recently-used map with a fixed entry budget; Map keeps insertion order, which is the recency order. */
export class Lru<V> {
  private readonly map = new Map<string, V>();
  private readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: string, value: V): void {
    if (this.capacity <= 0) return;
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) {
      // Evict in bulk (1/16 of capacity) so a full cache does not pay an eviction on every insert.
      let excess = this.map.size - this.capacity + (this.capacity >> 4);
      for (const k of this.map.keys()) {
        if (excess-- <= 0) break;
        this.map.delete(k);
      }
    }
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  get size(): number {
    return this.map.size;
  }
}
