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

/** A 64-bit running fingerprint of a stream of strings, printed as 16 hex digits. */
export class RunningHash {
  private low = 0x811c9dc5;
  private high = 0x050c5d1f;

  add(text: string): void {
    this.low = hashString(text, this.low);
    this.high = hashString(text, Math.imul(this.high ^ text.length, 0x9e3779b1) >>> 0);
    this.high = Math.imul(this.high ^ this.low, 0x01000193) >>> 0;
  }

  hex(): string {
    return this.high.toString(16).padStart(8, '0') + this.low.toString(16).padStart(8, '0');
  }
}
