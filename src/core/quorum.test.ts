import { describe, expect, it } from 'vitest';
import { committedIndex, quorumSize, voteResult } from './quorum.ts';
import type { NodeId } from './types.ts';

const matchOf =
  (table: Record<NodeId, number>) =>
  (id: NodeId): number =>
    table[id] ?? 0;

describe('quorumSize', () => {
  it('is the smallest majority', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(quorumSize)).toEqual([1, 2, 2, 3, 3, 4, 4]);
  });
});

describe('committedIndex', () => {
  it('is the highest index a majority holds, with an odd number of voters', () => {
    expect(committedIndex([1, 2, 3], matchOf({ 1: 5, 2: 3, 3: 1 }))).toBe(3);
    expect(committedIndex([1, 2, 3, 4, 5], matchOf({ 1: 10, 2: 9, 3: 8, 4: 2, 5: 1 }))).toBe(8);
    expect(committedIndex([1, 2, 3, 4, 5], matchOf({ 1: 10, 2: 9, 3: 0, 4: 0, 5: 0 }))).toBe(0);
  });

  it('needs more than half with an even number of voters', () => {
    expect(committedIndex([1, 2, 3, 4], matchOf({ 1: 5, 2: 4, 3: 3, 4: 2 }))).toBe(3);
    expect(committedIndex([1, 2], matchOf({ 1: 7, 2: 3 }))).toBe(3);
    expect(committedIndex([1, 2, 3, 4, 5, 6], matchOf({ 1: 6, 2: 6, 3: 6, 4: 1, 5: 1, 6: 1 }))).toBe(1);
  });

  it('does not depend on the order of voters or of their indexes', () => {
    expect(committedIndex([3, 1, 2], matchOf({ 1: 1, 2: 5, 3: 3 }))).toBe(3);
    expect(committedIndex([5, 4, 3, 2, 1], matchOf({ 1: 1, 2: 2, 3: 8, 4: 9, 5: 10 }))).toBe(8);
  });

  it('is the voter’s own index with one voter, and 0 with none', () => {
    expect(committedIndex([1], matchOf({ 1: 4 }))).toBe(4);
    expect(committedIndex([], matchOf({}))).toBe(0);
  });

  it('counts only voters', () => {
    expect(committedIndex([1, 2, 3], matchOf({ 1: 9, 4: 9, 5: 9 }))).toBe(0);
  });
});

describe('voteResult', () => {
  const votes = (entries: [NodeId, boolean][]) => new Map(entries);

  it('is won with a majority of grants', () => {
    expect(voteResult([1, 2, 3], votes([[1, true], [2, true]]))).toBe('won');
    expect(voteResult([1, 2, 3], votes([[1, true], [2, false], [3, true]]))).toBe('won');
    expect(voteResult([1], votes([[1, true]]))).toBe('won');
  });

  it('is lost once a majority can no longer be reached', () => {
    expect(voteResult([1, 2, 3], votes([[1, true], [2, false], [3, false]]))).toBe('lost');
    expect(voteResult([1, 2, 3, 4], votes([[1, true], [2, false], [3, false]]))).toBe('lost');
  });

  it('is pending while the outcome is open', () => {
    expect(voteResult([1, 2, 3], votes([[1, true]]))).toBe('pending');
    expect(voteResult([1, 2, 3], votes([[1, true], [2, false]]))).toBe('pending');
    expect(voteResult([1, 2, 3, 4], votes([[1, true], [2, true]]))).toBe('pending'); // 2 of 4 is not a majority
    expect(voteResult([1, 2, 3, 4, 5], votes([[1, true], [2, false], [3, false]]))).toBe('pending');
  });

  it('ignores votes from non-voters', () => {
    expect(voteResult([1, 2, 3], votes([[1, true], [7, true], [8, true]]))).toBe('pending');
    expect(voteResult([1, 2, 3], votes([[1, true], [7, false], [8, false]]))).toBe('pending');
  });
});
