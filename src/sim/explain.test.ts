// Words for everything (issue 12): every code the trace carries reads as a plain sentence, with no raw code
// left in it, and every decision names its rule. The codes come from the typed word records themselves, and
// the samples below are typed per code, so a new code without words or without a sample does not compile.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { AppendReason, RoleReason, VoteReason } from '../core/types.ts';
import {
  ACTION_WORDS,
  APPEND_WORDS,
  CLIENT_LOST_WORDS,
  CLIENT_OP_WORDS,
  DROP_WORDS,
  READ_MODE_NAMES,
  READ_MODE_WORDS,
  READ_WORDS,
  REFUSAL_WORDS,
  ROLE_WORDS,
  SETTING_WORDS,
  TRANSFER_WORDS,
  VOTE_WORDS,
  explainEvent,
  explainMessageReason,
  formatTraceEvent,
  type ActionDetail,
} from './explain.ts';
import { createScenarioSimulation } from './run-scenario.ts';
import { DEFAULT_SIM_CONFIG, parseScenarioText, type ActionName, type SimConfig } from './scenario.ts';
import type { ClientLostReason, ClientOp, RefusalReason, TraceEvent } from './trace.ts';

const keys = <T extends object>(record: T) => Object.keys(record) as Extract<keyof T, string>[];

/** Every code the page could show, from the records (hyphenated ones are the ones that look like codes). */
const CODES = [
  ...keys(ROLE_WORDS),
  ...keys(VOTE_WORDS),
  ...keys(APPEND_WORDS),
  ...keys(TRANSFER_WORDS),
  ...keys(READ_WORDS),
  ...keys(DROP_WORDS),
  ...keys(REFUSAL_WORDS),
  ...keys(CLIENT_LOST_WORDS),
  ...keys(ACTION_WORDS),
  ...keys(READ_MODE_WORDS),
];
const HYPHENATED_CODES = new RegExp(`\\b(${CODES.filter((code) => code.includes('-')).join('|')})\\b`);
/** Any hyphenated lower-case word; only these few real English words may have one. */
const HYPHENATED = /\b[a-z]+(-[a-z]+)+\b/g;
const HYPHENATED_ALLOWED = new Set(['pre-vote', 'up-to-date']);
/** A rule: a section of the paper or thesis (§5.2, thesis §9.6) or a figure of the paper. */
const RULE = /§\d+(\.\d+)*|Figure \d+/;

/** The sentence for `event`, checked: a sentence, no raw code, and a rule cited when `decision`. */
function expectWords(event: TraceEvent, decision: boolean): string {
  const sentence = explainEvent(event);
  expect(sentence, JSON.stringify(event)).not.toBeNull();
  const text = sentence!;
  expect(text, text).toMatch(/^[A-Z].*\.$/s);
  const words = text.replace(/"[^"]*"/g, '"…"'); // a key or value a person typed is shown in quotes, as typed
  expect(words, text).not.toMatch(HYPHENATED_CODES);
  expect((words.match(HYPHENATED) ?? []).filter((word) => !HYPHENATED_ALLOWED.has(word)), text).toEqual([]);
  expect(text, text).not.toMatch(/[{}[\]]|undefined|null|NaN/); // no raw JSON or missing values
  if (decision) expect(text, text).toMatch(RULE);
  return text;
}

const at = { t: 1200, node: 2 } as const;

describe('every decision of a node, for every reason, is a sentence that cites its rule', () => {
  const roleOf: Record<RoleReason, TraceEvent & { type: 'role' }> = {
    start: { ...at, type: 'role', role: 'follower', term: 0, reason: 'start' },
    'election-timeout': { ...at, type: 'role', role: 'candidate', term: 3, reason: 'election-timeout' },
    'forced-timeout': { ...at, type: 'role', role: 'candidate', term: 3, reason: 'forced-timeout' },
    'timeout-now': { ...at, type: 'role', role: 'candidate', term: 3, reason: 'timeout-now' },
    'won-prevote': { ...at, type: 'role', role: 'candidate', term: 3, reason: 'won-prevote' },
    'won-election': { ...at, type: 'role', role: 'leader', term: 3, reason: 'won-election' },
    'lost-election': { ...at, type: 'role', role: 'follower', term: 3, reason: 'lost-election' },
    'higher-term': { ...at, type: 'role', role: 'follower', term: 3, reason: 'higher-term', peer: 4 },
    'leader-discovered': { ...at, type: 'role', role: 'follower', term: 3, reason: 'leader-discovered', peer: 4 },
    'lost-quorum': { ...at, type: 'role', role: 'follower', term: 3, reason: 'lost-quorum' },
    removed: { ...at, type: 'role', role: 'follower', term: 3, reason: 'removed' },
  };
  test.each(keys(ROLE_WORDS))('role: %s', (reason) => {
    expectWords(roleOf[reason], true);
    if (reason === 'election-timeout' || reason === 'forced-timeout') {
      expect(expectWords({ ...roleOf[reason], role: 'precandidate' }, true)).toContain('pre-vote');
    }
  });

  test.each(keys(VOTE_WORDS).flatMap((reason) => [true, false].map((preVote) => [reason, preVote] as const)))('vote: %s (pre-vote %s)', (reason, preVote) => {
    const vote = (lastLogTerm: number, lastLogIndex: number): TraceEvent => ({
      ...at,
      type: 'vote',
      candidate: 5,
      term: 4,
      preVote,
      granted: reason === 'granted',
      reason: reason satisfies VoteReason,
      lastLogTerm,
      lastLogIndex,
      candidateLastLogTerm: 2,
      candidateLastLogIndex: 5,
    });
    expectWords(vote(3, 4), true);
    const sameLastTerm = expectWords(vote(2, 7), true);
    if (reason === 'log-behind') expect(sameLastTerm).toContain('index 7, S5');
  });

  test('vote-ignored', () => {
    expectWords({ ...at, type: 'vote-ignored', candidate: 5, term: 4, reason: 'leader-recently-seen' }, true);
  });

  test.each(keys(APPEND_WORDS))('append: %s', (reason) => {
    const append: TraceEvent = { ...at, type: 'append', leader: 1, term: 3, prevLogIndex: 6, entries: 2, success: reason === 'ok', reason: reason satisfies AppendReason };
    expectWords(append, true);
    if (reason === 'ok') {
      expectWords({ ...append, entries: 0 }, true);
      expect(expectWords({ ...append, truncatedFrom: 5 }, true)).toContain('from index 5');
    }
  });

  test.each(keys(TRANSFER_WORDS))('transfer: %s', (phase) => {
    expectWords({ ...at, type: 'transfer', target: 3, phase }, true);
  });

  test.each(keys(READ_WORDS))('read: via %s', (via) => {
    expectWords({ ...at, type: 'read', context: 7, requester: 2, index: 9, via }, true);
    expectWords({ ...at, type: 'read', context: 7, requester: 4, index: 9, via }, true);
  });

  test('commit, propose, snapshot, config', () => {
    expectWords({ ...at, type: 'commit', index: 4, term: 2 }, true);
    expectWords({ ...at, type: 'propose', index: 4, term: 2 }, true);
    expectWords({ ...at, type: 'snapshot', phase: 'taken', index: 4, term: 2 }, true);
    expectWords({ ...at, type: 'snapshot', phase: 'installed', index: 4, term: 2 }, true);
    expectWords({ ...at, type: 'config', index: 4, voters: [1, 2, 3], learners: [4] }, true);
    expectWords({ ...at, type: 'config', index: 4, voters: [1, 2, 3], learners: [] }, true);
  });

  test.each([...keys(VOTE_WORDS).map((reason) => ['RequestVoteResponse', reason] as const), ...keys(VOTE_WORDS).map((reason) => ['PreVoteResponse', reason] as const)])(
    'a %s with reason %s reads as words in the inspector',
    (type, reason) => {
      const words = explainMessageReason({ type, from: 2, to: 5, reason });
      expect(words).not.toMatch(HYPHENATED_CODES);
      expect(words).toMatch(RULE);
    },
  );

  test.each(keys(APPEND_WORDS))('an AppendEntriesResponse with reason %s reads as words in the inspector', (reason) => {
    const words = explainMessageReason({ type: 'AppendEntriesResponse', from: 2, to: 1, matchIndex: 6, reason });
    expect(words).not.toMatch(HYPHENATED_CODES);
    expect(words).toMatch(RULE);
  });
});

describe('every client outcome, for every reason and operation, is a sentence that cites its rule', () => {
  const ops = keys(CLIENT_OP_WORDS) satisfies ClientOp[];

  test.each(ops)('done: %s', (op) => {
    expectWords({ ...at, type: 'client', request: 3, op, outcome: 'done', index: 8, result: { ok: true } }, true);
  });

  test.each(keys(REFUSAL_WORDS))('rejected: %s', (reason) => {
    for (const op of ops) {
      const rejected = { ...at, type: 'client', request: 3, op, outcome: 'rejected', reason: reason satisfies RefusalReason } as const;
      expectWords(rejected, true);
      const withLeader = expectWords({ ...rejected, leader: 1 }, true);
      if (reason === 'not-leader') expect(withLeader).toContain('ask S1');
    }
  });

  test.each(keys(CLIENT_LOST_WORDS))('lost: %s', (reason) => {
    for (const op of ops) expectWords({ ...at, type: 'client', request: 3, op, outcome: 'lost', reason: reason satisfies ClientLostReason }, true);
  });
});

describe('the network and the host', () => {
  test.each(keys(DROP_WORDS))('drop: %s', (reason) => {
    expectWords({ ...at, type: 'drop', id: 12, messageType: 'AppendEntries', from: 1, to: 2, reason }, false);
  });

  test('network, crash, restart', () => {
    expectWords({ ...at, node: 0, type: 'network', cuts: [] }, false);
    expectWords({ ...at, node: 0, type: 'network', cuts: [[1, 2]] }, false);
    expectWords({ ...at, node: 0, type: 'network', cuts: [[1, 2], [2, 1]] }, false);
    expectWords({ ...at, type: 'crash' }, false);
    expectWords({ ...at, type: 'restart' }, false);
  });

  test('sends, deliveries and applies are not narrated, but the CLI still prints them', () => {
    const send: TraceEvent = { ...at, type: 'send', id: 4, message: { type: 'Heartbeat', from: 1, to: 2, term: 3, leaderCommit: 2, round: 5 }, deliverAt: 1212 };
    expect(explainEvent(send)).toBeNull();
    expect(formatTraceEvent(send)).toBe('t=1200ms   S1 -> S2 Heartbeat term 3 (#4, arrives t=1212ms)');
    expect(formatTraceEvent({ ...at, type: 'apply', firstIndex: 3, lastIndex: 4 })).toBe('t=1200ms   S2 applied entries 3..4');
    expect(formatTraceEvent({ ...at, type: 'crash' })).toBe(`t=1200ms   ${explainEvent({ ...at, type: 'crash' })}`);
  });
});

describe('every action, done or skipped, is a sentence', () => {
  // One typed sample per action: a new action kind without a sample does not compile.
  const samples: { [K in ActionName]: readonly ActionDetail<K>[] } = {
    crash: [{ node: 3 }, { node: 'leader' }],
    restart: [{ node: 3 }],
    timeout: [{ node: 3 }, { node: 'leader' }],
    partition: [{ groups: [[1, 2], [3, 4, 5]] }, { groups: [[1], [2], [3]] }],
    heal: [{}],
    cut: [{ from: 1, to: 2 }],
    mend: [{ from: 1, to: 2 }],
    set: [{ key: 'heartbeatMs', value: 50 }],
    put: [{ key: 'x', value: '1' }, { key: 'x', value: '1', node: 3 }, { key: 'two words', value: '' }],
    get: [{ key: 'x' }, { key: 'x', node: 'leader' }],
    delete: [{ key: 'x', node: 2 }],
    cas: [{ key: 'x', from: '1', to: '2' }],
    enqueue: [{ queue: 'jobs', payload: { n: 1 } }, { queue: 'jobs', payload: 'report' }, { queue: 'jobs', payload: 7 }],
    claim: [{ queue: 'jobs', worker: 'w1', leaseMs: 5000 }],
    ack: [{ queue: 'jobs', task: 3 }],
    nack: [{ queue: 'jobs', task: 3, node: 2 }],
    snapshot: [{ node: 3 }],
    transfer: [{ to: 3 }],
    'add-node': [{}],
    'remove-node': [{ node: 3 }, { node: 'leader' }],
    clock: [{ node: 2, rate: 1.5 }, { node: 2, rate: 1 }],
    drop: [{ message: 12 }],
  };
  /** What the simulator writes when an action did nothing (simulation.ts, replica.ts, raft-node.ts). */
  const plainSkips = [
    'there is no leader',
    'there is no S7',
    'S3 is already down',
    'S3 is already up',
    'S3 is down',
    'S3 is the leader',
    'S3 has nothing new to snapshot',
    'S1 is not the leader',
    'S1 is already the leader',
    'S4 is not a voting member',
    'S1 is leaving the cluster',
    'the cluster already has 9 nodes',
    'message 12 has not been sent',
  ];
  const action = (name: ActionName, detail: object, skipped?: string): TraceEvent => ({
    t: 500,
    node: 0,
    type: 'action',
    action: name,
    detail,
    ...(skipped === undefined ? {} : { skipped }),
  });

  test.each(keys(ACTION_WORDS))('%s', (name) => {
    for (const detail of samples[name]) {
      expectWords(action(name, detail), false);
      for (const skipped of plainSkips) expect(expectWords(action(name, detail, skipped), false)).toMatch(new RegExp(`^Tried to .*, but ${skipped}\\.$`));
      for (const code of keys(REFUSAL_WORDS)) {
        // A client request the server turned down; a membership change the leader refused.
        for (const leader of ['1', '3', '?']) expectWords(action(name, detail, `S${leader} leads; the request was refused: ${code}`), true);
        expectWords(action(name, detail, `S1 refused: ${code}`), true);
      }
    }
  });

  test('a refused request names the server that refused and the leader to ask', () => {
    expect(explainEvent(action('put', { key: 'x', value: '1', node: 3 }, 'S1 leads; the request was refused: not-leader'))).toBe(
      'Tried to have a client ask S3 to set x to 1, but the request was turned down: S3 is not the leader, and only the leader takes requests; the client should ask S1 (§8).',
    );
    expect(explainEvent(action('put', { key: 'x', value: '1', node: 'leader' }, 'S1 leads; the request was refused: overloaded'))).toMatch(
      /^Tried to have a client ask the leader to set x to 1, but the request was turned down: S1 has too many requests/,
    );
  });

  // Every value of every setting, so that each clause is read at least once.
  const settingSamples: { [K in keyof SimConfig]: readonly SimConfig[K][] } = {
    electionTimeoutMs: [[150, 300]],
    heartbeatMs: [50],
    latencyMs: [[10, 15]],
    diskLatencyMs: [[0, 0], [2, 8]],
    subMillisecond: [true, false],
    lossRatio: [0, 0.1],
    duplicateRatio: [0, 0.05],
    preVote: [true, false],
    checkQuorum: [true, false],
    snapshotEveryEntries: [0, 100],
    snapshotChunkBytes: [64, 1024],
    entriesPerMessageMax: [64],
    inflightMessagesMax: [8],
    readMode: keys(READ_MODE_WORDS),
    clockDriftBound: [0.1],
    unsafeSkipVoteRestriction: [true, false],
    unsafeCommitPreviousTerms: [true, false],
    unsafeForgetVoteOnRestart: [true, false],
  };

  test.each(keys(SETTING_WORDS))('set %s', (key) => {
    expect(settingSamples[key]).toContainEqual(DEFAULT_SIM_CONFIG[key]);
    for (const value of settingSamples[key]) {
      const text = expectWords(action('set', { key, value }), false);
      if (key.startsWith('unsafe')) expect(text).toMatch(RULE);
    }
  });
});

test.each(keys(READ_MODE_NAMES))('the read mode %s has a name for the menu, not its code', (mode) => {
  expect(READ_MODE_NAMES[mode]).not.toMatch(new RegExp(HYPHENATED.source));
});

test('every sentence of every shipped scenario reads as words, and each decision cites its rule', () => {
  const dir = join(import.meta.dirname, '..', '..', 'scenarios');
  const decisions = new Set<TraceEvent['type']>(['role', 'vote', 'vote-ignored', 'append', 'commit', 'propose', 'transfer', 'snapshot', 'read', 'config', 'client']);
  const seen = new Set<string>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.json'))) {
    const scenario = parseScenarioText(readFileSync(join(dir, file), 'utf8'));
    const events: TraceEvent[] = [];
    createScenarioSimulation(scenario, { onTrace: (event) => events.push(event) }).runUntil(scenario.runUntilMs);
    for (const event of events) {
      if (event.type === 'send' || event.type === 'deliver' || event.type === 'apply' || event.type === 'violation') continue;
      expectWords(event, decisions.has(event.type));
      seen.add(event.type);
    }
  }
  expect(seen.size).toBeGreaterThan(12);
});
