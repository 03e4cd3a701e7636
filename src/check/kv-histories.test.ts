// The linearizability checker on hand-written key-value histories: linearizable ones (including those that
// are so in only one order, or thanks to a write whose outcome is unknown) and not linearizable ones
// (including the classic stale read from a deposed leader), with a readable explanation, and a budget that
// answers 'unknown' instead of hanging.
import { describe, expect, test } from 'vitest';
import { checkKvHistory, type KvOperation } from './kv-linearizability.ts';

const put = (client: string, key: string, value: string, callMs: number, returnMs: number): KvOperation => ({
  client, op: 'put', key, value, callMs, returnMs, ...(returnMs === Infinity ? {} : { result: { ok: true } }),
});
const get = (client: string, key: string, value: string | null, callMs: number, returnMs: number): KvOperation => ({
  client, op: 'get', key, callMs, returnMs, result: value === null ? { ok: false, error: 'not_found' } : { ok: true, value },
});
const cas = (client: string, key: string, from: string, to: string, swapped: boolean, callMs: number, returnMs: number, current?: string): KvOperation => ({
  client, op: 'cas', key, from, to, callMs, returnMs,
  result: swapped ? { ok: true } : { ok: false, error: 'cas_mismatch', ...(current === undefined ? {} : { value: current }) },
});

describe('linearizable histories', () => {
  test('sequential writes and reads', () => {
    const history = [put('a', 'x', '1', 0, 10), get('b', 'x', '1', 20, 30), put('a', 'x', '2', 40, 50), get('b', 'x', '2', 60, 70)];
    expect(checkKvHistory(history).verdict).toBe('linearizable');
  });

  test('concurrent operations that fit only one order (the read sees 1, so it falls between the writes)', () => {
    const history = [put('a', 'x', '1', 0, 100), put('b', 'x', '2', 10, 100), get('c', 'x', '1', 50, 60), get('c', 'x', '2', 110, 120)];
    const result = checkKvHistory(history);
    expect(result.verdict).toBe('linearizable');
    // The one order that explains it, as the view draws it: put 1, read 1, put 2, read 2.
    expect(result.linearization).toEqual([[history[0], history[2], history[1], history[3]]]);
  });

  test('a write whose client never heard back may have taken effect, and a later read may see it', () => {
    const history = [put('a', 'x', '1', 0, 10), put('b', 'x', '2', 20, Infinity), get('c', 'x', '2', 500, 510)];
    const result = checkKvHistory(history);
    expect(result.verdict).toBe('linearizable');
    expect(result.linearization).toEqual([[history[0], history[1], history[2]]]);
  });

  test('compare-and-set chains', () => {
    const history = [put('a', 'x', '1', 0, 10), cas('b', 'x', '1', '2', true, 20, 30), cas('c', 'x', '1', '3', false, 40, 50, '2'), get('a', 'x', '2', 60, 70)];
    expect(checkKvHistory(history).verdict).toBe('linearizable');
  });

  test('keys are checked apart', () => {
    const history = [put('a', 'x', '1', 0, 10), put('a', 'y', '1', 0, 10), get('b', 'y', '1', 20, 30)];
    expect(checkKvHistory(history)).toMatchObject({ verdict: 'linearizable', partitions: 2 });
  });
});

describe('histories that are not linearizable', () => {
  test('the classic stale read from a deposed leader: a read after a completed write returns the old value', () => {
    // S1, cut off, still believes it leads and answers from its own state; S2's leader already took the write.
    const history = [put('a', 'x', 'old', 0, 10), put('b', 'x', 'new', 100, 120), get('c', 'x', 'old', 130, 135)];
    const result = checkKvHistory(history);
    expect(result.verdict).toBe('not-linearizable');
    expect(result.explanation).toContain('get(x) → old returned at 135 ms, but put(x, new) completed at 120 ms');
    expect(result.violation?.key).toBe('x');
  });

  test('a value nobody wrote', () => {
    expect(checkKvHistory([put('a', 'x', '1', 0, 10), get('b', 'x', '7', 20, 30)]).verdict).toBe('not-linearizable');
  });

  test('two reads that disagree on the order of two writes', () => {
    const history = [
      put('a', 'x', '1', 0, 100),
      put('b', 'x', '2', 0, 100),
      get('c', 'x', '1', 110, 120),
      get('d', 'x', '2', 130, 140),
      get('c', 'x', '1', 150, 160),
    ];
    expect(checkKvHistory(history).verdict).toBe('not-linearizable');
  });

  test('a compare-and-set that succeeded although the value was not the one it expected', () => {
    const history = [put('a', 'x', '1', 0, 10), cas('b', 'x', '5', '6', true, 20, 30)];
    expect(checkKvHistory(history).verdict).toBe('not-linearizable');
  });
});

test('a search budget too small for the history answers unknown instead of hanging', () => {
  // Many concurrent writes of distinct values and reads that pin nothing down: a large search space.
  const history: KvOperation[] = [];
  for (let i = 0; i < 40; i++) history.push(put(`w${i}`, 'x', `v${i}`, 0, 1000));
  for (let i = 0; i < 40; i++) history.push(get(`r${i}`, 'x', `v${39 - i}`, 0, 1000));
  history.push(get('last', 'x', 'nobody-wrote-this', 2000, 2010));
  const result = checkKvHistory(history, { stepsMax: 10_000, explain: false });
  expect(result.verdict).toBe('unknown');
  expect(result.steps).toBeLessThanOrEqual(10_000 + 4096);
});
