// The search itself: agreement with a brute-force checker on random small histories (the pruning rules for
// unknown outcomes, the memo's dominance and the early finish must never change a verdict), histories that are
// linearizable by construction, shrinking of violations, budgets, and a second model plugged into the same search.
import fc from 'fast-check';
import { describe, expect, it, test } from 'vitest';
import { generateKvHistory } from './history-generator.ts';
import { checkKvHistory, type KvOperation, type KvOperationResult } from './kv-linearizability.ts';
import { checkOperations, cutAt, type Model, type Operation } from './linearizability.ts';

const PROPERTY_RUNS = { seed: 4_242, numRuns: 1000 } as const;

/**
 * An independent statement of the register's semantics, for the brute force: the next value, or undefined
 * when the recorded result is impossible from `value`.
 */
function referenceStep(value: string | null, op: KvOperation): string | null | undefined {
  const result = op.returnMs === Infinity ? undefined : op.result;
  const writes = op.op === 'put' ? op.value! : op.op === 'delete' ? null : op.to!;
  if (result === undefined) {
    if (op.op === 'get') return value;
    if (op.op === 'cas') return value === op.from ? writes : value;
    return writes;
  }
  if (op.op === 'get') {
    const seen = result.error === 'not_found' ? null : result.ok === false ? undefined : (result.value ?? null);
    if (seen === undefined) return value; // refused
    return seen === value ? value : undefined;
  }
  if (result.ok === false && !(op.op === 'cas' && (result.error === undefined || result.error === 'cas_mismatch'))) return value;
  if (op.op === 'put') return writes;
  if (op.op === 'delete') return result.existed === undefined || result.existed === (value !== null) ? null : undefined;
  if (result.ok !== false) return value === op.from ? writes : undefined;
  if (value === op.from) return undefined;
  return !('value' in result) || result.value === value ? value : undefined;
}

/** Tries every order that respects real time (an operation that returned before another was called goes first). */
function bruteForceLinearizable(history: readonly KvOperation[]): boolean {
  const placed = history.map(() => false);
  const search = (value: string | null, count: number): boolean => {
    if (count === history.length) return true;
    for (let i = 0; i < history.length; i++) {
      if (placed[i]) continue;
      const mustWait = history.some((other, j) => !placed[j] && j !== i && other.returnMs < history[i]!.callMs);
      if (mustWait) continue;
      const next = referenceStep(value, history[i]!);
      if (next === undefined) continue;
      placed[i] = true;
      if (search(next, count + 1)) return true;
      placed[i] = false;
    }
    return false;
  };
  return search(null, 0);
}

const VALUES = ['1', '2', '3'];
const value = fc.constantFrom(...VALUES);
const maybeValue = fc.constantFrom<string | null>(null, ...VALUES);

/** A random single-key operation with a random (often impossible) result; a third have an unknown outcome. */
const randomOperation: fc.Arbitrary<KvOperation> = fc
  .record({
    client: fc.constantFrom('a', 'b', 'c', 'd'),
    kind: fc.constantFrom('put', 'get', 'get', 'delete', 'cas'),
    value,
    from: value,
    to: value,
    seen: maybeValue,
    ok: fc.boolean(),
    existed: fc.option(fc.boolean(), { nil: undefined }),
    knowsCurrent: fc.boolean(),
    callMs: fc.integer({ min: 0, max: 60 }),
    durationMs: fc.integer({ min: 0, max: 30 }),
    unknown: fc.integer({ min: 0, max: 2 }).map((roll) => roll === 0),
  })
  .map((r): KvOperation => {
    const base = { client: r.client, key: 'x', callMs: r.callMs, returnMs: r.unknown ? Infinity : r.callMs + r.durationMs };
    let result: KvOperationResult;
    let operation: Omit<KvOperation, 'result'>;
    switch (r.kind) {
      case 'put':
        operation = { ...base, op: 'put', value: r.value };
        result = { ok: true };
        break;
      case 'get':
        operation = { ...base, op: 'get' };
        result = r.seen === null ? { ok: false, error: 'not_found' } : { ok: true, value: r.seen };
        break;
      case 'delete':
        operation = { ...base, op: 'delete' };
        result = r.existed === undefined ? { ok: true } : { ok: true, existed: r.existed };
        break;
      default:
        operation = { ...base, op: 'cas', from: r.from, to: r.to };
        result = r.ok ? { ok: true } : { ok: false, error: 'cas_mismatch', ...(r.knowsCurrent ? { value: r.seen } : {}) };
    }
    return r.unknown ? operation : { ...operation, result };
  });

describe('the search agrees with brute force', () => {
  it('on random small histories, linearizable or not', () => {
    let counts = { linearizable: 0, 'not-linearizable': 0 };
    fc.assert(
      fc.property(fc.array(randomOperation, { minLength: 1, maxLength: 9 }), (history) => {
        const result = checkKvHistory(history);
        const expected = bruteForceLinearizable(history) ? 'linearizable' : 'not-linearizable';
        expect(result.verdict).toBe(expected);
        counts = { ...counts, [expected]: counts[expected] + 1 };
      }),
      PROPERTY_RUNS,
    );
    // Both verdicts were exercised, not just one.
    expect(counts.linearizable).toBeGreaterThan(40);
    expect(counts['not-linearizable']).toBeGreaterThan(40);
  });

  it('and every reported violation is itself a set of operations that cannot be ordered, culprit included', () => {
    fc.assert(
      fc.property(fc.array(randomOperation, { minLength: 1, maxLength: 9 }), (history) => {
        const result = checkKvHistory(history);
        if (result.verdict !== 'not-linearizable') return;
        const violation = result.violation!;
        expect(violation.operations).toContain(violation.culprit);
        expect(violation.operations.every((op) => history.includes(op))).toBe(true);
        expect(bruteForceLinearizable(violation.operations)).toBe(false);
        expect(violation.operations.length).toBeLessThanOrEqual(history.length);
      }),
      PROPERTY_RUNS,
    );
  });
});

describe('histories linearizable by construction', () => {
  it('are found linearizable, with unknown outcomes among them', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 6 }), (seed, clients) => {
        const history = generateKvHistory({ operations: 300, clients, keys: 2, unknownRatio: 0.05, seed });
        expect(checkKvHistory(history).verdict).toBe('linearizable');
      }),
      { seed: 7, numRuns: 60 },
    );
  });

  it('stop being so when one late read returns a value overwritten long before, and the explanation is three operations', () => {
    const history = generateKvHistory({ operations: 2000, clients: 10, keys: 3, unknownRatio: 0, seed: 11 });
    const firstPut = history.find((op) => op.op === 'put' && op.key === 'k0')!;
    const lastRead = history.length - 1 - [...history].reverse().findIndex((op) => op.op === 'get' && op.key === 'k0');
    const stale = { ...history[lastRead]!, result: { ok: true, value: firstPut.value! } };
    history[lastRead] = stale;
    const result = checkKvHistory(history);
    expect(result.verdict).toBe('not-linearizable');
    expect(result.violation?.culprit).toBe(stale);
    expect(result.violation?.operations).toHaveLength(3);
    expect(result.violation?.operations).toContain(firstPut);
    expect(result.explanation).toMatch(new RegExp(`^key k0: get\\(k0\\) → ${firstPut.value} returned at \\d+ ms, but put\\(k0, [\\w-]+\\) completed at \\d+ ms and nothing wrote ${firstPut.value} after it\\.`));
  });
});

describe('explanations', () => {
  const put = (client: string, v: string, callMs: number, returnMs: number): KvOperation => ({ client, op: 'put', key: 'x', value: v, callMs, returnMs, result: { ok: true } });
  const get = (client: string, v: string | null, callMs: number, returnMs: number): KvOperation => ({
    client, op: 'get', key: 'x', callMs, returnMs, result: v === null ? { ok: false, error: 'not_found' } : { ok: true, value: v },
  });

  test('name the stale read, the write that overwrote it, and list the operations with their clients and times', () => {
    const history = [put('c1', '1', 0, 10), put('c2', '2', 20, 100), get('c3', '1', 110, 120)];
    expect(checkKvHistory(history).explanation).toBe(
      [
        'key x: get(x) → 1 returned at 120 ms, but put(x, 2) completed at 100 ms and nothing wrote 1 after it.',
        'these 3 operations cannot be ordered:',
        '    put(x, 1)  (client c1, 0–10 ms)',
        '    put(x, 2)  (client c2, 20–100 ms)',
        '  → get(x) → 1  (client c3, 110–120 ms)',
      ].join('\n'),
    );
  });

  test('leave out operations that play no part, however many', () => {
    const history: KvOperation[] = [put('c1', 'old', 0, 10)];
    for (let i = 0; i < 200; i++) history.push(get(`r${i % 7}`, 'old', 20 + i, 25 + i));
    history.push(put('c2', 'new', 300, 310), get('c9', 'new', 320, 330), get('c3', 'old', 400, 410));
    for (let i = 0; i < 50; i++) history.push(put('c4', `later${i}`, 500 + i * 10, 505 + i * 10));
    const violation = checkKvHistory(history).violation!;
    expect(violation.operations.map((op) => `${op.op}:${op.result && 'value' in op.result ? op.result.value : op.value}`)).toEqual(['put:old', 'put:new', 'get:old']);
  });

  test('say when nothing ever wrote the value read, and a not-found read after a completed write', () => {
    expect(checkKvHistory([put('a', '1', 0, 10), get('b', '7', 20, 30)]).explanation).toContain('get(x) → 7 returned at 30 ms, but nothing wrote 7 to x');
    expect(checkKvHistory([put('a', '1', 0, 10), get('b', null, 20, 30)]).explanation).toContain(
      'get(x) → not found returned at 30 ms, but put(x, 1) completed at 10 ms and nothing deleted x after it',
    );
  });

  test('show an operation whose outcome is unknown as such', () => {
    const history: KvOperation[] = [
      { client: 'a', op: 'delete', key: 'x', callMs: 0, returnMs: Infinity },
      put('b', '1', 10, 20),
      get('c', '1', 30, 40),
      get('c', null, 50, 60),
      get('c', '1', 70, 80),
    ];
    const result = checkKvHistory(history);
    expect(result.verdict).toBe('not-linearizable');
    expect(result.explanation).toContain('delete(x) → ?  (client a, called at 0 ms, outcome unknown)');
  });
});

describe('unknown outcomes', () => {
  const write = (v: string, callMs: number, returnMs = Infinity): KvOperation => ({
    client: `w${v}`, op: 'put', key: 'x', value: v, callMs, returnMs, ...(returnMs === Infinity ? {} : { result: { ok: true } }),
  });
  const read = (v: string | null, callMs: number, returnMs: number): KvOperation => ({
    client: 'r', op: 'get', key: 'x', callMs, returnMs, result: v === null ? { ok: false, error: 'not_found' } : { ok: true, value: v },
  });

  test('a write that may have happened can be seen or not seen, but once seen stays until overwritten', () => {
    expect(checkKvHistory([write('1', 0, 10), write('2', 20), read('1', 30, 40), read('2', 50, 60)]).verdict).toBe('linearizable');
    expect(checkKvHistory([write('1', 0, 10), write('2', 20), read('2', 30, 40), read('1', 50, 60)]).verdict).toBe('not-linearizable');
  });

  test('an unknown write takes effect at most once', () => {
    const history = [write('1', 0), read('1', 10, 20), write('2', 30, 40), read('1', 50, 60)];
    expect(checkKvHistory(history).verdict).toBe('not-linearizable');
  });

  test('an unknown compare-and-set takes effect only if the value matched when it ran', () => {
    const casUnknown: KvOperation = { client: 'c', op: 'cas', key: 'x', from: '1', to: '9', callMs: 15, returnMs: Infinity };
    expect(checkKvHistory([write('1', 0, 10), casUnknown, read('9', 100, 110)]).verdict).toBe('linearizable');
    expect(checkKvHistory([write('2', 0, 10), casUnknown, read('9', 100, 110)]).verdict).toBe('not-linearizable');
  });

  test('the cut used for explanations makes operations still running at that time unknown', () => {
    const [a, b] = [write('1', 0, 10), write('2', 5, 50)];
    const cut = cutAt<KvOperation, unknown>(
      [a, b].map((op) => ({ client: op.client, input: op, output: 'ok', callMs: op.callMs, returnMs: op.returnMs })),
      20,
    );
    expect(cut.map((op) => [op.returnMs, op.output])).toEqual([
      [10, 'ok'],
      [Infinity, undefined],
    ]);
  });
});

describe('budgets', () => {
  /** Many concurrent writes, then a read of a value nobody wrote: proving it impossible takes every order. */
  function adversarialHistory(writers: number): KvOperation[] {
    const history: KvOperation[] = [];
    for (let i = 0; i < writers; i++) history.push({ client: `w${i}`, op: 'put', key: 'x', value: `v${i}`, callMs: 0, returnMs: 1000, result: { ok: true } });
    for (let i = 0; i < writers; i++) history.push({ client: `r${i}`, op: 'get', key: 'x', callMs: 0, returnMs: 1000, result: { ok: true, value: `v${(i * 7) % writers}` } });
    history.push({ client: 'late', op: 'get', key: 'x', callMs: 2000, returnMs: 2010, result: { ok: true, value: 'never-written' } });
    return history;
  }

  test('a huge adversarial history answers unknown within the step budget instead of hanging', () => {
    const result = checkKvHistory(adversarialHistory(2000), { stepsMax: 200_000 });
    expect(result.verdict).toBe('unknown');
    expect(result.explanation).toContain('the step budget (200000 steps) ran out');
    expect(result.steps).toBeLessThanOrEqual(200_001);
  });

  test('a caller’s stop function ends the search with unknown', () => {
    let polls = 0;
    const result = checkKvHistory(adversarialHistory(200), { shouldStop: () => ++polls >= 3 });
    expect(result.verdict).toBe('unknown');
    expect(result.explanation).toContain('the caller asked to stop');
    expect(polls).toBe(3);
  });

  test('a memo bound ends the search with unknown', () => {
    const result = checkKvHistory(adversarialHistory(200), { memoEntriesMax: 1000 });
    expect(result.verdict).toBe('unknown');
    expect(result.explanation).toContain('the memo bound (1000 entries) was reached');
  });

  test('a violation in a small partition is still found when a large one is undecidable', () => {
    const history = [
      ...adversarialHistory(300),
      { client: 'a', op: 'put', key: 'y', value: '1', callMs: 0, returnMs: 10, result: { ok: true } },
      { client: 'b', op: 'get', key: 'y', callMs: 20, returnMs: 30, result: { ok: true, value: '2' } },
    ] satisfies KvOperation[];
    const result = checkKvHistory(history, { stepsMax: 100_000 });
    expect(result).toMatchObject({ verdict: 'not-linearizable', partitions: 2, violation: { key: 'y' } });
  });

  test('a history longer than operationsMax is refused, and a malformed operation is named', () => {
    const op: KvOperation = { client: 'a', op: 'get', key: 'x', callMs: 0, returnMs: 1 };
    expect(() => checkKvHistory([op, op, op], { operationsMax: 2 })).toThrow('history of 3 operations is over the limit of 2 (operationsMax)');
    expect(() => checkKvHistory([{ ...op, returnMs: -1 }])).toThrow('operations[0].returnMs: expected a time at or after callMs 0, or Infinity, got -1');
    expect(() => checkKvHistory([{ ...op, op: 'put' }])).toThrow('operations[0].value: expected a string for a put');
  });
});

describe('another model in the same search: a counter with increments and reads', () => {
  type CounterInput = { readonly kind: 'add'; readonly amount: number } | { readonly kind: 'read' };
  const counter: Model<number, CounterInput, number> = {
    init: () => 0,
    step: (state, input, output) => (input.kind === 'add' ? state + input.amount : output === undefined || output === state ? state : undefined),
    stateKey: (state) => String(state),
    describeOperation: (op) => (op.input.kind === 'add' ? `add(${op.input.amount})` : `read() → ${op.output ?? '?'}`),
    describeState: (state) => String(state),
  };
  const add = (amount: number, callMs: number, returnMs: number): Operation<CounterInput, number> => ({ client: 'a', input: { kind: 'add', amount }, output: 0, callMs, returnMs });
  const read = (seen: number, callMs: number, returnMs: number): Operation<CounterInput, number> => ({ client: 'b', input: { kind: 'read' }, output: seen, callMs, returnMs });

  test('reads that see a prefix of concurrent increments are linearizable', () => {
    expect(checkOperations(counter, [add(1, 0, 100), add(2, 0, 100), read(2, 10, 20), read(3, 150, 160)]).verdict).toBe('linearizable');
  });

  test('a read that no order of increments explains is not, and is explained in the model’s words', () => {
    const result = checkOperations(counter, [add(1, 0, 10), add(2, 20, 30), read(1, 40, 50)]);
    expect(result.verdict).toBe('not-linearizable');
    expect(result.explanation).toContain('read() → 1 returned at 50 ms, but no order of these operations gives every one of them its result');
  });
});
