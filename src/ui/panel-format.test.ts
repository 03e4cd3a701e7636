import { describe, expect, it } from 'vitest';
import { countUpTo, decodeRoles, encodeRoles, formatNode, formatRemainingSeconds, formatSeconds } from './panel-format.ts';

describe('formatting', () => {
  it('writes virtual time in seconds to the millisecond', () => {
    expect(formatSeconds(1234)).toBe('1.234 s');
    expect(formatSeconds(5)).toBe('0.005 s');
  });

  it('writes a remaining time never below zero', () => {
    expect(formatRemainingSeconds(250)).toBe('0.25 s');
    expect(formatRemainingSeconds(-30)).toBe('0.00 s');
  });

  it('names node 0 "nobody"', () => {
    expect(formatNode(0)).toBe('nobody');
    expect(formatNode(3)).toBe('S3');
  });
});

describe('countUpTo: the narration lines at or before the moment shown', () => {
  const lines = [{ t: 10 }, { t: 20 }, { t: 20 }, { t: 35 }];

  it('includes lines exactly at the clock', () => {
    expect(countUpTo(lines, 20)).toBe(3);
  });

  it('covers both ends', () => {
    expect(countUpTo(lines, 9.5)).toBe(0);
    expect(countUpTo(lines, 1000)).toBe(4);
    expect(countUpTo([], 1000)).toBe(0);
  });
});

describe('roles as one string', () => {
  it('round-trips each node’s role, down nodes as down', () => {
    const encoded = encodeRoles([
      { id: 1, status: 'up', role: 'leader' },
      { id: 2, status: 'down', role: 'follower' },
      { id: 3, status: 'up', role: 'precandidate' },
    ]);
    expect([...decodeRoles(encoded)]).toEqual([
      [1, 'leader'],
      [2, 'down'],
      [3, 'precandidate'],
    ]);
    expect(decodeRoles('').size).toBe(0);
  });
});
