// Linearizable reads (thesis §6.4): ReadIndex on the leader and through followers, the wait for a new
// leader's first commit, a deposed leader that cannot serve stale data, and lease reads (§6.4.1), which are
// fast while clocks keep within the drift bound, and stale when they do not.
import { describe, expect, test } from 'vitest';
import type { NodeId } from '../core/types.ts';
import type { SimConfig } from './scenario.ts';
import { Simulation } from './simulation.ts';
import type { TraceEvent } from './trace.ts';

interface ReadOutcome {
  value?: string | null;
  index?: number;
}

function cluster(config: Partial<SimConfig>, nodes = 5, seed = 1) {
  const events: TraceEvent[] = [];
  const sim = new Simulation({ seed, nodes, config: { latencyMs: [5, 5], ...config }, onTrace: (e) => events.push(e) });
  sim.at(1, () => sim.timeout(1));
  sim.runUntil(200);
  expect(sim.leader()).toBe(1);
  return { sim, events };
}

function put(sim: Simulation, node: NodeId, key: string, value: string): { done: boolean } {
  const status = { done: false };
  sim.submit(node, 'put', { op: 'put', key, value }, () => (status.done = true));
  return status;
}

function read(sim: Simulation, node: NodeId, key: string): ReadOutcome {
  const outcome: ReadOutcome = {};
  sim.read(node, key, (result, index) => {
    outcome.value = (result as { value: string | null }).value;
    outcome.index = index;
  });
  return outcome;
}

const heartbeatsSent = (events: TraceEvent[], after: number) =>
  events.filter((e) => e.t > after && e.type === 'send' && e.message.type === 'Heartbeat').length;

describe('ReadIndex (thesis §6.4)', () => {
  test('a read on the leader returns the latest completed write, after a heartbeat round a majority answered', () => {
    const { sim, events } = cluster({});
    const write = put(sim, 1, 'x', '1');
    sim.runUntil(300);
    expect(write.done).toBe(true);
    const before = sim.now;
    const result = read(sim, 1, 'x');
    sim.runUntil(before + 9);
    expect(result.value).toBeUndefined(); // the round trip to a majority takes 10 ms
    sim.runUntil(before + 10);
    expect(result.value).toBe('1');
    expect(events.some((e) => e.type === 'read' && e.via === 'heartbeat-round' && e.t === before + 10)).toBe(true);
    expect(sim.violations).toEqual([]);
  });

  test('a follower serves a read by asking the leader for the read index, then waiting to apply it', () => {
    const { sim, events } = cluster({});
    put(sim, 1, 'x', '1');
    sim.runUntil(300);
    const result = read(sim, 4, 'x');
    sim.runUntil(400);
    expect(result).toEqual({ value: '1', index: 2 });
    expect(events.some((e) => e.type === 'send' && e.message.type === 'ReadIndex' && e.message.from === 4)).toBe(true);
    expect(events.some((e) => e.type === 'read' && e.requester === 4)).toBe(true);
  });

  test('a new leader answers reads only after an entry of its own term commits (§6.4 step 1)', () => {
    const { sim, events } = cluster({});
    sim.at(300, () => sim.timeout(2));
    let asked = 0;
    sim.at(300, () => {
      // S2 is a candidate; as soon as it leads, ask it for a read before its no-op commits.
      const poll = () => {
        if (sim.node(2).raft!.role === 'leader') {
          asked = sim.now;
          read(sim, 2, 'x');
        } else sim.at(sim.now + 1, poll);
      };
      poll();
    });
    sim.runUntil(600);
    const commitOwnTerm = events.find((e) => e.type === 'commit' && e.node === 2 && e.t >= asked)!;
    const answered = events.find((e) => e.type === 'read' && e.node === 2)!;
    expect(asked).toBeGreaterThan(0);
    expect(answered.t).toBeGreaterThanOrEqual(commitOwnTerm.t);
  });

  test('a deposed leader cut off in a minority never serves a stale read; its read is refused once it learns', () => {
    const { sim } = cluster({ checkQuorum: false });
    put(sim, 1, 'x', 'old');
    sim.runUntil(300);
    sim.network.partition([[1]], [1, 2, 3, 4, 5]);
    sim.at(310, () => sim.timeout(2));
    sim.runUntil(500);
    expect(sim.node(2).raft!.role).toBe('leader');
    const write = put(sim, 2, 'x', 'new');
    sim.runUntil(600);
    expect(write.done).toBe(true);
    expect(sim.node(1).raft!.role).toBe('leader'); // it does not know yet
    const stale = read(sim, 1, 'x');
    sim.runUntil(2000);
    expect(stale.value).toBeUndefined(); // no majority answers its heartbeats: the read waits
    sim.network.heal();
    sim.runUntil(2300);
    expect(stale.value).toBeUndefined(); // it stepped down, and the read was refused, never answered stale
    expect(sim.node(1).raft!.role).toBe('follower');
    expect(sim.violations).toEqual([]);
  });
});

describe('lease reads (thesis §6.4.1)', () => {
  test('while its lease holds, the leader answers reads without a heartbeat round', () => {
    const { sim, events } = cluster({ readMode: 'lease', checkQuorum: true });
    put(sim, 1, 'x', '1');
    sim.runUntil(300);
    const at = sim.now;
    const result = read(sim, 1, 'x');
    sim.runUntil(at); // answered at once, in the same millisecond
    expect(result.value).toBe('1');
    expect(heartbeatsSent(events, at - 1)).toBe(0);
    expect(events.some((e) => e.type === 'read' && e.via === 'lease')).toBe(true);
  });

  test('during a leadership transfer the leader gives up its lease: the target is elected past the voters\' leases (§3.10)', () => {
    const { sim, events } = cluster({ readMode: 'lease', checkQuorum: true });
    sim.runUntil(300);
    sim.network.cut(2, 1); // the target's answers are lost, so the transfer stays under way
    sim.transfer(2);
    read(sim, 1, 'x');
    sim.runUntil(310);
    expect(events.filter((e) => e.type === 'read').map((e) => (e.type === 'read' ? e.via : ''))).not.toContain('lease');
  });

  test('without CheckQuorum, lease mode falls back to a heartbeat round (voters would not honour a lease)', () => {
    const { sim, events } = cluster({ readMode: 'lease', checkQuorum: false });
    sim.runUntil(300);
    read(sim, 1, 'x');
    sim.runUntil(320);
    expect(events.filter((e) => e.type === 'read').map((e) => (e.type === 'read' ? e.via : ''))).toEqual(['heartbeat-round']);
  });

  function partitionedLeaderWithFastClocks(rate: number) {
    const { sim } = cluster({ readMode: 'lease', checkQuorum: true, electionTimeoutMs: [300, 600], heartbeatMs: 50 });
    put(sim, 1, 'x', 'old');
    sim.runUntil(300);
    // The followers' clocks run `rate` times as fast as the leader's: they stop honouring its lease early.
    for (const id of [2, 3, 4, 5]) sim.setClockRate(id, rate);
    sim.network.partition([[1]], [1, 2, 3, 4, 5]);
    let newLeaderWroteAt = 0;
    const watch = () => {
      const leader = sim.leader();
      if (leader !== null && leader !== 1) put(sim, leader, 'x', 'new');
      else sim.at(sim.now + 1, watch);
    };
    sim.at(sim.now + 1, watch);
    // The old leader keeps reading from its lease; record what it returns and when.
    const reads: { at: number; outcome: ReadOutcome }[] = [];
    for (let t = 310; t < 700; t += 5) sim.at(t, () => reads.push({ at: sim.now, outcome: read(sim, 1, 'x') }));
    sim.runUntil(700, () => {
      if (newLeaderWroteAt === 0 && sim.nodes.some((n) => n.machine.get('x') === 'new')) newLeaderWroteAt = sim.now;
      return false;
    });
    return { sim, reads, newLeaderWroteAt };
  }

  test('with clocks inside the drift bound, a partitioned leader lets its lease lapse before anyone else can lead', () => {
    const { sim } = partitionedLeaderWithFastClocks(1.05);
    expect(sim.violations.filter((v) => v.invariant === 'StaleRead')).toEqual([]);
  });

  test('with clocks running faster than the drift bound allows, a lease read returns stale data, and the alarm sounds', () => {
    const { sim, reads, newLeaderWroteAt } = partitionedLeaderWithFastClocks(2);
    expect(newLeaderWroteAt).toBeGreaterThan(0);
    // The old leader answered from its lease after the new value was written elsewhere.
    const staleAnswers = reads.filter((r) => r.at > newLeaderWroteAt && r.outcome.value === 'old');
    expect(staleAnswers.length).toBeGreaterThan(0);
    const alarms = sim.violations.filter((v) => v.invariant === 'StaleRead');
    expect(alarms.length).toBe(staleAnswers.length);
    expect(alarms[0]!.message).toMatch(/^a read of x through S1 began at t=\d+ms after a write at index 4 had completed, but was answered at index 2$/);
  });
});
