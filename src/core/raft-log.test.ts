import { describe, expect, it } from 'vitest';
import { RaftLog } from './raft-log.ts';
import type { Entry } from './types.ts';

function entry(index: number, term: number, data = `t${term}i${index}`): Entry {
  return { index, term, type: 'command', data };
}

/** Entries of the given terms at indexes first, first + 1, ... */
function entriesFrom(first: number, ...terms: number[]): Entry[] {
  return terms.map((term, i) => entry(first + i, term));
}

describe('RaftLog: reading', () => {
  it('an empty log ends at index 0, term 0', () => {
    const log = new RaftLog(0, 0, []);
    expect(log.firstIndex()).toBe(1);
    expect(log.lastIndex()).toBe(0);
    expect(log.lastTerm()).toBe(0);
    expect(log.termAt(0)).toBe(0);
    expect(log.termAt(1)).toBeUndefined();
    expect(log.entryAt(1)).toBeUndefined();
  });

  it('termAt and entryAt answer for held entries and the snapshot point, and not beyond', () => {
    const log = new RaftLog(5, 3, entriesFrom(6, 3, 4, 4));
    expect(log.firstIndex()).toBe(6);
    expect(log.lastIndex()).toBe(8);
    expect(log.lastTerm()).toBe(4);
    expect(log.termAt(5)).toBe(3); // the snapshot's last entry: only its term remains
    expect(log.termAt(4)).toBeUndefined(); // compacted
    expect(log.termAt(7)).toBe(4);
    expect(log.termAt(9)).toBeUndefined();
    expect(log.entryAt(5)).toBeUndefined();
    expect(log.entryAt(6)).toEqual(entry(6, 3));
  });

  it('a stored log skips entries covered by the snapshot and refuses a gap', () => {
    const log = new RaftLog(2, 1, entriesFrom(1, 1, 1, 2, 2));
    expect(log.firstIndex()).toBe(3);
    expect(log.slice(3, 4)).toEqual(entriesFrom(3, 2, 2));
    expect(() => new RaftLog(0, 0, [entry(1, 1), entry(3, 1)])).toThrow(/gap/);
  });

  it('matches compares the term at an index', () => {
    const log = new RaftLog(0, 0, entriesFrom(1, 1, 2));
    expect(log.matches(0, 0)).toBe(true);
    expect(log.matches(2, 2)).toBe(true);
    expect(log.matches(2, 1)).toBe(false);
    expect(log.matches(3, 2)).toBe(false);
  });

  it('firstIndexOfTerm and lastIndexOfTerm find the ends of a run of one term', () => {
    const log = new RaftLog(0, 0, entriesFrom(1, 1, 1, 4, 4, 4, 5, 6));
    expect(log.firstIndexOfTerm(4, 5)).toBe(3);
    expect(log.firstIndexOfTerm(1, 2)).toBe(1);
    expect(log.lastIndexOfTerm(4, 7)).toBe(5);
    expect(log.lastIndexOfTerm(4, 4)).toBe(4); // not beyond the index asked about
    expect(log.lastIndexOfTerm(3, 7)).toBe(0); // no entry of term 3
    expect(log.lastIndexOfTerm(9, 7)).toBe(0);
  });
});

describe('RaftLog: slice', () => {
  const log = new RaftLog(0, 0, [entry(1, 1, 'aaaa'), entry(2, 1, 'bbbb'), entry(3, 1, 'cccc'), entry(4, 2, 'dddddddd'), entry(5, 2, 'e')]);

  it('returns the entries of [from, to], never past the end', () => {
    expect(log.slice(2, 4).map((e) => e.index)).toEqual([2, 3, 4]);
    expect(log.slice(4, 99).map((e) => e.index)).toEqual([4, 5]);
    expect(log.slice(3, 3).map((e) => e.index)).toEqual([3]);
  });

  it('returns at most maxCount entries', () => {
    expect(log.slice(1, 5, 2).map((e) => e.index)).toEqual([1, 2]);
    expect(log.slice(1, 5, 1).map((e) => e.index)).toEqual([1]);
  });

  it('stays within maxBytes of data, but always returns at least one entry', () => {
    expect(log.slice(1, 5, Infinity, 8).map((e) => e.index)).toEqual([1, 2]);
    expect(log.slice(1, 5, Infinity, 11).map((e) => e.index)).toEqual([1, 2]);
    expect(log.slice(1, 5, Infinity, 12).map((e) => e.index)).toEqual([1, 2, 3]);
    expect(log.slice(4, 5, Infinity, 3).map((e) => e.index)).toEqual([4]); // one entry larger than the bound
    expect(log.slice(1, 5, 2, 100).map((e) => e.index)).toEqual([1, 2]); // both bounds: the tighter wins
  });

  it('refuses to slice below the first held index', () => {
    const compacted = new RaftLog(3, 1, entriesFrom(4, 1, 2));
    expect(() => compacted.slice(3, 5)).toThrow();
    expect(compacted.slice(4, 5).map((e) => e.index)).toEqual([4, 5]);
  });
});

describe('RaftLog: isUpToDate (§5.4.1)', () => {
  const log = new RaftLog(0, 0, entriesFrom(1, 1, 1, 2)); // last index 3, last term 2

  it.each([
    { lastIndex: 5, lastTerm: 1, expected: false, why: 'lower last term, longer log' },
    { lastIndex: 2, lastTerm: 2, expected: false, why: 'same last term, shorter log' },
    { lastIndex: 3, lastTerm: 2, expected: true, why: 'same last term, same length' },
    { lastIndex: 4, lastTerm: 2, expected: true, why: 'same last term, longer log' },
    { lastIndex: 1, lastTerm: 3, expected: true, why: 'higher last term, shorter log' },
    { lastIndex: 0, lastTerm: 0, expected: false, why: 'empty log' },
  ])('$why: $expected', ({ lastIndex, lastTerm, expected }) => {
    expect(log.isUpToDate(lastIndex, lastTerm)).toBe(expected);
  });

  it('an empty log is as up-to-date as another empty log', () => {
    expect(new RaftLog(0, 0, []).isUpToDate(0, 0)).toBe(true);
  });

  it('compares against the snapshot point when no entries remain', () => {
    const compacted = new RaftLog(5, 3, []);
    expect(compacted.isUpToDate(5, 3)).toBe(true);
    expect(compacted.isUpToDate(4, 3)).toBe(false);
    expect(compacted.isUpToDate(9, 2)).toBe(false);
  });
});

describe('RaftLog: append and truncate', () => {
  it('append accepts only the next index, in a term no lower than the last', () => {
    const log = new RaftLog(0, 0, entriesFrom(1, 1, 2));
    expect(() => log.append(entry(4, 2))).toThrow();
    expect(() => log.append(entry(2, 2))).toThrow();
    expect(() => log.append(entry(3, 1))).toThrow();
    log.append(entry(3, 2));
    log.append(entry(4, 5));
    expect(log.lastIndex()).toBe(4);
    expect(log.lastTerm()).toBe(5);
  });

  it('truncateFrom removes the entry at the index and every one after it', () => {
    const log = new RaftLog(0, 0, entriesFrom(1, 1, 1, 2, 2));
    log.truncateFrom(3);
    expect(log.lastIndex()).toBe(2);
    expect(log.termAt(3)).toBeUndefined();
    log.append(entry(3, 3));
    expect(log.slice(1, 3)).toEqual([entry(1, 1), entry(2, 1), entry(3, 3)]);
  });

  it('truncateFrom the first held index empties the log down to the snapshot point', () => {
    const log = new RaftLog(2, 1, entriesFrom(3, 2, 2));
    log.truncateFrom(3);
    expect(log.lastIndex()).toBe(2);
    expect(log.lastTerm()).toBe(1);
  });

  it('truncateFrom refuses to cut into the snapshot', () => {
    const log = new RaftLog(2, 1, entriesFrom(3, 2));
    expect(() => log.truncateFrom(2)).toThrow();
  });

  it('truncateFrom past the last index removes nothing', () => {
    const log = new RaftLog(0, 0, entriesFrom(1, 1, 1, 2));
    log.truncateFrom(4);
    expect(log.lastIndex()).toBe(3);
    log.truncateFrom(10);
    expect(log.lastIndex()).toBe(3);
    expect(log.lastTerm()).toBe(2);
  });
});

describe('RaftLog: unstable entries', () => {
  it('entries given to the constructor are stable; appended ones are unstable until stableTo', () => {
    const log = new RaftLog(0, 0, entriesFrom(1, 1, 1));
    expect(log.unstableEntries()).toEqual([]);
    log.append(entry(3, 2));
    log.append(entry(4, 2));
    log.append(entry(5, 2));
    expect(log.unstableEntries().map((e) => e.index)).toEqual([3, 4, 5]);
    log.stableTo(4, 2);
    expect(log.unstableEntries().map((e) => e.index)).toEqual([5]);
    log.stableTo(5, 2);
    expect(log.unstableEntries()).toEqual([]);
  });

  it('stableTo is ignored when the entry at that index has since changed term, or was already stable', () => {
    const log = new RaftLog(0, 0, entriesFrom(1, 1));
    log.append(entry(2, 1));
    log.append(entry(3, 1));
    // The host is persisting [2@1, 3@1] while the log replaces index 3 with a term-2 entry.
    log.truncateFrom(3);
    log.append(entry(3, 2));
    log.stableTo(3, 1);
    expect(log.unstableEntries().map((e) => [e.index, e.term])).toEqual([
      [2, 1],
      [3, 2],
    ]);
    log.stableTo(3, 2);
    expect(log.unstableEntries()).toEqual([]);
    log.stableTo(1, 1); // older than what is already stable: no change
    expect(log.unstableEntries()).toEqual([]);
  });

  it('truncating stable entries makes what replaces them unstable', () => {
    const log = new RaftLog(0, 0, entriesFrom(1, 1, 1, 1));
    log.truncateFrom(2);
    expect(log.unstableEntries()).toEqual([]);
    log.append(entry(2, 2));
    expect(log.unstableEntries()).toEqual([entry(2, 2)]);
  });

  it('unstable entries after a snapshot start at the right index', () => {
    const log = new RaftLog(10, 4, entriesFrom(11, 4));
    log.append(entry(12, 5));
    expect(log.unstableEntries()).toEqual([entry(12, 5)]);
  });
});
