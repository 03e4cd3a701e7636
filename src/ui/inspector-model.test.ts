import { describe, expect, it } from 'vitest';
import type { AppendEntries, AppendEntriesResponse, Entry, InstallSnapshot, RequestVote, RequestVoteResponse } from '../core/types.ts';
import { DROP_WORDS } from '../sim/explain.ts';
import { describeDrop, describeEntry, describeMessageFields, describePersistent, ENTRIES_SHOWN_MAX, entryLabel } from './inspector-model.ts';

function put(index: number, term: number, key: string, value: string): Entry {
  return { index, term, type: 'command', data: JSON.stringify({ timeMs: 10, command: { op: 'put', key, value } }) };
}

describe('describeMessageFields', () => {
  it('lists every field but the header, in the message’s order', () => {
    const vote: RequestVote = { type: 'RequestVote', from: 2, to: 3, term: 4, lastLogIndex: 7, lastLogTerm: 3, transfer: false };
    expect(describeMessageFields(vote)).toEqual([
      { name: 'term', value: { kind: 'text', text: '4' } },
      { name: 'lastLogIndex', value: { kind: 'text', text: '7' } },
      { name: 'lastLogTerm', value: { kind: 'text', text: '3' } },
      { name: 'transfer', value: { kind: 'text', text: 'false' } },
    ]);
  });

  it(`lists entries as index:term label, the first ${ENTRIES_SHOWN_MAX} of them`, () => {
    const entries = Array.from({ length: 13 }, (_, i) => put(i + 1, 2, 'x', String(i)));
    const append: AppendEntries = { type: 'AppendEntries', from: 1, to: 2, term: 2, prevLogIndex: 0, prevLogTerm: 0, entries, leaderCommit: 0 };
    const field = describeMessageFields(append).find((f) => f.name === 'entries')!;
    expect(field.value).toMatchObject({ kind: 'entries', more: 3 });
    expect(field.value.kind === 'entries' && field.value.lines[0]).toBe('1:2 put x=0');
    expect(field.value.kind === 'entries' && field.value.lines).toHaveLength(ENTRIES_SHOWN_MAX);
  });

  it('writes a configuration in words and cuts a long snapshot chunk', () => {
    const chunk: InstallSnapshot = {
      type: 'InstallSnapshot',
      from: 1,
      to: 4,
      term: 3,
      lastIncludedIndex: 9,
      lastIncludedTerm: 2,
      config: { voters: [1, 2, 3], learners: [] },
      offset: 0,
      data: 'x'.repeat(100),
      done: true,
    };
    const fields = new Map(describeMessageFields(chunk).map((f) => [f.name, f.value]));
    expect(fields.get('config')).toEqual({ kind: 'text', text: 'voters S1 S2 S3; learners none' });
    expect(fields.get('data')).toEqual({ kind: 'text', text: `${'x'.repeat(40)}… (100 characters)` });
  });

  it('shows a response’s reason in words, with its rule, not as a code', () => {
    const vote: RequestVoteResponse = { type: 'RequestVoteResponse', from: 3, to: 2, term: 4, granted: false, reason: 'log-behind' };
    expect(describeMessageFields(vote).find((f) => f.name === 'reason')?.value).toEqual({ kind: 'text', text: "S3's log is more up-to-date than S2's (§5.4.1)" });
    const append: AppendEntriesResponse = { type: 'AppendEntriesResponse', from: 2, to: 1, term: 4, success: false, matchIndex: 6, conflictTerm: 0, conflictIndex: 4, reason: 'missing-entry' };
    expect(describeMessageFields(append).find((f) => f.name === 'reason')?.value).toEqual({ kind: 'text', text: 'S2 has no entry at index 6 (§5.3)' });
  });
});

describe('describeDrop', () => {
  const heartbeat = { type: 'Heartbeat', from: 1, to: 3, term: 2, leaderCommit: 0, round: 1 } as const;

  it.each(Object.keys(DROP_WORDS) as (keyof typeof DROP_WORDS)[])('says in words why a message was lost: %s', (reason) => {
    const words = describeDrop({ message: heartbeat, dropped: { at: 10, reason } });
    expect(words).toMatch(/^(lost|dropped) /);
    expect(words).not.toContain(reason.includes('-') ? reason : '\0');
  });

  it('names the receiver that is down, and is null for a message still on its way', () => {
    expect(describeDrop({ message: heartbeat, dropped: { at: 10, reason: 'node-down' } })).toBe('dropped because S3 is down');
    expect(describeDrop({ message: heartbeat })).toBeNull();
  });
});

describe('entryLabel', () => {
  it('names commands, no-ops and configurations', () => {
    expect(describeEntry(put(5, 3, 'a', '1'))).toBe('5:3 put a=1');
    expect(entryLabel({ type: 'noop', data: '' })).toBe('no-op');
    expect(entryLabel({ type: 'config', data: JSON.stringify({ voters: [1, 2], learners: [4] }) })).toBe('voters S1 S2; learners S4');
    expect(entryLabel({ type: 'command', data: JSON.stringify({ timeMs: 1, command: { op: 'ack', queue: 'q', task: 7 } }) })).toBe('ack #7');
  });

  it('falls back to the entry type when the data is not JSON', () => {
    expect(entryLabel({ type: 'command', data: 'not json' })).toBe('command');
  });
});

describe('describePersistent (Figure 2)', () => {
  it('gives the term, the vote, the log’s span and the snapshot', () => {
    expect(describePersistent({ term: 5, votedFor: 3, snapshotIndex: 10, snapshotTerm: 4, lastIndex: 14 })).toEqual([
      ['currentTerm', '5'],
      ['votedFor', 'S3'],
      ['log (indexes)', '11 … 14'],
      ['snapshot', 'up to index 10, term 4'],
    ]);
  });

  it('says when there is no vote, no entry and no snapshot', () => {
    expect(describePersistent({ term: 0, votedFor: 0, snapshotIndex: 0, snapshotTerm: 0, lastIndex: 0 })).toEqual([
      ['currentTerm', '0'],
      ['votedFor', 'nobody'],
      ['log (indexes)', 'empty'],
      ['snapshot', 'none'],
    ]);
  });
});
