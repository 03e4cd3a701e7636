// Generates key-value histories that are linearizable by construction, for tests and the benchmark: clients
// issue operations one after another; each takes effect at one instant between its call and its return, and its
// result is what an atomic register gives at that instant. Some operations time out: they are recorded with an
// Infinity return and no result, and took effect or not (half each).

import type { KvOperation } from './kv-linearizability.ts';

export interface HistoryShape {
  readonly operations: number;
  readonly clients: number;
  readonly keys: number;
  /** Share of operations whose outcome is unknown to the client. */
  readonly unknownRatio: number;
  readonly seed: number;
  /** Longest operation, in ms; shorter ones overlap less. */
  readonly durationMsMax?: number;
}

/** A small seeded generator (mulberry32): the same seed gives the same history. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function generateKvHistory(shape: HistoryShape): KvOperation[] {
  const random = seededRandom(shape.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const durationMsMax = shape.durationMsMax ?? 20;
  const keys = Array.from({ length: shape.keys }, (_, i) => `k${i}`);
  const clientFreeAt = new Array<number>(shape.clients).fill(0);
  // The latest value planned per key: a cas expects it, and is right when nothing else got in between.
  const lastPlanned = new Map<string, string>();

  interface Planned {
    readonly operation: KvOperation;
    readonly effectMs: number;
    readonly unknown: boolean;
    readonly takesEffect: boolean;
  }
  const planned: Planned[] = [];
  for (let index = 0; index < shape.operations; index++) {
    const client = index % shape.clients;
    const callMs = clientFreeAt[client]! + Math.floor(random() * 5);
    const returnMs = callMs + 1 + Math.floor(random() * durationMsMax);
    clientFreeAt[client] = returnMs;
    const key = pick(keys);
    const roll = random();
    const value = `c${client}-${index}`;
    const base = { client: `c${client}`, key, callMs, returnMs };
    const operation: KvOperation =
      roll < 0.4
        ? { ...base, op: 'get' }
        : roll < 0.75
          ? { ...base, op: 'put', value }
          : roll < 0.85
            ? { ...base, op: 'delete' }
            : { ...base, op: 'cas', from: lastPlanned.get(key) ?? 'none', to: value };
    if (operation.op === 'put' || operation.op === 'cas') lastPlanned.set(key, value);
    const unknown = random() < shape.unknownRatio;
    planned.push({ operation, effectMs: callMs + random() * (returnMs - callMs), unknown, takesEffect: !unknown || random() < 0.5 });
  }

  // Apply in effect order against an atomic register per key, then record what each client saw.
  const register = new Map<string, string>();
  const byEffect = [...planned].sort((a, b) => a.effectMs - b.effectMs);
  const results = new Map<Planned, KvOperation['result']>();
  for (const item of byEffect) {
    if (!item.takesEffect) continue;
    const { operation } = item;
    const current = register.get(operation.key) ?? null;
    switch (operation.op) {
      case 'get':
        results.set(item, current === null ? { ok: false, error: 'not_found' } : { ok: true, value: current });
        break;
      case 'put':
        register.set(operation.key, operation.value!);
        results.set(item, { ok: true });
        break;
      case 'delete':
        register.delete(operation.key);
        results.set(item, { ok: true, existed: current !== null });
        break;
      case 'cas':
        if (current === operation.from) {
          register.set(operation.key, operation.to!);
          results.set(item, { ok: true });
        } else {
          results.set(item, { ok: false, error: 'cas_mismatch', value: current });
        }
        break;
    }
  }
  return planned.map((item) => {
    if (item.unknown) {
      const { result: _none, ...rest } = item.operation;
      return { ...rest, returnMs: Infinity };
    }
    return { ...item.operation, result: results.get(item)! };
  });
}
