// Each guarantee of the task queue, checked over hand-written histories that keep it and that break it.
import { describe, expect, test } from 'vitest';
import { checkQueueHistory, type QueueOperation } from './queue-guarantees.ts';

const Q = 'jobs';
const enqueue = (client: string, id: number, callMs: number, returnMs: number): QueueOperation => ({
  client, op: 'enqueue', queue: Q, payload: `p${id}`, callMs, returnMs, result: { ok: true, id },
});
const claim = (worker: string, id: number, attempt: number, grantedAt: number, leaseMs: number, callMs: number, returnMs: number): QueueOperation => ({
  client: worker, op: 'claim', queue: Q, worker, leaseMs, callMs, returnMs,
  result: { ok: true, empty: false, id, attempt, leaseExpiresAt: grantedAt + leaseMs },
});
const ack = (client: string, task: number, callMs: number, returnMs: number, ok = true): QueueOperation => ({
  client, op: 'ack', queue: Q, task, callMs, returnMs, result: ok ? { ok: true } : { ok: false, error: 'lease_expired' },
});
const nack = (client: string, task: number, callMs: number, returnMs: number): QueueOperation => ({
  client, op: 'nack', queue: Q, task, callMs, returnMs, result: { ok: true },
});

describe('an acknowledged task is never handed out again', () => {
  test('kept: claimed, acknowledged, and no later claim returns it', () => {
    const result = checkQueueHistory([enqueue('p', 1, 0, 10), claim('w1', 1, 1, 20, 100, 20, 30), ack('w1', 1, 40, 50)]);
    expect(result).toEqual({ ok: true, problems: [], claims: 1, acks: 1 });
  });

  test('broken: a claim that began after the ack completed gets the task again', () => {
    const result = checkQueueHistory([
      enqueue('p', 1, 0, 10),
      claim('w1', 1, 1, 20, 100, 20, 30),
      ack('w1', 1, 40, 50),
      claim('w2', 1, 2, 200, 100, 200, 210),
    ]);
    expect(result.problems).toEqual(['task 1 of jobs was acknowledged by w1 at 50 ms, yet a claim by w2 that began at 200 ms was handed it again']);
  });
});

describe('while a lease is valid no other worker holds the task', () => {
  test('kept: handed out again after the first lease expired', () => {
    expect(checkQueueHistory([enqueue('p', 1, 0, 10), claim('w1', 1, 1, 20, 100, 20, 30), claim('w2', 1, 2, 130, 100, 125, 140)]).ok).toBe(true);
  });

  test('kept: handed out again early because the holder gave it back first', () => {
    const history = [enqueue('p', 1, 0, 10), claim('w1', 1, 1, 20, 100, 20, 30), nack('w1', 1, 40, 50), claim('w2', 1, 2, 60, 100, 55, 70)];
    expect(checkQueueHistory(history).ok).toBe(true);
  });

  test('broken: handed to another worker while the first lease still ran', () => {
    const result = checkQueueHistory([enqueue('p', 1, 0, 10), claim('w1', 1, 1, 20, 100, 20, 30), claim('w2', 1, 2, 60, 100, 55, 70)]);
    expect(result.problems).toEqual(['task 1 of jobs was handed to w2 at 60 ms while w1\'s lease ran until 120 ms']);
  });

  test('broken: the same attempt handed out twice', () => {
    const result = checkQueueHistory([enqueue('p', 1, 0, 10), claim('w1', 1, 1, 20, 100, 20, 30), claim('w2', 1, 1, 200, 100, 195, 210)]);
    expect(result.problems).toEqual(['task 1 of jobs was handed out twice as attempt 1, to w1 and to w2']);
  });
});

describe('first in, first out among ready tasks', () => {
  test('kept: the oldest ready task goes first', () => {
    expect(checkQueueHistory([enqueue('p', 1, 0, 10), enqueue('p', 2, 11, 20), claim('w1', 1, 1, 30, 100, 30, 40)]).ok).toBe(true);
  });

  test('kept: a skipped task that a concurrent claim took', () => {
    const history = [enqueue('p', 1, 0, 10), enqueue('p', 2, 11, 20), claim('w2', 1, 1, 31, 100, 30, 45), claim('w1', 2, 1, 32, 100, 30, 40)];
    expect(checkQueueHistory(history).ok).toBe(true);
  });

  test('kept: a claim whose outcome is unknown may have taken the older task', () => {
    const unknown: QueueOperation = { client: 'w3', op: 'claim', queue: Q, worker: 'w3', leaseMs: 100, callMs: 25, returnMs: Infinity };
    const history = [enqueue('p', 1, 0, 10), enqueue('p', 2, 11, 20), unknown, claim('w1', 2, 1, 32, 100, 30, 40)];
    expect(checkQueueHistory(history).ok).toBe(true);
  });

  test('broken: a claim skips an older task that nobody took', () => {
    const result = checkQueueHistory([enqueue('p', 1, 0, 10), enqueue('p', 2, 11, 20), claim('w1', 2, 1, 30, 100, 30, 40)]);
    expect(result.problems).toEqual(['a claim by w1 at 30–40 ms was handed task 2 of jobs, skipping task 1, enqueued earlier and never handed out']);
  });
});

describe('an acknowledged task is never lost', () => {
  const stats = (done: number, callMs: number, returnMs: number): QueueOperation => ({
    client: 'ui', op: 'stats', queue: Q, callMs, returnMs, result: { ok: true, pending: 0, claimed: 0, done, dead: 0 },
  });

  test('kept: a later stats read counts every completed acknowledgement, and a concurrent one need not', () => {
    const history = [enqueue('p', 1, 0, 10), enqueue('p', 2, 0, 10), claim('w1', 1, 1, 20, 100, 20, 30), claim('w2', 2, 1, 20, 100, 20, 30)];
    const acked = [ack('w1', 1, 40, 50), ack('w2', 2, 40, 80)];
    expect(checkQueueHistory([...history, ...acked, stats(1, 60, 70), stats(2, 90, 95)]).ok).toBe(true);
  });

  test('broken: a stats read after two acknowledgements counts one done task', () => {
    const history = [
      enqueue('p', 1, 0, 10),
      enqueue('p', 2, 0, 10),
      claim('w1', 1, 1, 20, 100, 20, 30),
      claim('w2', 2, 1, 20, 100, 20, 30),
      ack('w1', 1, 40, 50),
      ack('w2', 2, 40, 60),
      stats(1, 90, 95),
    ];
    expect(checkQueueHistory(history).problems).toEqual([
      'a stats read of jobs by ui at 90–95 ms counted 1 done tasks, but 2 acknowledgements had completed before it began (tasks 1, 2): an acknowledged task was lost',
    ]);
  });

  test('a failed or unanswered acknowledgement does not count', () => {
    const unanswered: QueueOperation = { client: 'w2', op: 'ack', queue: Q, task: 2, callMs: 40, returnMs: Infinity };
    const history = [enqueue('p', 1, 0, 10), claim('w1', 1, 1, 20, 100, 20, 30), ack('w1', 1, 40, 50, false), unanswered, stats(0, 90, 95)];
    expect(checkQueueHistory(history).ok).toBe(true);
  });
});
