// A map that keeps at least its `limit` most recently set keys and at most twice that, at O(1) a call.
//
// Evicting the oldest key of one Map with `map.keys().next()` is not O(1) in V8: each delete leaves a hole at
// the front of the table that the next iteration walks over, until a rehash. At 100,000 keys that cost ~86 µs
// a call, most of the CPU of QoS 1 ingest (bench/results/profile.md). Two generations instead: keys are set in
// the young one; when it is full it becomes the old one and the old one is dropped whole.
export class RecentMap<K, V> {
  private young = new Map<K, V>()
  private old = new Map<K, V>()

  constructor(private readonly limit: number) {}

  get(key: K): V | undefined {
    return this.young.get(key) ?? this.old.get(key)
  }

  set(key: K, value: V): void {
    this.young.set(key, value)
    // A key in both generations answers from the young one, so the old copy may stay until its generation goes.
    if (this.young.size >= this.limit) {
      this.old = this.young
      this.young = new Map()
    }
  }
}
