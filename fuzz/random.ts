// A small seedable random generator (sfc32, seeded through splitmix32), so that a seed
// and a case number always give the same case.

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** A generator for case `index` of run `seed`. */
  constructor(seed: number, index = 0) {
    const mix = splitmix32((seed >>> 0) ^ Math.imul(index + 1, 0x27d4eb2d));
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    for (let i = 0; i < 12; i++) this.next();
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.next() / 0x100000000) * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() / 0x100000000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Small numbers most of the time, now and then a big one. */
  size(max: number): number {
    const r = this.int(100);
    if (r < 60) return this.int(Math.min(max, 16) + 1);
    if (r < 90) return this.int(Math.min(max, 1024) + 1);
    return this.int(max + 1);
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
}

/** A fresh random seed (for runs without --seed). */
export function randomSeed(): number {
  return Math.floor(Math.random() * 0x100000000) >>> 0;
}
