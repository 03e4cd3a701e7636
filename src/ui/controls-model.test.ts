import { describe, expect, test } from 'vitest';
import type { LiveNode, LiveView } from '../playground/live-cluster.ts';
import { panelsThrottled, shownPanelView, shownSummary, SPEEDS, type PlaygroundState } from '../playground/store.ts';
import {
  availability,
  chosenNode,
  commandForKey,
  formatSpeed,
  parsePayload,
  scenarioFileName,
  SHORTCUTS,
  speedIndex,
  stepSpeed,
  timingActions,
  timingProblem,
} from './controls-model.ts';

function node(id: number, overrides: Partial<LiveNode> = {}): LiveNode {
  return {
    id,
    status: 'up',
    role: 'follower',
    term: 1,
    votedFor: 0,
    snapshotIndex: 0,
    snapshotTerm: 0,
    lastIndex: 0,
    log: [],
    leader: 0,
    commitIndex: 0,
    lastApplied: 0,
    voters: [1, 2, 3],
    learners: [],
    electionDeadlineMs: null,
    electionTimeoutMs: 200,
    votesGranted: [],
    progress: [],
    clockRate: 1,
    ...overrides,
  };
}

function view(leader: number | null, nodes: LiveNode[]): LiveView {
  return { nowMs: 0, nodes, links: [{ a: 1, b: 2, state: 'up' }], messages: [], leader, violations: [], machines: {} };
}

const cluster = view(2, [node(1), node(2, { role: 'leader' }), node(3, { status: 'down' })]);

describe('shownSummary: what the controls redraw on', () => {
  const live = (v: LiveView) => ({ view: v, panelView: v, scrubMs: null, history: [] }) as unknown as PlaygroundState;

  test('the same object while the nodes, roles, leader and cut links stay the same, however the rest moves', () => {
    const first = shownSummary(live(cluster));
    const later = shownSummary(live({ ...cluster, nowMs: 500, nodes: cluster.nodes.map((n) => ({ ...n, term: 2, lastIndex: 9 })) }));
    expect(later).toBe(first);
    expect(first).toEqual({ nodes: [{ id: 1, status: 'up', role: 'follower' }, { id: 2, status: 'up', role: 'leader' }, { id: 3, status: 'down', role: 'follower' }], leader: 2, links: [] });
  });

  test('a new one when a role, the leader or a link changes', () => {
    const first = shownSummary(live(cluster));
    const candidate = shownSummary(live({ ...cluster, nodes: [node(1, { role: 'candidate' }), ...cluster.nodes.slice(1)] }));
    expect(candidate).not.toBe(first);
    expect(candidate?.nodes[0]?.role).toBe('candidate');
    const cut = shownSummary(live({ ...cluster, links: [{ a: 1, b: 2, state: 'down' }] }));
    expect(cut?.links).toEqual([{ state: 'down' }]);
    expect(shownSummary(live({ ...cluster, leader: null }))?.leader).toBeNull();
  });
});

describe('the panels view', () => {
  const state = (overrides: Partial<PlaygroundState>) =>
    ({ view: cluster, panelView: cluster, scrubMs: null, history: [cluster], paused: false, speed: 1, ...overrides }) as PlaygroundState;

  test('redraws less often only while the clock runs at a pace too fast to read', () => {
    expect(panelsThrottled(state({ speed: 1 }))).toBe(true);
    expect(panelsThrottled(state({ speed: 0.05 }))).toBe(false);
    expect(panelsThrottled(state({ speed: 10, paused: true }))).toBe(false);
    expect(panelsThrottled(state({ speed: 10, scrubMs: 0 }))).toBe(false);
  });

  test('is the panels own view live, and the moment scrubbed to in the past', () => {
    const past = { ...cluster, nowMs: 5 };
    const behind = { ...cluster, nowMs: 100 };
    const now = { ...cluster, nowMs: 120 };
    expect(shownPanelView(state({ view: now, panelView: behind }))).toBe(behind);
    expect(shownPanelView(state({ view: now, panelView: behind, history: [past, behind, now], scrubMs: 7 }))).toBe(past);
  });
});

describe('the chosen node', () => {
  test('is the selected node, else the leader, else the first', () => {
    expect(chosenNode({ kind: 'node', id: 3 }, cluster)).toBe(3);
    expect(chosenNode(null, cluster)).toBe(2);
    expect(chosenNode({ kind: 'message', id: 7 }, view(null, [node(1), node(2)]))).toBe(1);
    expect(chosenNode({ kind: 'node', id: 9 }, cluster)).toBe(2);
    expect(chosenNode(null, null)).toBeNull();
  });
});

describe('availability', () => {
  test('crash only an up node, restart only a down one', () => {
    expect(availability(cluster, 1, 'leader')).toMatchObject({ crash: true, restart: false, timeout: true, snapshot: true });
    expect(availability(cluster, 3, 'leader')).toMatchObject({ crash: false, restart: true, timeout: false, snapshot: false });
  });

  test('leadership goes to a live node other than the leader', () => {
    expect(availability(cluster, 1, 'leader').transfer).toBe(true);
    expect(availability(cluster, 2, 'leader').transfer).toBe(false);
    expect(availability(view(null, [node(1), node(2)]), 1, 'leader').transfer).toBe(false);
  });

  test('heal only when some link is cut; requests need a node to take them', () => {
    expect(availability(cluster, 1, 'leader').heal).toBe(false);
    expect(availability({ ...cluster, links: [{ state: 'one-way' }] }, 1, 'leader').heal).toBe(true);
    expect(availability(cluster, 1, 'leader').request).toBe(true);
    expect(availability(cluster, 1, 3).request).toBe(false);
    expect(availability(view(null, [node(1)]), 1, 'leader').request).toBe(false);
  });
});

describe('speed', () => {
  test('steps along SPEEDS and stops at the ends', () => {
    expect(SPEEDS[speedIndex(0.05, SPEEDS)]).toBe(0.05);
    expect(SPEEDS[speedIndex(0.06, SPEEDS)]).toBe(0.05);
    expect(stepSpeed(0.05, SPEEDS, 1)).toBe(0.1);
    expect(stepSpeed(0.05, SPEEDS, -1)).toBe(0.02);
    expect(stepSpeed(10, SPEEDS, 1)).toBe(10);
    expect(stepSpeed(0.001, SPEEDS, -1)).toBe(0.001);
  });

  test('reads as a multiple of real time', () => {
    expect(formatSpeed(0.05)).toBe('0.05×');
    expect(formatSpeed(1)).toBe('1×');
  });
});

describe('settings', () => {
  test('heartbeats must come more often than the shortest election timeout (§5.2)', () => {
    expect(timingProblem([150, 300], 50)).toBeNull();
    expect(timingProblem([150, 300], 150)).toMatch(/shorter than the election timeout minimum/);
    expect(timingProblem([300, 150], 50)).toMatch(/must not exceed/);
    expect(timingProblem([150.5, 300], 50)).toMatch(/whole/);
  });

  test('timing changes go in an order that keeps every step valid', () => {
    const now = { electionTimeoutMs: [150, 300] as const, heartbeatMs: 50 };
    expect(timingActions(now, { electionTimeoutMs: [400, 600], heartbeatMs: 200 }).map((a) => 'key' in a && a.key)).toEqual(['electionTimeoutMs', 'heartbeatMs']);
    expect(timingActions(now, { electionTimeoutMs: [40, 80], heartbeatMs: 20 }).map((a) => 'key' in a && a.key)).toEqual(['heartbeatMs', 'electionTimeoutMs']);
    expect(timingActions(now, { electionTimeoutMs: [150, 300], heartbeatMs: 50 })).toEqual([]);
    expect(timingActions(now, { electionTimeoutMs: [150, 400], heartbeatMs: 50 })).toEqual([{ do: 'set', key: 'electionTimeoutMs', value: [150, 400] }]);
  });

  test('a payload is JSON when it parses, else text', () => {
    expect(parsePayload('{"n":1}')).toEqual({ n: 1 });
    expect(parsePayload('send email')).toBe('send email');
  });

  test('the exported file is named after the seed', () => {
    expect(scenarioFileName(42)).toBe('raft-playground-seed42.json');
  });
});

describe('keyboard', () => {
  test('keys map to commands', () => {
    expect(commandForKey(' ')).toEqual({ kind: 'toggle-pause' });
    expect(commandForKey('n')).toEqual({ kind: 'step' });
    expect(commandForKey('.')).toEqual({ kind: 'step' });
    expect(commandForKey('+')).toEqual({ kind: 'speed', direction: 1 });
    expect(commandForKey('-')).toEqual({ kind: 'speed', direction: -1 });
    expect(commandForKey('4')).toEqual({ kind: 'select', node: 4 });
    expect(commandForKey('0')).toBeNull();
    expect(commandForKey('c')).toEqual({ kind: 'crash' });
    expect(commandForKey('?')).toEqual({ kind: 'help' });
    expect(commandForKey('x')).toBeNull();
  });

  test('the overlay lists every key that does something', () => {
    const listed = SHORTCUTS.flatMap((s) => s.keys).join(' ');
    for (const key of ['Space', '.', 'n', '+', 'c', 'r', 't', 's', 'p', 'h', 'w', 'e', '?', 'Esc']) expect(listed).toContain(key);
  });
});
