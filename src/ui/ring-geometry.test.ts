import { describe, expect, test } from 'vitest';
import type { Message } from '../core/types.ts';
import type { LiveLink } from '../playground/live-cluster.ts';
import {
  currentGroups,
  dropZones,
  formatClockRate,
  isolateGroups,
  layoutRing,
  linkLabel,
  messageGlyph,
  messagePlacement,
  nextLinkActions,
  nodeLabel,
  partitionAfterDrop,
  RING_HEIGHT,
  RING_WIDTH,
  timerArcPath,
  timerFraction,
  trimSegment,
  voteTally,
  workingDirection,
  zoneAt,
  zonePath,
} from './ring-geometry.ts';

const header = { from: 1, to: 2, term: 3 };

/** Every pair of `ids`, up unless listed in `cut` (as 'a-b' with a < b). */
function links(ids: number[], cut: string[] = []): LiveLink[] {
  const all: LiveLink[] = [];
  for (const a of ids) for (const b of ids) if (a < b) all.push({ a, b, state: cut.includes(`${a}-${b}`) ? 'down' : 'up' });
  return all;
}

describe('layout', () => {
  test('nodes sit evenly on the ring, the first at 12 o\'clock, going clockwise', () => {
    const layout = layoutRing([1, 2, 3, 4]);
    const { center, radius } = layout;
    expect(center.x).toBe(RING_WIDTH / 2);
    expect(center.y).toBeLessThanOrEqual(RING_HEIGHT / 2);
    const p1 = layout.places.get(1)!;
    const p2 = layout.places.get(2)!;
    expect(p1.x).toBeCloseTo(center.x);
    expect(p1.y).toBeCloseTo(center.y - radius);
    expect(p2.x).toBeCloseTo(center.x + radius); // 3 o'clock
    expect(p2.y).toBeCloseTo(center.y);
  });

  test('nodes shrink so that nine of them do not overlap', () => {
    const nine = layoutRing([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const [a, b] = [nine.places.get(1)!, nine.places.get(2)!];
    expect(Math.hypot(a.x - b.x, a.y - b.y)).toBeGreaterThan(2 * nine.nodeRadius + 20);
    expect(layoutRing([1, 2, 3]).nodeRadius).toBe(44);
  });

  test('the whole ring fits in the drawing, with room for labels', () => {
    for (let count = 1; count <= 9; count++) {
      const { places, nodeRadius } = layoutRing(Array.from({ length: count }, (_, i) => i + 1));
      const ys = [...places.values()].map((p) => p.y);
      expect(Math.min(...ys) - nodeRadius - 24).toBeGreaterThanOrEqual(0); // the leader's crown
      expect(Math.max(...ys) + nodeRadius + 36).toBeLessThanOrEqual(RING_HEIGHT); // a candidate's vote tally
    }
  });

  test('trimSegment runs rim to rim', () => {
    const { from, to } = trimSegment({ x: 0, y: 0 }, { x: 100, y: 0 }, 10);
    expect(from).toEqual({ x: 10, y: 0 });
    expect(to).toEqual({ x: 90, y: 0 });
  });
});

describe('nodes', () => {
  test('the accessible name follows SPEC §7', () => {
    expect(nodeLabel({ id: 3, role: 'leader', term: 4, status: 'up' })).toBe('S3, leader, term 4');
    expect(nodeLabel({ id: 2, role: 'follower', term: 4, status: 'down' })).toBe('S2, follower, term 4, down');
  });

  test('the election timer counts down from 1 to 0 and is clamped', () => {
    expect(timerFraction(1300, 200, 1200)).toBeCloseTo(0.5);
    expect(timerFraction(1300, 200, 1100)).toBe(1);
    expect(timerFraction(1300, 200, 1400)).toBe(0);
    expect(timerFraction(null, 200, 1400)).toBeNull();
  });

  test('a node whose clock runs fast has a timer that runs out sooner in page time', () => {
    // 200 ms of its own time is 100 ms of page time at twice the speed.
    expect(timerFraction(1250, 200, 1200, 2)).toBeCloseTo(0.5);
    expect(formatClockRate(1.5)).toBe('×1.5 clock');
    expect(formatClockRate(1)).toBeNull();
  });

  test('the timer arc is a d3 arc path, empty when the time is up', () => {
    expect(timerArcPath(0.5, 40, 46)).toMatch(/^M/);
    expect(timerArcPath(0, 40, 46)).not.toMatch(/A/);
  });

  test('a candidate shows the votes it holds out of the voters', () => {
    const candidate = { role: 'candidate' as const, status: 'up' as const, votesGranted: [1, 3], voters: [1, 2, 3, 4, 5] };
    expect(voteTally(candidate, 5)).toEqual({ granted: 2, total: 5, label: '2/5 votes' });
    expect(voteTally({ ...candidate, role: 'precandidate' }, 5)?.label).toBe('2/5 pre-votes');
    expect(voteTally({ ...candidate, role: 'follower' }, 5)).toBeNull();
    expect(voteTally({ ...candidate, status: 'down' }, 5)).toBeNull();
  });
});

describe('links', () => {
  const link = (state: LiveLink['state']): LiveLink => ({ a: 1, b: 2, state });

  test('a click cycles a link: up → one way cut → both ways cut → mended', () => {
    expect(nextLinkActions(link('up'), null)).toEqual([{ do: 'cut', from: 1, to: 2 }]);
    expect(nextLinkActions(link('one-way'), { from: 2, to: 1 })).toEqual([{ do: 'cut', from: 2, to: 1 }]);
    expect(nextLinkActions(link('down'), null)).toEqual([
      { do: 'mend', from: 1, to: 2 },
      { do: 'mend', from: 2, to: 1 },
    ]);
  });

  test('a one-way link whose working direction is unknown is cut both ways', () => {
    expect(nextLinkActions(link('one-way'), null)).toEqual([
      { do: 'cut', from: 1, to: 2 },
      { do: 'cut', from: 2, to: 1 },
    ]);
  });

  test('the working direction of a one-way link comes from the network', () => {
    const cut = new Set(['1>2']);
    const isCut = (from: number, to: number) => cut.has(`${from}>${to}`);
    expect(workingDirection(link('one-way'), isCut)).toEqual({ from: 2, to: 1 });
    expect(workingDirection(link('up'), isCut)).toBeNull();
    expect(workingDirection(link('one-way'), null)).toBeNull();
  });

  test('a link says its state and what a click does', () => {
    expect(linkLabel(link('up'), null)).toBe('link S1–S2, up; click to cut');
    expect(linkLabel(link('one-way'), { from: 2, to: 1 })).toBe('link S1–S2, one-way: only S2→S1 gets through; click to cut both ways');
    expect(linkLabel(link('down'), null)).toBe('link S1–S2, down; click to mend');
  });
});

describe('messages', () => {
  const from = { x: 0, y: 0 };
  const to = { x: 200, y: 0 };

  test('a message moves along its link by the share of its flight time passed', () => {
    const timing = { sentAt: 100, deliverAt: 200 };
    const start = messagePlacement(timing, 100, from, to, 40);
    const middle = messagePlacement(timing, 150, from, to, 40);
    const end = messagePlacement(timing, 250, from, to, 40);
    expect(start.progress).toBe(0);
    expect(start.x).toBeCloseTo(44);
    expect(middle.x).toBeCloseTo(100);
    expect(end.progress).toBe(1);
    expect(end.x).toBeCloseTo(156);
    expect(middle.opacity).toBe(1);
  });

  test('a reply travels on the other side of the link from its request', () => {
    const timing = { sentAt: 0, deliverAt: 10 };
    const there = messagePlacement(timing, 5, from, to, 40);
    const back = messagePlacement(timing, 5, to, from, 40);
    expect(Math.sign(there.y)).toBe(-Math.sign(back.y));
    expect(there.angleDegrees).toBeCloseTo(0);
    expect(Math.abs(back.angleDegrees)).toBeCloseTo(180);
  });

  test('a lost message stays where it died and fades', () => {
    const timing = { sentAt: 0, deliverAt: 100, dropped: { at: 50 } };
    const later = messagePlacement(timing, 70, from, to, 40);
    expect(later.progress).toBeCloseTo(0.5);
    expect(later.opacity).toBeCloseTo(0.5);
    expect(messagePlacement(timing, 500, from, to, 40).opacity).toBe(0.15);
  });

  test('each type has its own shape, and responses say yes or no', () => {
    const vote: Message = { ...header, type: 'RequestVote', lastLogIndex: 0, lastLogTerm: 0, transfer: false };
    expect(messageGlyph(vote)).toMatchObject({ shape: 'diamond', response: false, dashed: false });
    expect(messageGlyph({ ...header, type: 'PreVote', lastLogIndex: 0, lastLogTerm: 0 })).toMatchObject({ shape: 'diamond', dashed: true });
    expect(messageGlyph({ ...header, type: 'RequestVoteResponse', granted: true, reason: 'granted' })).toMatchObject({ response: true, outcome: 'ok' });
    expect(messageGlyph({ ...header, type: 'PreVoteResponse', granted: false, reason: 'log-behind' })).toMatchObject({ outcome: 'denied' });
    expect(messageGlyph({ ...header, type: 'InstallSnapshot', lastIncludedIndex: 5, lastIncludedTerm: 1, config: { voters: [1], learners: [] }, offset: 0, data: '', done: true })).toMatchObject({ shape: 'square', text: 'S' });
    expect(messageGlyph({ ...header, type: 'TimeoutNow' }).shape).toBe('triangle');
    expect(messageGlyph({ ...header, type: 'ReadIndex', context: 1 })).toMatchObject({ shape: 'pill', text: 'R' });
    expect(messageGlyph({ ...header, type: 'ReadIndexResponse', context: 1, index: 0, ok: false }).outcome).toBe('denied');
  });

  test('an AppendEntries with entries shows the count; without entries it is a heartbeat', () => {
    const entry = { index: 1, term: 3, type: 'noop' as const, data: '' };
    const append: Message = { ...header, type: 'AppendEntries', prevLogIndex: 0, prevLogTerm: 0, entries: [entry, { ...entry, index: 2 }], leaderCommit: 0 };
    expect(messageGlyph(append)).toMatchObject({ shape: 'rect', text: '2' });
    expect(messageGlyph({ ...append, entries: [] })).toMatchObject({ shape: 'circle', text: null });
    expect(messageGlyph({ ...header, type: 'Heartbeat', leaderCommit: 0, round: 1 }).shape).toBe('circle');
    expect(messageGlyph({ ...header, type: 'HeartbeatResponse', round: 1 })).toMatchObject({ response: true, outcome: null });
    expect(
      messageGlyph({ ...header, type: 'AppendEntriesResponse', success: false, matchIndex: 0, conflictTerm: 0, conflictIndex: 1, reason: 'missing-entry' }).outcome,
    ).toBe('denied');
  });
});

describe('partition by dragging', () => {
  const ids = [1, 2, 3, 4, 5];
  const { center } = layoutRing(ids);
  const zones = dropZones(ids.length);

  test('three zones for five nodes, two halves for three; each is an arc sector', () => {
    expect(zones.map((z) => z.name)).toEqual(['Group A', 'Group B', 'Group C']);
    expect(dropZones(3).map((z) => z.name)).toEqual(['Group A', 'Group B']);
    expect(zonePath(zones[0]!, 260)).toMatch(/^M/);
  });

  test('a drop point falls in the zone of its direction, or cancels at the centre', () => {
    expect(zoneAt({ x: center.x - 200, y: center.y - 100 }, center, zones)).toBe(0); // top left
    expect(zoneAt({ x: center.x + 200, y: center.y - 100 }, center, zones)).toBe(1); // top right
    expect(zoneAt({ x: center.x, y: center.y + 200 }, center, zones)).toBe(2); // bottom
    expect(zoneAt({ x: center.x + 5, y: center.y + 5 }, center, zones)).toBeNull();
    const halves = dropZones(3);
    expect(zoneAt({ x: center.x - 100, y: center.y }, center, halves)).toBe(0);
    expect(zoneAt({ x: center.x + 100, y: center.y }, center, halves)).toBe(1);
  });

  test('with every link up, everyone is in the first group', () => {
    expect([...currentGroups(ids, links(ids), 3, null).values()]).toEqual([0, 0, 0, 0, 0]);
  });

  test('dragging the leader away isolates it in a minority', () => {
    const groups = currentGroups(ids, links(ids), 3, null);
    const drop = partitionAfterDrop(ids, groups, 1, 1, 3)!;
    expect(drop.action).toEqual({ do: 'partition', groups: [[2, 3, 4, 5], [1]] });
  });

  test('a second node dragged to the same side joins the first', () => {
    const first = partitionAfterDrop(ids, currentGroups(ids, links(ids), 3, null), 1, 1, 3)!;
    // The network now has S1 cut off from everyone; the remembered groups agree with it.
    const after = links(ids, ['1-2', '1-3', '1-4', '1-5']);
    const groups = currentGroups(ids, after, 3, first.assignment);
    expect(partitionAfterDrop(ids, groups, 2, 1, 3)!.action).toEqual({ do: 'partition', groups: [[3, 4, 5], [1, 2]] });
  });

  test('without a remembered partition the groups are read from the links', () => {
    const after = links(ids, ['1-2', '1-3', '2-4', '2-5', '1-4', '1-5', '3-4', '3-5', '2-3']);
    // S1 | S2 | S3 | S4–S5: more islands than zones; the rest share the last zone.
    expect([...currentGroups(ids, after, 3, null).entries()]).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
      [4, 2],
      [5, 2],
    ]);
    // A remembered partition that the links contradict (healed since) is forgotten.
    const remembered = new Map([[1, 1], [2, 0], [3, 0], [4, 0], [5, 0]]);
    expect([...currentGroups(ids, links(ids), 3, remembered).values()]).toEqual([0, 0, 0, 0, 0]);
  });

  test('dropping a node back with everyone else heals; dropping it where it is does nothing', () => {
    const split = new Map([[1, 1], [2, 0], [3, 0], [4, 0], [5, 0]]);
    expect(partitionAfterDrop(ids, split, 1, 0, 3)!.action).toEqual({ do: 'heal' });
    expect(partitionAfterDrop(ids, split, 1, 1, 3)).toBeNull();
  });

  test('isolating a node puts it alone against the rest', () => {
    expect(isolateGroups(ids, 3)).toEqual([[3], [1, 2, 4, 5]]);
  });
});
