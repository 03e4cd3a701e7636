// Small, fast, stable hashes for trace fingerprints and log comparison. Not cryptographic.

/** FNV-1a over the UTF-16 code units of `text`, continuing from `seed`. */
export function hashString(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Combine numbers into a hash (order matters). */
export function hashNumbers(seed: number, ...values: number[]): number {
  let h = seed >>> 0;
  for (const value of values) {
    h = Math.imul(h ^ (value >>> 0), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= Math.floor(value / 0x1_0000_0000) >>> 0;
    h ^= h >>> 16;
  }
  return h >>> 0;
}
