// Simulated clients and the histories they record: retries through leader changes take effect exactly once
// (thesis §6.3), every fuzz-like history is linearizable, and the checker rejects a history that is not.
import { describe, expect, test } from 'vitest';
import { SeededRandom } from '../core/random.ts';
import { checkKvHistory } from '../check/kv-linearizability.ts';
import { ClientFleet, DEFAULT_CLIENT_FLEET } from './clients.ts';
import { runLivenessPhase } from './liveness.ts';
import { Simulation } from './simulation.ts';

describe('a fleet of clients on a faulty cluster', () => {
  test('records a substantial history of every operation kind, and it is linearizable', () => {
    const sim = new Simulation({ seed: 5, nodes: 5, config: { lossRatio: 0.05, duplicateRatio: 0.05, latencyMs: [2, 20] } });
    const fleet = new ClientFleet(sim, new SeededRandom(5), { ...DEFAULT_CLIENT_FLEET, clients: 5 });
    fleet.start(0);
    for (let t = 500; t < 4000; t += 700) {
      sim.at(t, () => sim.crash(sim.leader() ?? 1));
      sim.at(t + 300, () => sim.nodes.filter((n) => !n.raft).forEach((n) => sim.restart(n.id)));
    }
    sim.runUntil(4000);
    fleet.stop();
    runLivenessPhase(sim);
    const history = fleet.takeHistory();
    expect(history.length).toBeGreaterThan(150);
    for (const op of ['get', 'put', 'cas', 'delete'] as const) expect(history.some((h) => h.op === op)).toBe(true);
    expect(history.some((h) => h.op === 'get' && h.result?.ok === true)).toBe(true);
    const result = checkKvHistory(history);
    expect(result.verdict).toBe('linearizable');
    expect(sim.violations).toEqual([]);
  });
});

describe('exactly-once sessions (thesis §6.3)', () => {
  function enqueueThroughACrash(withSession: boolean): number {
    const sim = new Simulation({ seed: 2, nodes: 3, config: { latencyMs: [5, 5] } });
    sim.at(1, () => sim.timeout(1));
    sim.runUntil(100);
    const session = withSession ? { session: { client: 'worker-1', sequence: 1 } } : {};
    // The leader appends and replicates the enqueue, then crashes before it can answer: the client hears
    // "lost" and sends the same request to the new leader, which already holds the first copy.
    const retry = () => {
      sim.at(sim.now + 200, () => {
        const leader = sim.leader()!;
        sim.submit(leader, 'enqueue', { op: 'enqueue', queue: 'jobs', payload: 'send-email' }, undefined, session);
      });
    };
    sim.submit(1, 'enqueue', { op: 'enqueue', queue: 'jobs', payload: 'send-email' }, undefined, { ...session, onFail: retry });
    sim.at(106, () => sim.crash(1)); // the AppendEntries reached the followers at 105
    sim.runUntil(1000);
    const leader = sim.node(sim.leader()!);
    return leader.machine.queues().find((q) => q.name === 'jobs')!.pending;
  }

  test('without a session, a retried enqueue is applied twice', () => {
    expect(enqueueThroughACrash(false)).toBe(2);
  });

  test('with a session, the retry gets the first result and the task is enqueued once', () => {
    expect(enqueueThroughACrash(true)).toBe(1);
  });
});

describe('the linearizability checker on real histories', () => {
  test('stale lease reads (clocks beyond the drift bound) make a history the checker rejects, and it says why', () => {
    // The simulator's own stale-read alarm is off here (checkSafety false): the history alone must show it.
    const sim = new Simulation({
      seed: 1,
      nodes: 5,
      checkSafety: false,
      config: { readMode: 'lease', checkQuorum: true, electionTimeoutMs: [300, 600], latencyMs: [5, 5] },
    });
    const fleet = new ClientFleet(sim, new SeededRandom(9), { clients: 4, keys: 1, requestTimeoutMs: 60, thinkMsMax: 5 });
    sim.at(1, () => sim.timeout(1));
    sim.at(50, () => fleet.start(sim.now));
    sim.at(300, () => {
      for (const id of [2, 3, 4, 5]) sim.setClockRate(id, 2);
      // S1 is cut off from the others but its clients still reach it: they keep reading from its lease.
      sim.network.partition([[1]], [1, 2, 3, 4, 5]);
    });
    // One more client keeps reading through S1, whose lease it trusts.
    for (let t = 310; t < 700; t += 5) {
      sim.at(t, () => {
        const callMs = sim.now;
        sim.read(1, 'k1', (result) => fleet.record('pinned-to-S1', { op: 'get', key: 'k1' }, callMs, sim.now, result as { ok: boolean }));
      });
    }
    sim.runUntil(1200);
    fleet.stop();
    const result = checkKvHistory(fleet.takeHistory());
    expect(result.verdict).toBe('not-linearizable');
    expect(result.explanation).toMatch(/get/);
  });
});

describe('task queue traffic from the clients', () => {
  test('workers enqueue, claim, acknowledge and give back tasks through faults, and the queue keeps its guarantees', async () => {
    const { checkQueueHistory } = await import('../check/queue-guarantees.ts');
    const sim = new Simulation({ seed: 8, nodes: 5, config: { lossRatio: 0.05, latencyMs: [2, 20] } });
    const fleet = new ClientFleet(sim, new SeededRandom(8), { ...DEFAULT_CLIENT_FLEET, clients: 6 });
    fleet.start(0);
    for (let t = 800; t < 5000; t += 900) {
      sim.at(t, () => sim.crash(sim.leader() ?? 1));
      sim.at(t + 300, () => sim.nodes.filter((n) => !n.raft).forEach((n) => sim.restart(n.id)));
    }
    sim.runUntil(5000);
    fleet.stop();
    const history = fleet.takeQueueHistory();
    const count = (op: string) => history.filter((h) => h.op === op && h.result?.ok === true).length;
    expect(count('enqueue')).toBeGreaterThan(20);
    expect(count('claim')).toBeGreaterThan(20);
    expect(count('ack')).toBeGreaterThan(10);
    expect(count('nack')).toBeGreaterThan(2);
    expect(checkQueueHistory(history)).toMatchObject({ ok: true, problems: [] });
    expect(sim.violations).toEqual([]);
  });
});
