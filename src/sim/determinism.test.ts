// A run is a function of its seed and its inputs: the same ones give the same trace, event for event, and so
// the same traceHash and the same result(). That is what makes a failing seed worth reporting, a scenario
// link worth sharing, and the browser's run comparable with the CLI's.
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../core/random.ts';
import type { NodeId } from '../core/types.ts';
import { Simulation, type SimulationOptions } from './simulation.ts';
import { traceEventToJson } from './trace.ts';

const RUN_MS = 4000;

/**
 * A busy run on 5 nodes: loss, duplication and reordering; the leader crashes and comes back; a partition
 * heals; a forced election; client puts through whichever node leads. Everything is scheduled up front from
 * the seed, before the run starts.
 */
function busyRun(seed: number, options: Partial<SimulationOptions> = {}): Simulation {
  const sim = new Simulation({ seed, nodes: 5, config: { lossRatio: 0.05, duplicateRatio: 0.05, latencyMs: [5, 40] }, ...options });
  const random = new SeededRandom(seed).fork(7);
  sim.schedule({ atMs: 800, do: 'crash', node: 'leader' });
  sim.at(1500, () => {
    for (const n of sim.nodes) if (!n.raft) sim.restart(n.id);
  });
  sim.schedule({ atMs: 2000, do: 'partition', groups: [[1, 2], [3, 4, 5]] });
  sim.schedule({ atMs: 2600, do: 'heal' });
  sim.schedule({ atMs: 3000, do: 'timeout', node: 2 });
  sim.schedule({ atMs: 3200, do: 'put', key: 'scheduled', value: 'yes' });
  for (let t = 20; t < RUN_MS; t += random.intBetween(10, 80)) {
    const key = `k${random.intBetween(1, 5)}`;
    const value = `${t}`;
    sim.at(t, () => {
      const target: NodeId = sim.leader() ?? 1;
      sim.submit(target, 'put', { op: 'put', key, value });
    });
  }
  return sim;
}

function finished(sim: Simulation): Simulation {
  sim.runUntil(RUN_MS);
  return sim;
}

describe('determinism', () => {
  it('the same seed and actions twice give the same traceHash and an identical result()', () => {
    const a = finished(busyRun(101));
    const b = finished(busyRun(101));
    expect(b.trace.traceHash()).toBe(a.trace.traceHash());
    expect(b.result()).toEqual(a.result());
    // The run was busy enough to mean something: thousands of events, entries committed, a leader at the end.
    const result = a.result();
    expect(result.events).toBeGreaterThan(2000);
    expect(result.violations).toEqual([]);
    expect(result.leader).not.toBeNull();
    expect(Math.max(...result.nodes.map((n) => n.commitIndex))).toBeGreaterThan(20);
  });

  it('the same seed twice gives the same trace, event for event', () => {
    const lines = (): string[] => {
      const out: string[] = [];
      finished(busyRun(102, { onTrace: (e) => out.push(traceEventToJson(e)) }));
      return out;
    };
    const first = lines();
    const second = lines();
    expect(second.length).toBe(first.length);
    const differsAt = first.findIndex((line, i) => line !== second[i]);
    expect(differsAt, differsAt >= 0 ? `first difference at event ${differsAt}:\n${first[differsAt]}\n${second[differsAt]}` : '').toBe(-1);
  });

  it('different seeds give different hashes', () => {
    const hashes = new Map<string, number>();
    for (let seed = 1; seed <= 12; seed++) {
      const hash = finished(busyRun(seed)).trace.traceHash();
      expect(hashes.get(hash), `seeds ${hashes.get(hash)} and ${seed} share the hash ${hash}`).toBeUndefined();
      hashes.set(hash, seed);
    }
  });

  it('a clean run is the same with the safety checker off (it only adds events when it finds a violation)', () => {
    const checked = finished(busyRun(103));
    const unchecked = finished(busyRun(103, { checkSafety: false }));
    expect(checked.violations).toEqual([]);
    expect(unchecked.checker).toBeNull();
    expect(unchecked.trace.traceHash()).toBe(checked.trace.traceHash());
    expect(unchecked.result()).toEqual(checked.result());
  });

  it('a run that breaks safety reports the same violations every time; without the checker only the violation events are missing', () => {
    // The teaching switch unsafeForgetVoteOnRestart and a scripted double vote (see lab.test.ts).
    const run = (checkSafety: boolean): Simulation => {
      const sim = new Simulation({
        seed: 104,
        nodes: 3,
        config: { latencyMs: [10, 10], electionTimeoutMs: [1000, 2000], unsafeForgetVoteOnRestart: true },
        checkSafety,
      });
      sim.network.setLinkLatency(2, 3, [20, 20]);
      sim.at(0, () => {
        sim.timeout(1);
        sim.timeout(2);
      });
      sim.at(15, () => {
        sim.crash(3);
        sim.restart(3);
      });
      sim.runUntil(200);
      return sim;
    };
    const a = run(true);
    const b = run(true);
    expect(a.violations.map((v) => v.invariant)).toContain('ElectionSafety');
    expect(b.violations).toEqual(a.violations);
    expect(b.trace.traceHash()).toBe(a.trace.traceHash());
    const quiet = run(false);
    expect(quiet.violations).toEqual([]);
    expect(quiet.trace.count).toBe(a.trace.count - a.violations.length);
    expect(quiet.trace.traceHash()).not.toBe(a.trace.traceHash());
  });

  it('a trace listener does not change the run', () => {
    let seen = 0;
    const listened = finished(busyRun(105, { onTrace: () => seen++ }));
    const plain = finished(busyRun(105));
    expect(seen).toBe(listened.trace.count);
    expect(listened.trace.traceHash()).toBe(plain.trace.traceHash());
  });

  it('how the clock is advanced does not matter: one runUntil, 1 ms steps, 37 ms steps, or step() by step()', () => {
    const once = finished(busyRun(106));
    const byMs = busyRun(106);
    for (let t = 1; t <= RUN_MS; t++) byMs.runUntil(t);
    const by37 = busyRun(106);
    for (let t = 37; t < RUN_MS + 37; t += 37) by37.runUntil(Math.min(t, RUN_MS));
    const stepped = busyRun(106);
    while (stepped.nextEventAt() <= RUN_MS) stepped.step();
    stepped.runUntil(RUN_MS);
    for (const sim of [byMs, by37, stepped]) {
      expect(sim.trace.traceHash()).toBe(once.trace.traceHash());
      expect(sim.result()).toEqual(once.result());
    }
  });

  it('two simulations advanced in turns do not affect each other', () => {
    const alone1 = finished(busyRun(107));
    const alone2 = finished(busyRun(108));
    const a = busyRun(107);
    const b = busyRun(108);
    for (let t = 5; t <= RUN_MS; t += 5) {
      a.runUntil(t);
      b.runUntil(t);
    }
    expect(a.trace.traceHash()).toBe(alone1.trace.traceHash());
    expect(b.trace.traceHash()).toBe(alone2.trace.traceHash());
  });
});

describe('timers', () => {
  it('a deadline already past when a setting changes still fires: CheckQuorum switched on mid-run keeps the leader ticking', () => {
    // The leader's CheckQuorum deadline was set long ago; switched on, it is past, so its timer fires at once.
    let heartbeats = 0;
    let leader: NodeId | null = null;
    const sim = new Simulation({
      seed: 1,
      nodes: 3,
      onTrace: (event) => {
        if (event.type === 'send' && event.node === leader && event.message.type === 'Heartbeat') heartbeats++;
      },
    });
    sim.runUntil(2000);
    leader = sim.leader();
    expect(leader).not.toBeNull();
    sim.setConfig('checkQuorum', true);
    sim.runUntil(4000);
    // Still leading and heartbeating: every 50 ms to 2 followers is 80 in 2 s.
    expect(sim.leader()).toBe(leader);
    expect(heartbeats).toBeGreaterThan(60);
  });
});
