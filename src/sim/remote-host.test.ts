// The playground runs each replica in a Web Worker: every call crosses a structured clone and an await. This
// drives the same simulation that way, in process, one event at a time and a lookahead window at a time, and
// checks it is the very same run as `step()`.
import { describe, expect, it } from 'vitest';
import { Replica, type ReplicaOutput } from './replica.ts';
import { createScenarioSimulation, runScenario } from './run-scenario.ts';
import { DEFAULT_SIM_CONFIG, parseScenarioText, type Scenario, type ScenarioAction } from './scenario.ts';
import { PlannedAnswers, planNodeWindow, type PlannedInput, type Window } from './lookahead.ts';
import { SeededRandom } from '../core/random.ts';
import { Simulation, type HostCall, type Work } from './simulation.ts';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Replicas behind structured clones and awaits, as in Web Workers. */
class ClonedHost {
  private readonly replicas = new Map<number, Replica>();
  /** Windows run with lookahead, and the inputs the nodes worked out in them. */
  windows = 0;
  planned = 0;

  async run(work: Work): Promise<void> {
    let step = work.next();
    while (!step.done) step = work.next(await this.call(structuredClone(step.value)));
  }

  /** As the playground's worker host does: each node works out its share of the window, then the driver runs it. */
  async runWindow(sim: Simulation, window: Window): Promise<void> {
    const plans = new Map<number, PlannedInput[]>();
    await Promise.all(
      window.nodes.map(async (share) => {
        await Promise.resolve();
        const replica = this.replicas.get(share.node)!;
        const planned = planNodeWindow(structuredClone(share), window.endMs, (input, nowMs) => replica.handle(input, nowMs));
        plans.set(share.node, structuredClone(planned));
        this.planned += planned.length;
      }),
    );
    this.windows++;
    sim.runWindow(window, new PlannedAnswers(plans));
  }

  private async call(call: HostCall): Promise<ReplicaOutput | null> {
    await Promise.resolve();
    switch (call.kind) {
      case 'boot': {
        const replica = new Replica(call.boot);
        this.replicas.set(call.node, replica);
        return structuredClone(replica.start());
      }
      case 'crash':
        this.replicas.delete(call.node);
        return null;
      case 'input':
        return structuredClone(this.replicas.get(call.node)!.handle(call.input, call.nowMs));
    }
  }
}

/** Run to `untilMs` one event at a time, or with `lookahead` a window at a time where the simulation allows. */
async function runRemotely(sim: Simulation, host: ClonedHost, untilMs: number, lookahead = false): Promise<void> {
  while (sim.nextEventAt() <= untilMs) {
    const window = lookahead ? sim.lookahead(untilMs) : null;
    if (window) await host.runWindow(sim, window);
    else await host.run(sim.nextWork()!);
  }
  sim.runUntil(untilMs);
}

/** A scenario run remotely with lookahead; returns its trace hash and the host. */
async function runWithLookahead(scenario: Scenario, breakLookahead = false): Promise<{ hash: string; host: ClonedHost }> {
  const sim = new Simulation({ seed: scenario.seed, nodes: scenario.nodes, config: scenario.config, remoteHost: true, detailedStatus: true });
  if (breakLookahead) {
    // A deliberately wrong window, one millisecond wider than the least latency allows.
    const least = sim.network.minLatencyMs.bind(sim.network);
    sim.network.minLatencyMs = () => least() + 1;
  }
  const host = new ClonedHost();
  await host.run(sim.start());
  for (const action of scenario.actions) sim.schedule(action);
  await runRemotely(sim, host, scenario.runUntilMs, true);
  return { hash: sim.trace.traceHash(), host };
}

const scenarioDir = join(import.meta.dirname, '../../scenarios');

/** Seven nodes under crashes, restarts, partitions, loss, duplicates, clock drift and client writes at random moments. */
function randomFaults(seed: number): Scenario {
  const random = new SeededRandom(seed);
  const actions: ScenarioAction[] = [];
  for (let t = 50; t < 3000; t += random.intBetween(20, 120)) {
    const node = random.intBetween(1, 7);
    const pick = random.intBetween(0, 6);
    actions.push(
      pick === 0 ? { atMs: t, do: 'crash', node } :
      pick === 1 ? { atMs: t, do: 'restart', node } :
      pick === 2 ? { atMs: t, do: 'partition', groups: [[node]] } :
      pick === 3 ? { atMs: t, do: 'heal' } :
      pick === 4 ? { atMs: t, do: 'set', key: 'lossRatio', value: random.intBetween(0, 20) / 100 } :
      pick === 5 ? { atMs: t, do: 'clock', node, rate: random.intBetween(8, 12) / 10 } :
      { atMs: t, do: 'put', key: `k${t % 7}`, value: `${t}` },
    );
  }
  // Half the seeds on a sub-millisecond clock with a disk that takes time: windows end between milliseconds.
  const fine = seed % 2 === 0;
  const config = {
    latencyMs: [random.intBetween(1, 5), random.intBetween(6, 30)] as [number, number],
    duplicateRatio: 0.05,
    subMillisecond: fine,
    diskLatencyMs: (fine ? [1, 4] : [0, 0]) as [number, number],
  };
  return { version: 1, seed, nodes: 7, config: { ...DEFAULT_SIM_CONFIG, ...config }, actions, runUntilMs: 3000 };
}

describe('replicas behind clones and awaits (as in Web Workers)', () => {
  for (const file of readdirSync(scenarioDir).filter((f) => f.endsWith('.json'))) {
    it(`${file}: the same trace hash and result as in process`, async () => {
      const scenario = parseScenarioText(readFileSync(join(scenarioDir, file), 'utf8'));
      const expected = runScenario(scenario);
      const sim = new Simulation({ seed: scenario.seed, nodes: scenario.nodes, config: scenario.config, remoteHost: true });
      const host = new ClonedHost();
      await host.run(sim.start());
      for (const action of scenario.actions) sim.schedule(action);
      await runRemotely(sim, host, scenario.runUntilMs);
      const local = createScenarioSimulation(scenario);
      local.runUntil(scenario.runUntilMs);
      const hashes = new Map(local.nodes.map((n) => [n.id, n.machine.hash()]));
      expect(sim.result(hashes)).toEqual(expected);
    });
  }

  it('an action scheduled while the run goes takes the place it has in a file scheduled up front', async () => {
    // As the playground does: act one millisecond after the events already run.
    const sim = new Simulation({ seed: 7, nodes: 5, remoteHost: true });
    const host = new ClonedHost();
    await host.run(sim.start());
    await runRemotely(sim, host, 1200);
    const crashAt = sim.now + 1;
    sim.schedule({ atMs: crashAt, do: 'crash', node: 'leader' });
    await runRemotely(sim, host, 2500);
    const putAt = sim.now + 1;
    sim.schedule({ atMs: putAt, do: 'put', key: 'x', value: '1' });
    await runRemotely(sim, host, 4000);

    const replay = createScenarioSimulation({
      version: 1, seed: 7, nodes: 5, config: sim.config, runUntilMs: 4000,
      actions: [
        { atMs: crashAt, do: 'crash', node: 'leader' },
        { atMs: putAt, do: 'put', key: 'x', value: '1' },
      ],
    });
    replay.runUntil(4000);
    expect(sim.trace.traceHash()).toBe(replay.trace.traceHash());
    expect(sim.trace.count).toBe(replay.trace.count);
  });

  it('nodes that work out their lookahead windows in parallel give the very same run', async () => {
    let windows = 0;
    let planned = 0;
    for (const file of readdirSync(scenarioDir).filter((f) => f.endsWith('.json'))) {
      const scenario = parseScenarioText(readFileSync(join(scenarioDir, file), 'utf8'));
      const { hash, host } = await runWithLookahead(scenario);
      expect(hash, file).toBe(runScenario(scenario).traceHash);
      windows += host.windows;
      planned += host.planned;
    }
    expect(windows).toBeGreaterThan(100);
    expect(planned / windows).toBeGreaterThan(2); // a window carries several inputs: fewer round trips
  });

  it('with faults, client load and user actions at random moments, lookahead changes nothing', async () => {
    for (let seed = 1; seed <= 8; seed++) {
      const scenario = randomFaults(seed);
      const { hash, host } = await runWithLookahead(scenario);
      expect(hash, `seed ${seed}`).toBe(runScenario(scenario).traceHash);
      expect(host.windows).toBeGreaterThan(0);
    }
  });

  it('on a sub-millisecond clock, running to a millisecond runs nothing after it (as the page steps)', async () => {
    const scenario = randomFaults(2);
    const sim = new Simulation({ seed: scenario.seed, nodes: scenario.nodes, config: scenario.config, remoteHost: true });
    const host = new ClonedHost();
    await host.run(sim.start());
    for (const action of scenario.actions) sim.schedule(action);
    for (let target = 7; target <= scenario.runUntilMs; target += 7) {
      await runRemotely(sim, host, target, true);
      expect(sim.now).toBe(target);
    }
    await runRemotely(sim, host, scenario.runUntilMs, true);
    expect(sim.trace.traceHash()).toBe(runScenario(scenario).traceHash);
  });

  it('a window one millisecond too wide is caught: the run stops rather than differ', async () => {
    const caught: string[] = [];
    for (let seed = 1; seed <= 8; seed++) {
      await runWithLookahead(randomFaults(seed), true).catch((error: Error) => caught.push(error.message));
    }
    expect(caught.length).toBeGreaterThan(0);
    for (const message of caught) expect(message).toMatch(/^lookahead diverged: S\d/);
  });

  it('in-process calls are refused when the replicas run elsewhere', () => {
    const sim = new Simulation({ seed: 1, nodes: 3, remoteHost: true });
    expect(() => sim.crash(1)).toThrow('the replicas run elsewhere');
  });
});
