// Randomness is passed into the core, never read from the environment: a run is a function of its seed.

export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both ends included. */
  intBetween(min: number, max: number): number;
}

/** splitmix32: spreads a seed's bits so that nearby seeds give unrelated streams. */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * A small, fast, seeded generator (sfc32). `fork(label)` derives an independent stream, so that one node's
 * draws never shift another's: adding a node or a client does not change what the others do.
 */
export class SeededRandom implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(readonly seed: number) {
    const s = Math.trunc(seed) >>> 0;
    const high = Math.floor(Math.trunc(seed) / 0x1_0000_0000) >>> 0;
    this.a = mix32(s);
    this.b = mix32(this.a ^ high);
    this.c = mix32(this.b ^ 0x5bd1e995);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.next();
  }

  fork(label: number): SeededRandom {
    return new SeededRandom(mix32(mix32(this.seed >>> 0) ^ mix32(label + 0x632be5ab)) + (label >>> 0) * 0x1_0000_0000);
  }

  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 0x1_0000_0000;
  }

  intBetween(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(ratio: number): boolean {
    return ratio > 0 && this.next() < ratio;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }
}

/**
 * The step of a sub-millisecond clock: 1/1024 ms, a binary fraction, so that sums of times stay exact and a run
 * is the same on every machine.
 */
export const FINE_TIME_STEP_MS = 1 / 1024;

/**
 * A time in [min, max] ms, in steps of `stepMs`. With whole milliseconds (step 1) it draws exactly what
 * `intBetween(min, max)` draws, so runs from before sub-millisecond clocks keep their seeds.
 */
export function timeBetween(random: Random, min: number, max: number, stepMs: number): number {
  return min + random.intBetween(0, Math.round((max - min) / stepMs)) * stepMs;
}
