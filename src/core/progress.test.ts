import { describe, expect, it } from 'vitest';
import { Progress } from './progress.ts';

/** A follower's progress as a new leader with `lastIndex` entries first sees it (Figure 2: nextIndex = last + 1). */
const fresh = (lastIndex = 5, inflightMax = 3) => new Progress(2, lastIndex, inflightMax);

/** A progress in replicate state, matching at `match`. */
function replicating(match: number, inflightMax = 3): Progress {
  const pr = fresh(match, inflightMax);
  pr.acknowledge(match);
  pr.becomeReplicate();
  return pr;
}

describe('Progress: probe state', () => {
  it('starts probing right after the leader’s last index, knowing no match', () => {
    const pr = fresh(5);
    expect(pr).toMatchObject({ id: 2, match: 0, next: 6, state: 'probe', probeSent: false, recentActive: false });
    expect(pr.canSend()).toBe(true);
  });

  it('sends one probe at a time', () => {
    const pr = fresh(5);
    pr.onSent(5, 0, 0);
    expect(pr.canSend()).toBe(false);
    expect(pr.next).toBe(6); // a probe does not move next
    expect(pr.inflight).toEqual([]);
  });

  it('a rejection of the current probe moves next back, to the hint when it is lower, and allows another probe', () => {
    const pr = fresh(10);
    pr.onSent(10, 0, 0);
    expect(pr.reject(10, 4)).toBe(true);
    expect(pr.next).toBe(4);
    expect(pr.canSend()).toBe(true);
    pr.onSent(3, 0, 0);
    expect(pr.reject(3, 99)).toBe(true); // a hint above the rejected index: retry just below
    expect(pr.next).toBe(3);
  });

  it('never moves next to or below a known match', () => {
    const pr = fresh(10);
    pr.acknowledge(4);
    pr.becomeProbe();
    expect(pr.next).toBe(5);
    pr.onSent(4, 0, 0);
    expect(pr.reject(4, 1)).toBe(true);
    expect(pr.next).toBe(5);
  });

  it('ignores a rejection that does not answer the current probe', () => {
    const pr = fresh(10);
    pr.onSent(10, 0, 0);
    expect(pr.reject(7, 2)).toBe(false);
    expect(pr.next).toBe(11);
    expect(pr.canSend()).toBe(false);
  });

  it('a success records the match and allows the next send', () => {
    const pr = fresh(5);
    pr.onSent(5, 0, 0);
    expect(pr.acknowledge(5)).toBe(true);
    expect(pr).toMatchObject({ match: 5, next: 6, probeSent: false });
    expect(pr.canSend()).toBe(true);
  });

  it('a heartbeat answer lets another probe go (the last one may have been lost)', () => {
    const pr = fresh(5);
    pr.onSent(5, 0, 0);
    pr.onHeartbeatResponse();
    expect(pr.canSend()).toBe(true);
  });
});

describe('Progress: replicate state', () => {
  it('becomeReplicate streams from right after the match', () => {
    const pr = replicating(5);
    expect(pr).toMatchObject({ state: 'replicate', match: 5, next: 6 });
    expect(pr.inflight).toEqual([]);
  });

  it('sends optimistically, moving next past each message, up to the in-flight bound', () => {
    const pr = replicating(5, 3);
    pr.onSent(7, 2, 0);
    pr.onSent(9, 2, 0);
    expect(pr.canSend()).toBe(true);
    pr.onSent(10, 1, 0);
    expect(pr.next).toBe(11);
    expect(pr.inflight).toEqual([7, 9, 10]);
    expect(pr.canSend()).toBe(false);
  });

  it('an empty message takes no in-flight slot', () => {
    const pr = replicating(5, 1);
    pr.onSent(5, 0, 0);
    expect(pr.inflight).toEqual([]);
    expect(pr.canSend()).toBe(true);
  });

  it('an acknowledgement frees every slot at or below its index', () => {
    const pr = replicating(5, 3);
    pr.onSent(7, 2, 0);
    pr.onSent(9, 2, 0);
    pr.onSent(10, 1, 0);
    expect(pr.acknowledge(9)).toBe(true);
    expect(pr.inflight).toEqual([10]);
    expect(pr.match).toBe(9);
    expect(pr.next).toBe(11);
    expect(pr.canSend()).toBe(true);
  });

  it('an old, reordered acknowledgement does not move match back, and tells nothing new unless it frees a slot', () => {
    const pr = replicating(5, 3);
    pr.onSent(7, 2, 0);
    pr.onSent(9, 2, 0);
    expect(pr.acknowledge(9)).toBe(true);
    expect(pr.acknowledge(7)).toBe(false);
    expect(pr.match).toBe(9);
    expect(pr.next).toBe(10);
  });

  it('ignores a stale rejection about an index already known to match', () => {
    const pr = replicating(5, 3);
    pr.onSent(7, 2, 0);
    pr.acknowledge(7);
    expect(pr.reject(6, 1)).toBe(false);
    expect(pr).toMatchObject({ state: 'replicate', match: 7, next: 8 });
  });

  it('a real rejection drops back to probe, resuming at the hint but above the match', () => {
    const pr = replicating(5, 3);
    pr.onSent(7, 2, 0);
    pr.onSent(9, 2, 0);
    expect(pr.reject(7, 6)).toBe(true);
    expect(pr).toMatchObject({ state: 'probe', match: 5, next: 6, probeSent: false });
    expect(pr.inflight).toEqual([]);
    const again = replicating(5, 3);
    again.onSent(9, 4, 0);
    expect(again.reject(9, 2)).toBe(true);
    expect(again.next).toBe(6);
  });

  it('a heartbeat answer with every slot taken lets one more message go', () => {
    const pr = replicating(5, 2);
    pr.onSent(6, 1, 0);
    pr.onSent(7, 1, 0);
    expect(pr.canSend()).toBe(false);
    pr.onHeartbeatResponse();
    expect(pr.canSend()).toBe(true);
    expect(pr.inflight).toHaveLength(1);
  });

  it('needsProbe: only when nothing is in flight, or the oldest message has had a heartbeat interval to be answered', () => {
    const pr = replicating(5, 3);
    expect(pr.needsProbe(0, 50)).toBe(true); // nothing in flight, yet the follower is behind: ask
    pr.onSent(6, 1, 100);
    pr.onSent(7, 1, 130);
    expect(pr.needsProbe(149, 50)).toBe(false); // still on its way
    expect(pr.needsProbe(150, 50)).toBe(true); // may be lost
    pr.acknowledge(6);
    expect(pr.needsProbe(150, 50)).toBe(false); // the oldest one left is from 130
    expect(pr.needsProbe(180, 50)).toBe(true);
    pr.acknowledge(7);
    expect(pr.needsProbe(180, 50)).toBe(true);
  });

  it('needsProbe is always true in probe state', () => {
    const pr = fresh(5);
    pr.onSent(5, 0, 100);
    expect(pr.needsProbe(100, 50)).toBe(true);
  });

  it('becomeProbe and becomeReplicate both restart from right after the match and clear the pipeline', () => {
    const pr = replicating(5, 3);
    pr.onSent(8, 3, 0);
    pr.becomeProbe();
    expect(pr).toMatchObject({ state: 'probe', next: 6 });
    expect(pr.inflight).toEqual([]);
    pr.acknowledge(8);
    pr.becomeReplicate();
    expect(pr).toMatchObject({ state: 'replicate', match: 8, next: 9 });
  });
});
