// A small seeded random source (mulberry32): the same seed gives the same sequence, on every platform.

export interface Rng {
  /** uniform in [0, 1) */
  next(): number
  range(lo: number, hi: number): number
  int(lo: number, hi: number): number
  chance(p: number): boolean
  normal(mean: number, sd: number): number
  pick<T>(items: readonly T[]): T
}

/** 32-bit FNV-1a of a string: turns "seed/device" into a seed. */
export function hashSeed(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

export function createRng(seed: number): Rng {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const rng: Rng = {
    next,
    range: (lo, hi) => lo + (hi - lo) * next(),
    int: (lo, hi) => lo + Math.floor((hi - lo + 1) * next()),
    chance: (p) => next() < p,
    normal(mean, sd) {
      // Box–Muller; 1 - u keeps log() away from 0.
      const u = 1 - next()
      const v = next()
      return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
    },
    pick: (items) => items[Math.floor(next() * items.length)]!,
  }
  return rng
}
