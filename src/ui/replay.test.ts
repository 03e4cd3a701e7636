// The replay view model agrees with the simulator it replays: at the end of a run, each node's role, term,
// status and commit index are what the simulator reports, and messages in flight are those sent and not yet
// arrived.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { createScenarioSimulation } from '../sim/run-scenario.ts';
import { parseScenarioText } from '../sim/scenario.ts';
import type { TraceEvent } from '../sim/trace.ts';
import { clusterAt } from './replay.ts';

function record(name: string) {
  const scenario = parseScenarioText(readFileSync(join(import.meta.dirname, '..', '..', 'scenarios', name), 'utf8'));
  const events: TraceEvent[] = [];
  const sim = createScenarioSimulation(scenario, { onTrace: (e) => events.push(e) });
  sim.runUntil(scenario.runUntilMs);
  return { sim, events, ids: sim.nodes.map((n) => n.id) };
}

test.each(['leader-crash.json', 'minority-leader.json', 'membership-change.json'])('at the end of %s the view matches the simulator', (name) => {
  const { sim, events, ids } = record(name);
  const view = clusterAt(events, ids, sim.now);
  for (const node of sim.result().nodes) {
    const shown = view.nodes.find((n) => n.id === node.id)!;
    expect(shown.status).toBe(node.status);
    if (node.status === 'up') expect({ role: shown.role, term: shown.term, commit: shown.commitIndex }).toEqual({ role: node.role, term: node.term, commit: node.commitIndex });
  }
});

test('messages in flight at a moment were sent before it and arrive after it', () => {
  const { events, ids } = record('first-election.json');
  for (const atMs of [160, 230, 1005, 1500]) {
    const view = clusterAt(events, ids, atMs);
    for (const m of view.inFlight) {
      expect(m.sentAt).toBeLessThanOrEqual(atMs);
      expect(m.deliverAt).toBeGreaterThan(atMs);
    }
  }
  // During the first election the vote requests are on their way.
  const election = events.find((e) => e.type === 'send' && e.message.type === 'RequestVote')!;
  expect(clusterAt(events, ids, election.t).inFlight.some((m) => m.type === 'RequestVote')).toBe(true);
});

test('a crashed node is shown down until it restarts', () => {
  const { events, ids } = record('leader-crash.json');
  const crash = events.find((e) => e.type === 'crash')!;
  const restart = events.find((e) => e.type === 'restart')!;
  expect(clusterAt(events, ids, crash.t).nodes.find((n) => n.id === crash.node)!.status).toBe('down');
  expect(clusterAt(events, ids, restart.t).nodes.find((n) => n.id === crash.node)!.status).toBe('up');
});

test('a partition cuts the links between its groups, and healing mends them', () => {
  const { events, ids } = record('minority-leader.json');
  const during = clusterAt(events, ids, 1000);
  const state = (a: number, b: number) => during.links.find((l) => l.a === a && l.b === b)!.state;
  expect(state(1, 2)).toBe('up');
  expect(state(1, 3)).toBe('down');
  expect(state(3, 4)).toBe('up');
  expect(clusterAt(events, ids, 2500).links.every((l) => l.state === 'up')).toBe(true);
});

test('a one-way cut is shown as one way', () => {
  const { events, ids } = record('figure-8.json');
  const cut = events.find((e) => e.type === 'network' && e.cuts.length > 0 && e.cuts.length < 8)!;
  const view = clusterAt(events, ids, cut.t);
  expect(view.links.filter((l) => l.state === 'one-way').length).toBeGreaterThan(0);
});
