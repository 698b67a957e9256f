// A seeded xorshift random source for tests, so that a failure can be repeated.

/** Numbers in [0, 1) from `seed` (not 0). */
export function seededRandom(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}
