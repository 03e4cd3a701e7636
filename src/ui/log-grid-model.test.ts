import { describe, expect, it } from 'vitest';
import type { LiveNode, LogCell } from '../playground/live-cluster.ts';
import {
  cellAt,
  chooseLogWindow,
  findLeader,
  gridFit,
  LOG_GRID_COLUMNS,
  placeMarkers,
  ROW_REM,
  rowMarkers,
  shortLabel,
  showsIndexLabel,
  termTone,
  TERM_TONES,
  windowIndexes,
} from './log-grid-model.ts';

function cells(first: number, terms: readonly number[]): LogCell[] {
  return terms.map((term, i) => ({ index: first + i, term, type: 'command', label: `put k${first + i}=1` }));
}

function liveNode(overrides: Partial<LiveNode> & Pick<LiveNode, 'id'>): LiveNode {
  const log = overrides.log ?? [];
  return {
    status: 'up',
    role: 'follower',
    term: 1,
    votedFor: 0,
    snapshotIndex: 0,
    snapshotTerm: 0,
    lastIndex: log.length > 0 ? log[log.length - 1]!.index : 0,
    log,
    leader: 0,
    commitIndex: 0,
    lastApplied: 0,
    voters: [1, 2, 3],
    learners: [],
    electionDeadlineMs: null,
    electionTimeoutMs: 300,
    votesGranted: [],
    progress: [],
    clockRate: 1,
    ...overrides,
  };
}

describe('chooseLogWindow: the indexes the grid shows', () => {
  it('shows index 1 and the empty next slot when every log is empty', () => {
    expect(chooseLogWindow([{ lastIndex: 0 }, { lastIndex: 0 }], 20)).toEqual({ first: 1, last: 1 });
  });

  it('ends one past the longest log, so every row aligns on the same indexes', () => {
    expect(chooseLogWindow([{ lastIndex: 3 }, { lastIndex: 7 }, { lastIndex: 5 }], 20)).toEqual({ first: 1, last: 8 });
  });

  it('keeps the newest indexes of a long log, moving on by half the width at a time', () => {
    const window = chooseLogWindow([{ lastIndex: 109 }, { lastIndex: 40 }], 20);
    expect(window).toEqual({ first: 91, last: 110 });
    expect(windowIndexes(window)).toHaveLength(20);
    // One more entry: the window moves on by 10, and the next nine entries go into it without moving it.
    expect(chooseLogWindow([{ lastIndex: 110 }], 20)).toEqual({ first: 101, last: 111 });
    expect(chooseLogWindow([{ lastIndex: 119 }], 20)).toEqual({ first: 101, last: 120 });
    expect(chooseLogWindow([{ lastIndex: 120 }], 20)).toEqual({ first: 111, last: 121 });
    for (let lastIndex = 0; lastIndex < 300; lastIndex++) {
      const { first, last } = chooseLogWindow([{ lastIndex }], 20);
      expect(last - first + 1).toBeLessThanOrEqual(20);
      expect(last).toBe(lastIndex + 1);
    }
  });

  it('refuses a column count that is not a positive whole number', () => {
    expect(() => chooseLogWindow([], 0)).toThrow(/columns/);
  });
});

describe('cellAt: what one cell holds', () => {
  const node = liveNode({ id: 2, log: cells(5, [1, 1, 2, 3]), snapshotIndex: 4, snapshotTerm: 1, commitIndex: 6 });

  it('draws an index inside the snapshot as compacted, knowing the term only at the snapshot index (§7)', () => {
    expect(cellAt(node, 3)).toEqual({ kind: 'compacted', term: null });
    expect(cellAt(node, 4)).toEqual({ kind: 'compacted', term: 1 });
  });

  it('marks an entry committed up to the node’s own commitIndex', () => {
    expect(cellAt(node, 6)).toMatchObject({ kind: 'entry', committed: true, entry: { index: 6, term: 1 } });
    expect(cellAt(node, 7)).toMatchObject({ kind: 'entry', committed: false, entry: { index: 7, term: 2 } });
  });

  it('marks an entry of a down node as commit unknown, not as uncommitted: its commitIndex is volatile (Figure 2)', () => {
    const down = liveNode({ id: 3, status: 'down', log: cells(5, [1, 1, 2, 3]), snapshotIndex: 4, snapshotTerm: 1, commitIndex: 0 });
    expect(cellAt(down, 5)).toMatchObject({ kind: 'entry', committed: false, commitKnown: false, entry: { index: 5, term: 1 } });
    expect(cellAt(down, 8)).toMatchObject({ kind: 'entry', committed: false, commitKnown: false, entry: { index: 8, term: 3 } });
    // The snapshot survives the crash and holds only committed entries.
    expect(cellAt(down, 4)).toEqual({ kind: 'compacted', term: 1 });
    expect(cellAt(down, 9)).toEqual({ kind: 'empty' });
    // Up again, it knows its commitIndex once more (from the snapshot at first, then from the leader).
    expect(cellAt({ ...down, status: 'up', commitIndex: 6 }, 6)).toMatchObject({ committed: true, commitKnown: true });
  });

  it('knows the commit of an up node’s entries either way', () => {
    expect(cellAt(node, 6)).toMatchObject({ commitKnown: true });
    expect(cellAt(node, 7)).toMatchObject({ commitKnown: true });
  });

  it('leaves the cells past the node’s last index empty', () => {
    expect(cellAt(node, 9)).toEqual({ kind: 'empty' });
  });

  it('leaves empty an index older than the entries the view carries', () => {
    const partial = liveNode({ id: 1, log: cells(50, [4, 4]), lastIndex: 51 });
    expect(cellAt(partial, 10)).toEqual({ kind: 'empty' });
  });
});

describe('termTone and shortLabel', () => {
  it('cycles terms through the palette', () => {
    expect(termTone(1)).toBe(1);
    expect(termTone(TERM_TONES + 1)).toBe(1);
    expect(new Set([1, 2, 3, 4, 5, 6, 7].map(termTone)).size).toBe(TERM_TONES);
  });

  it('fits a label in a cell, keeping short puts whole', () => {
    expect(shortLabel({ type: 'command', label: 'put x=1' })).toBe('x=1');
    expect(shortLabel({ type: 'command', label: 'put counter=12' })).toBe('put');
    expect(shortLabel({ type: 'noop', label: 'no-op' })).toBe('nop');
    expect(shortLabel({ type: 'config', label: 'voters S1 S2 S3' })).toBe('cfg');
    expect(shortLabel({ type: 'command', label: 'enqueue jobs' })).toBe('enq');
  });
});

describe('markers: commitIndex, lastApplied, and the leader’s matchIndex and nextIndex (§5.3)', () => {
  const leader = liveNode({
    id: 1,
    role: 'leader',
    progress: [
      { id: 2, next: 8, match: 7, state: 'replicate' },
      { id: 3, next: 3, match: 0, state: 'probe' },
    ],
  });

  it('puts a follower’s own indexes and the leader’s view of it on its row', () => {
    const follower = liveNode({ id: 2, commitIndex: 6, lastApplied: 5 });
    expect(rowMarkers(follower, leader)).toEqual([
      { kind: 'commit', index: 6 },
      { kind: 'applied', index: 5 },
      { kind: 'match', index: 7 },
      { kind: 'next', index: 8 },
    ]);
  });

  it('gives a down node no volatile markers, but keeps what the leader knows of it', () => {
    const down = liveNode({ id: 3, status: 'down', commitIndex: 0, lastApplied: 0 });
    expect(rowMarkers(down, leader)).toEqual([{ kind: 'next', index: 3 }]);
  });

  it('shows no progress on the leader’s own row', () => {
    expect(rowMarkers({ ...leader, commitIndex: 4, lastApplied: 4 }, leader)).toEqual([
      { kind: 'commit', index: 4 },
      { kind: 'applied', index: 4 },
    ]);
  });

  it('groups markers by column and sets aside those left of the window', () => {
    const placed = placeMarkers(
      [
        { kind: 'commit', index: 3 },
        { kind: 'applied', index: 12 },
        { kind: 'match', index: 12 },
      ],
      { first: 10, last: 29 },
    );
    expect(placed.outside).toEqual([{ kind: 'commit', index: 3 }]);
    expect(placed.byIndex.get(12)?.map((m) => m.kind)).toEqual(['applied', 'match']);
  });

  it('finds the leader only when it is up and leading', () => {
    expect(findLeader([leader], 1)).toBe(leader);
    expect(findLeader([{ ...leader, status: 'down' }], 1)).toBeNull();
    expect(findLeader([leader], null)).toBeNull();
  });
});

describe('showsIndexLabel', () => {
  it('labels every short index, and every fifth long one', () => {
    const window = { first: 998, last: 1017 };
    expect(showsIndexLabel(42, { first: 30, last: 49 })).toBe(true);
    expect(showsIndexLabel(998, window)).toBe(true);
    expect(showsIndexLabel(999, window)).toBe(false);
    expect(showsIndexLabel(1000, window)).toBe(true);
  });
});

describe('gridFit: every node’s row shows, with as much in each row as the room allows', () => {
  it('five rows in a tall panel show everything; in less room labels, then markers, give way', () => {
    expect(gridFit(5, 36, 30).density).toBe('full');
    expect(gridFit(5, 36, 5.65 + 5 * ROW_REM.short).density).toBe('short');
    expect(gridFit(9, 36, 17).density).toBe('compact');
  });

  it('a page that scrolls (no height to fit) shows everything', () => {
    expect(gridFit(9, 36, null).density).toBe('full');
  });

  it('columns fill the width: more on a wide screen, never fewer than four', () => {
    expect(gridFit(5, 36, 30).columns).toBe(20);
    expect(gridFit(5, 70, 30).columns).toBeGreaterThan(40);
    expect(gridFit(5, 5, 30).columns).toBe(4);
    expect(gridFit(5, null, 30).columns).toBe(LOG_GRID_COLUMNS);
  });
});
