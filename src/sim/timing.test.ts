// The simulator's clock and disk (config diskLatencyMs and subMillisecond): an answer that promises what a
// server wrote leaves only once the write is on disk, a request does not wait, a crash loses the answers still
// waiting, and a sub-millisecond clock is as deterministic as the whole-millisecond one.
import { describe, expect, it } from 'vitest';
import type { NodeId } from '../core/types.ts';
import type { SimConfig } from './scenario.ts';
import { Simulation } from './simulation.ts';
import type { TraceEvent } from './trace.ts';

function recorded(config: Partial<SimConfig>, seed = 7): { sim: Simulation; events: TraceEvent[] } {
  const events: TraceEvent[] = [];
  const sim = new Simulation({ seed, nodes: 5, config, onTrace: (event) => events.push(event) });
  return { sim, events };
}

describe('a disk that takes time', () => {
  it('holds a granted vote until the vote is on disk, and sends the vote requests at once', () => {
    const { sim, events } = recorded({ latencyMs: [1, 1], diskLatencyMs: [5, 5] });
    sim.runUntil(2000, () => sim.leader() !== null);
    expect(sim.leader()).not.toBeNull();
    const candidacies = events.filter((e) => e.type === 'role' && e.role === 'candidate');
    const requests = events.filter((e) => e.type === 'send' && e.message.type === 'RequestVote');
    expect(candidacies.length).toBeGreaterThan(0);
    for (const request of requests) {
      // The candidate wrote its new term and vote in the same instant it asked for votes.
      expect(candidacies.some((c) => c.node === request.node && c.t === request.t)).toBe(true);
    }
    const grants = events.filter((e) => e.type === 'send' && e.message.type === 'RequestVoteResponse' && e.message.granted);
    expect(grants.length).toBeGreaterThanOrEqual(2);
    for (const grant of grants) {
      if (grant.type !== 'send') continue;
      const asked = events.filter((e) => e.type === 'deliver' && e.messageType === 'RequestVote' && e.node === grant.node && e.from === grant.message.to && e.t <= grant.t).at(-1)!;
      expect(grant.t - asked.t).toBeGreaterThanOrEqual(5);
    }
  });

  it('loses the answers still waiting for the disk when their server crashes', () => {
    const { sim, events } = recorded({ latencyMs: [1, 1], diskLatencyMs: [50, 50] });
    sim.runUntil(2000, () => events.some((e) => e.type === 'deliver' && e.messageType === 'RequestVote'));
    const asked = events.find((e) => e.type === 'deliver' && e.messageType === 'RequestVote')!;
    if (asked.type !== 'deliver') throw new Error('unreachable');
    const voter: NodeId = asked.node;
    sim.runUntil(asked.t + 10);
    sim.crash(voter);
    sim.runUntil(asked.t + 200);
    expect(events.filter((e) => e.node === voter && e.type === 'send' && e.t > asked.t)).toEqual([]);
    // The write itself was asked for before the crash, so the vote it would have promised is kept.
    expect(sim.node(voter).storage.hardState.votedFor).toBe(asked.from);
  });

  it('with no disk latency (the default) answers leave in the instant they are made', () => {
    const { sim, events } = recorded({ latencyMs: [1, 1] });
    sim.runUntil(2000, () => sim.leader() !== null);
    const grants = events.filter((e) => e.type === 'send' && e.message.type === 'RequestVoteResponse' && e.message.granted);
    for (const grant of grants) {
      if (grant.type !== 'send') continue;
      expect(events.some((e) => e.type === 'deliver' && e.messageType === 'RequestVote' && e.node === grant.node && e.t === grant.t)).toBe(true);
    }
  });
});

describe('a sub-millisecond clock', () => {
  const busy = (subMillisecond: boolean) => {
    const { sim, events } = recorded({ subMillisecond, lossRatio: 0.05, latencyMs: [5, 20], diskLatencyMs: [1, 4] }, 11);
    sim.schedule({ atMs: 700, do: 'crash', node: 'leader' });
    sim.schedule({ atMs: 900, do: 'put', key: 'x', value: '1' });
    sim.at(1500, () => {
      for (const node of sim.nodes) if (!node.up) sim.restart(node.id);
    });
    sim.runUntil(3000);
    return { sim, events };
  };

  it('draws timers and delays between the milliseconds, and the same seed gives the same run', () => {
    const a = busy(true);
    expect(a.events.some((e) => !Number.isInteger(e.t))).toBe(true);
    expect(a.sim.result().violations).toEqual([]);
    expect(a.sim.leader()).not.toBeNull();
    const b = busy(true);
    expect(b.sim.trace.traceHash()).toBe(a.sim.trace.traceHash());
    expect(b.sim.result()).toEqual(a.sim.result());
  });

  it('is off by default: every time is a whole millisecond', () => {
    const { events } = busy(false);
    expect(events.length).toBeGreaterThan(500);
    expect(events.every((e) => Number.isInteger(e.t))).toBe(true);
  });
});
