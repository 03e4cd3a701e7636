// The scenario files under scenarios/ are lessons: each must stay valid, deterministic and safe, and must
// keep showing what its description promises.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { createScenarioSimulation, runScenario } from './run-scenario.ts';
import { parseScenarioText, type Scenario } from './scenario.ts';
import type { TraceEvent } from './trace.ts';

const dir = join(import.meta.dirname, '..', '..', 'scenarios');
const load = (name: string): Scenario => parseScenarioText(readFileSync(join(dir, name), 'utf8'));
const files = readdirSync(dir).filter((name) => name.endsWith('.json'));

/** Scenarios that show safety breaking on purpose, with the invariant the checker must report. */
const EXPECTED_VIOLATIONS: Record<string, string> = {
  'figure-8-unsafe-commit.json': 'LeaderCompleteness',
  'lease-read-clock-drift.json': 'StaleRead',
};

describe.each(files)('%s', (name) => {
  test('is valid, described, deterministic, and safe (or breaks exactly as intended)', () => {
    const scenario = load(name);
    expect(scenario.description?.length).toBeGreaterThan(20);
    const first = runScenario(scenario);
    expect(runScenario(scenario).traceHash).toBe(first.traceHash);
    const expected = EXPECTED_VIOLATIONS[name];
    if (expected === undefined) expect(first.violations).toEqual([]);
    else expect(first.violations.map((v) => v.invariant)).toContain(expected);
  });
});

function runWithTrace(name: string) {
  const events: TraceEvent[] = [];
  const scenario = load(name);
  const sim = createScenarioSimulation(scenario, { onTrace: (event) => events.push(event) });
  sim.runUntil(scenario.runUntilMs);
  return { sim, events };
}

test('first-election: one leader, and both writes committed and applied everywhere', () => {
  const { sim } = runWithTrace('first-election.json');
  expect(sim.leader()).not.toBeNull();
  for (const node of sim.nodes) expect(node.machine.entries()).toEqual([['x', '1'], ['y', '2']]);
});

test('leader-crash: a new leader in a higher term commits, and the restarted node catches up', () => {
  const { sim, events } = runWithTrace('leader-crash.json');
  const crashed = events.find((e) => e.type === 'crash')!.node;
  expect(sim.leader()).not.toBe(crashed);
  expect(sim.node(sim.leader()!).raft!.term).toBeGreaterThan(1);
  for (const node of sim.nodes) expect(node.machine.get('x')).toBe('2');
});

test('minority-leader: the cut-off leader never commits; healing replaces its entry', () => {
  const { sim, events } = runWithTrace('minority-leader.json');
  expect(events.some((e) => e.type === 'client' && e.outcome === 'done' && e.node === 1 && e.index === 4)).toBe(false);
  expect(sim.node(1).raft!.role).toBe('follower');
  expect(events.some((e) => e.type === 'append' && e.node === 1 && e.truncatedFrom !== undefined)).toBe(true);
  for (const node of sim.nodes) expect(node.machine.get('x')).toBe('majority');
});

test('figure-7: followers missing entries and followers with stale extra entries both end with the leader log', () => {
  const { sim, events } = runWithTrace('figure-7-divergent-followers.json');
  expect(events.some((e) => e.type === 'append' && e.reason === 'missing-entry')).toBe(true);
  expect(events.filter((e) => e.type === 'append' && e.truncatedFrom !== undefined).map((e) => e.node).sort()).toEqual([1, 2]);
  const leader = sim.node(sim.leader()!).raft!;
  for (const { raft, machine } of sim.nodes) {
    expect(raft!.log.lastIndex()).toBe(leader.log.lastIndex());
    expect(raft!.log.lastTerm()).toBe(leader.log.lastTerm());
    expect(machine.get('x')).toBe('1');
    expect(machine.get('done')).toBe('yes');
  }
});

test('rejoin without PreVote: the returning server raises the term and deposes the leader; with PreVote it does not', () => {
  const without = runScenario(load('rejoin-without-prevote.json'));
  const withPreVote = runScenario(load('rejoin-with-prevote.json'));
  expect(Math.max(...without.nodes.map((n) => n.term))).toBeGreaterThan(5);
  expect(withPreVote.nodes.map((n) => n.term)).toEqual([1, 1, 1, 1, 1]);
  expect(withPreVote.leader).toBe(1);
});

test('figure-8: the old entry on a majority was never committed, so the leader that overwrote it lost nothing', () => {
  const { sim, events } = runWithTrace('figure-8.json');
  expect(events.some((e) => e.type === 'client' && e.outcome === 'done' && e.op === 'put' && e.node === 1)).toBe(false);
  for (const node of sim.nodes) {
    expect(node.machine.get('x')).toBeUndefined();
    expect(node.machine.get('y')).toBe('s5');
  }
});

test('figure-8-unsafe-commit: counting replicas of an old-term entry commits it, and S5 then overwrites a committed entry', () => {
  const { sim } = runWithTrace('figure-8-unsafe-commit.json');
  const invariants = new Set(sim.violations.map((v) => v.invariant));
  expect([...invariants].sort()).toEqual(['CommittedEntryChanged', 'LeaderCompleteness', 'StateMachineSafety']);
});

test('snapshot-install: the returning follower gets the snapshot in chunks, installs it, then the entries after it', () => {
  const { sim, events } = runWithTrace('snapshot-install.json');
  expect(events.some((e) => e.type === 'send' && e.message.type === 'InstallSnapshot' && e.message.to === 3)).toBe(true);
  expect(events.some((e) => e.type === 'snapshot' && e.phase === 'installed' && e.node === 3)).toBe(true);
  for (const node of sim.nodes) {
    expect(node.machine.get('a')).toBe('1');
    expect(node.machine.get('l')).toBe('12');
    expect(node.storage.entries.length).toBeLessThan(8);
  }
});

test('membership-change: 3 servers grow to 5 through learners, then the leader removes itself and steps down', () => {
  const { sim, events } = runWithTrace('membership-change.json');
  const learnersSeen = events.filter((e) => e.type === 'config' && e.learners.length > 0).map((e) => (e.type === 'config' ? e.learners : []));
  expect(learnersSeen.flat()).toEqual(expect.arrayContaining([4, 5]));
  const removed = events.find((e) => e.type === 'role' && e.reason === 'removed')!;
  expect(removed.node).toBe(2);
  const leader = sim.node(sim.leader()!).raft!;
  expect(leader.config).toEqual({ voters: [1, 3, 4, 5], learners: [] });
  for (const id of [1, 3, 4, 5]) expect(sim.node(id).machine.get('z')).toBe('3');
});

test('lease-read-clock-drift: reads served from a lease the clocks no longer honour return the old value', () => {
  const { events } = runWithTrace('lease-read-clock-drift.json');
  const staleReads = events.filter((e) => e.type === 'client' && e.op === 'get' && e.outcome === 'done');
  expect(staleReads.map((e) => (e.type === 'client' && e.outcome === 'done' ? e.result : null))).toEqual([
    { ok: true, value: 'old' },
    { ok: true, value: 'old' },
  ]);
});
