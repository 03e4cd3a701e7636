import { describe, expect, test } from 'vitest';
import { Packr } from 'msgpackr';
import type { Message } from '../../core/types.ts';
import { decodeMessage, encodeMessage, validateMessage } from './message-codec.ts';

const config = { voters: [1, 2, 3], learners: [4] };

const everyType: readonly Message[] = [
  { type: 'RequestVote', from: 1, to: 2, term: 3, lastLogIndex: 7, lastLogTerm: 2, transfer: false },
  { type: 'RequestVoteResponse', from: 2, to: 1, term: 3, granted: true, reason: 'granted' },
  { type: 'PreVote', from: 1, to: 2, term: 4, lastLogIndex: 7, lastLogTerm: 2 },
  { type: 'PreVoteResponse', from: 2, to: 1, term: 3, granted: false, reason: 'log-behind' },
  {
    type: 'AppendEntries',
    from: 1,
    to: 2,
    term: 3,
    prevLogIndex: 7,
    prevLogTerm: 2,
    entries: [
      { index: 8, term: 3, type: 'noop', data: '' },
      { index: 9, term: 3, type: 'command', data: '{"command":{"op":"put","key":"x","value":"é✓"}}' },
      { index: 10, term: 3, type: 'config', data: JSON.stringify(config) },
    ],
    leaderCommit: 7,
  },
  { type: 'AppendEntriesResponse', from: 2, to: 1, term: 3, success: false, matchIndex: 7, conflictTerm: 2, conflictIndex: 5, reason: 'term-mismatch' },
  { type: 'Heartbeat', from: 1, to: 2, term: 3, leaderCommit: 9, round: 12 },
  { type: 'HeartbeatResponse', from: 2, to: 1, term: 3, round: 12 },
  { type: 'InstallSnapshot', from: 1, to: 2, term: 3, lastIncludedIndex: 90, lastIncludedTerm: 3, config, offset: 0, data: '{"kv":{}}', done: true },
  { type: 'InstallSnapshotResponse', from: 2, to: 1, term: 3, lastIncludedIndex: 90, offset: 9, success: true, done: true },
  { type: 'ReadIndex', from: 2, to: 1, term: 3, context: 5 },
  { type: 'ReadIndexResponse', from: 1, to: 2, term: 3, context: 5, index: 10, ok: true },
  { type: 'TimeoutNow', from: 1, to: 2, term: 3 },
];

const append = everyType[4] as Extract<Message, { type: 'AppendEntries' }>;

function problemOf(value: unknown): string {
  const validation = validateMessage(value);
  if (validation.ok) throw new Error('expected a problem');
  return validation.problem;
}

describe('message codec', () => {
  test('every message type survives encoding and decoding, and validates', () => {
    for (const message of everyType) {
      const decoded = decodeMessage(encodeMessage(message));
      expect(decoded).toEqual(message);
      expect(validateMessage(decoded)).toEqual({ ok: true, message });
    }
  });

  test('bytes that are not one whole MessagePack value do not decode', () => {
    const bytes = encodeMessage(everyType[0]!);
    expect(() => decodeMessage(bytes.subarray(0, bytes.length - 2))).toThrow();
  });

  test('an unknown type, a missing or mistyped field, and an unknown field are each named', () => {
    expect(problemOf({ type: 'Vote', from: 1, to: 2, term: 3 })).toMatch(/^type: expected a message type/);
    expect(problemOf([1, 2])).toMatch(/expected a message object/);
    expect(problemOf({ type: 'TimeoutNow', from: -1, to: 2, term: 3 })).toMatch(/^from: expected a non-negative integer, got -1/);
    expect(problemOf({ type: 'TimeoutNow', from: 1, to: 2.5, term: 3 })).toMatch(/^to:/);
    expect(problemOf({ type: 'TimeoutNow', from: 1, to: 2, term: '3' })).toMatch(/^term:/);
    expect(problemOf({ type: 'HeartbeatResponse', from: 1, to: 2, term: 3 })).toBe('round: missing');
    expect(problemOf({ type: 'RequestVoteResponse', from: 2, to: 1, term: 3, granted: 'yes', reason: 'granted' })).toMatch(/^granted:/);
    expect(problemOf({ type: 'RequestVoteResponse', from: 2, to: 1, term: 3, granted: true, reason: 'because' })).toMatch(/^reason: expected one of/);
    expect(problemOf({ type: 'TimeoutNow', from: 1, to: 2, term: 3, extra: true })).toBe('extra: unknown field in TimeoutNow');
    expect(problemOf({ ...everyType[8]!, config: { voters: [0] } })).toMatch(/^config.voters/);
  });

  test('the entries of an AppendEntries follow prevLogIndex without gaps, with terms that never decrease or pass the message term', () => {
    const entries = append.entries;
    expect(problemOf({ ...append, entries: [entries[0], entries[2]] })).toMatch(/^entries\[1\]\.index: expected 9/);
    expect(problemOf({ ...append, entries: [{ ...entries[0]!, term: 1 }] })).toMatch(/^entries\[0\]\.term: expected 2\.\.3, got 1/);
    expect(problemOf({ ...append, entries: [{ ...entries[0]!, term: 4 }] })).toMatch(/^entries\[0\]\.term/);
    expect(problemOf({ ...append, prevLogTerm: 4 })).toMatch(/^prevLogTerm/);
    expect(problemOf({ ...append, entries: [{ ...entries[0]!, type: 'blob' }] })).toMatch(/^entries\[0\]\.type/);
    expect(problemOf({ ...append, entries: [{ ...entries[0]!, data: 7 }] })).toMatch(/^entries\[0\]\.data/);
    expect(problemOf({ ...append, entries: [{ ...entries[2]!, index: 8, data: 'not json' }] })).toMatch(/^entries\[0\]\.data: a config entry must hold JSON/);
    expect(problemOf({ ...append, entries: 'none' })).toMatch(/^entries: expected an array/);
  });

  test('values MessagePack can carry but JSON cannot (dates, big integers, maps, binary) are refused', () => {
    const packr = new Packr({ useRecords: false });
    for (const term of [new Date(0), 3n, new Map([[1, 2]]), Buffer.from('x'), 2 ** 60]) {
      const decoded = decodeMessage(packr.pack({ type: 'TimeoutNow', from: 1, to: 2, term }));
      expect(validateMessage(decoded).ok).toBe(false);
    }
  });
});
