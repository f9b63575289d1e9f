// A small seeded random source for the hostile-request generator: request `index` of run `seed` is drawn from its
// own stream, so any one request can be rebuilt alone from (seed, index) to replay a failure.

/** 32-bit mix of two integers (murmur3's finaliser over a golden-ratio step): nearby inputs give unrelated streams. */
function mix(a: number, b: number): number {
  let h = Math.imul((a ^ 0x9e3779b9) >>> 0, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35)
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d)
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b)
  return (h ^ (h >>> 16)) >>> 0
}

export class Random {
  #state: number

  /** The stream of request `index` in run `seed`. */
  constructor(seed: number, index: number) {
    this.#state = mix(seed, index)
  }

  /** Uniform in [0, 1) (mulberry32). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0
    let t = this.#state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  chance(probability: number): boolean {
    return this.next() < probability
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list')
    return items[Math.floor(this.next() * items.length)] as T
  }

  /** One of `entries`, each as likely as its weight. */
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    const total = entries.reduce((sum, [, weight]) => sum + weight, 0)
    let left = this.next() * total
    for (const [value, weight] of entries) {
      left -= weight
      if (left < 0) return value
    }
    return entries[entries.length - 1]![0]
  }

  /** `length` characters drawn from `alphabet` (code points, so astral characters stay whole). */
  text(length: number, alphabet: string): string {
    const characters = [...alphabet]
    let out = ''
    for (let i = 0; i < length; i++) out += this.pick(characters)
    return out
  }
}
