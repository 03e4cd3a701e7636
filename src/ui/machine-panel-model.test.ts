import { describe, expect, it } from 'vitest';
import type { MachineView } from '../worker/node.worker.ts';
import { chooseQueueSource, compareKv, LeaseLengths, leaseFraction, takeChips, takeLatestChips } from './machine-panel-model.ts';

function machine(kv: Record<string, string>): MachineView {
  return { kv: Object.entries(kv), queues: [], hash: '' };
}

describe('compareKv: the key-value tables side by side', () => {
  it('marks a key on which the running nodes agree, and one on which they differ', () => {
    const { rows, hidden } = compareKv({ 1: machine({ a: '1', b: '2' }), 2: machine({ a: '1', b: '1' }) }, [1, 2, 3]);
    expect(hidden).toBe(0);
    expect(rows.map((r) => [r.key, r.agrees])).toEqual([
      ['a', true],
      ['b', false],
    ]);
    // S3 is down (no machine): it neither agrees nor differs, its cells are empty.
    expect(rows[0]!.values.get(3)).toBeUndefined();
  });

  it('counts a key that one node lacks as a difference', () => {
    const { rows } = compareKv({ 1: machine({ a: '1' }), 2: machine({}) }, [1, 2]);
    expect(rows[0]).toMatchObject({ key: 'a', agrees: false });
  });

  it('shows the differing keys first when there are too many, sorted by key', () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 10; i++) many[`k${i}`] = String(i);
    const { rows, hidden } = compareKv({ 1: machine(many), 2: machine({ ...many, k9: 'other' }) }, [1, 2], 3);
    expect(hidden).toBe(7);
    expect(rows.map((r) => r.key)).toEqual(['k0', 'k1', 'k9']);
  });
});

describe('chooseQueueSource', () => {
  const machines = { 2: machine({}), 4: machine({}) };

  it('prefers the selected node, then the leader, then the lowest running node', () => {
    expect(chooseQueueSource(machines, 2, 4)).toBe(4);
    expect(chooseQueueSource(machines, 2, 3)).toBe(2);
    expect(chooseQueueSource(machines, 5, null)).toBe(2);
    expect(chooseQueueSource({}, 1, 1)).toBeNull();
  });
});

describe('leases', () => {
  it('shrinks the bar from the longest remainder seen for that claim', () => {
    const lengths = new LeaseLengths();
    expect(lengths.observe('q', 1, 1, 400)).toBe(400);
    expect(leaseFraction(100, lengths.observe('q', 1, 1, 100))).toBe(0.25);
    // A new attempt is a new lease.
    expect(lengths.observe('q', 1, 2, 200)).toBe(200);
  });

  it('clamps the fraction to 0..1', () => {
    expect(leaseFraction(-5, 100)).toBe(0);
    expect(leaseFraction(150, 100)).toBe(1);
    expect(leaseFraction(10, 0)).toBe(0);
  });

  it('forgets everything past its bound rather than growing', () => {
    const lengths = new LeaseLengths(2);
    lengths.observe('q', 1, 1, 50);
    lengths.observe('q', 2, 1, 50);
    lengths.observe('q', 3, 1, 50);
    expect(lengths.observe('q', 1, 1, 10)).toBe(10);
  });
});

describe('lane chips', () => {
  it('shows the first of a pending lane and counts the rest from the exact count', () => {
    expect(takeChips([1, 2, 3, 4], 9, 2)).toEqual({ shown: [1, 2], more: 7 });
  });

  it('shows the latest of a done lane', () => {
    expect(takeLatestChips([1, 2, 3, 4], 120, 2)).toEqual({ shown: [3, 4], more: 118 });
  });
});
