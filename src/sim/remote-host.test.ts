// The playground runs each replica in a Web Worker: every call crosses a structured clone and an await. This
// drives the same simulation that way, in process, and checks it is the very same run as `step()`.
import { describe, expect, it } from 'vitest';
import { Replica, type ReplicaOutput } from './replica.ts';
import { createScenarioSimulation, runScenario } from './run-scenario.ts';
import { DEFAULT_SIM_CONFIG, parseScenarioText, type ScenarioAction } from './scenario.ts';
import { SeededRandom } from '../core/random.ts';
import { Simulation, type HostCall, type Work } from './simulation.ts';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Replicas behind structured clones and awaits, as in Web Workers; with `early`, it also hands each node the
 * deliveries the simulation says are settled before their turn (as the playground's worker host does), and
 * keeps the answers for when they come up.
 */
class ClonedHost {
  private readonly replicas = new Map<number, Replica>();
  private readonly answers = new Map<number, ReplicaOutput>();
  startedEarly = 0;

  constructor(private readonly early?: { sim: Simulation; untilMs: () => number }) {}

  async run(work: Work): Promise<void> {
    let step = work.next();
    while (!step.done) {
      const call = structuredClone(step.value);
      if (this.early && call.kind === 'input') {
        for (const delivery of this.early.sim.earlyDeliveries(call.node, this.early.untilMs())) {
          if (this.answers.has(delivery.event)) continue;
          this.startedEarly++;
          this.answers.set(delivery.event, (await this.call(structuredClone(delivery)))!);
        }
      }
      const answer = call.kind === 'input' && call.event !== undefined ? this.answers.get(call.event) : undefined;
      if (answer) this.answers.delete((call as { event: number }).event);
      step = work.next(answer ?? (await this.call(call)));
    }
  }

  get pendingEarly(): number {
    return this.answers.size;
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

async function runRemotely(sim: Simulation, host: ClonedHost, untilMs: number): Promise<void> {
  while (sim.nextEventAt() <= untilMs) await host.run(sim.nextWork()!);
  sim.runUntil(untilMs);
}

const scenarioDir = join(import.meta.dirname, '../../scenarios');

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

  it('nodes handed their settled deliveries early give the very same run (conservative lookahead)', async () => {
    let early = 0;
    for (const file of readdirSync(scenarioDir).filter((f) => f.endsWith('.json'))) {
      const scenario = parseScenarioText(readFileSync(join(scenarioDir, file), 'utf8'));
      const sim = new Simulation({ seed: scenario.seed, nodes: scenario.nodes, config: scenario.config, remoteHost: true });
      const host = new ClonedHost({ sim, untilMs: () => scenario.runUntilMs });
      await host.run(sim.start());
      for (const action of scenario.actions) sim.schedule(action);
      await runRemotely(sim, host, scenario.runUntilMs);
      expect(host.pendingEarly, file).toBe(0);
      expect(sim.trace.traceHash(), file).toBe(runScenario(scenario).traceHash);
      early += host.startedEarly;
    }
    expect(early).toBeGreaterThan(100);
  });

  it('with faults, client load and user actions at random moments, early deliveries change nothing', async () => {
    for (let seed = 1; seed <= 6; seed++) {
      const random = new SeededRandom(seed);
      const actions: ScenarioAction[] = [];
      for (let t = 50; t < 3000; t += random.intBetween(20, 120)) {
        const node = random.intBetween(1, 7);
        const pick = random.intBetween(0, 5);
        actions.push(
          pick === 0 ? { atMs: t, do: 'crash', node } :
          pick === 1 ? { atMs: t, do: 'restart', node } :
          pick === 2 ? { atMs: t, do: 'partition', groups: [[node]] } :
          pick === 3 ? { atMs: t, do: 'heal' } :
          pick === 4 ? { atMs: t, do: 'set', key: 'lossRatio', value: random.intBetween(0, 20) / 100 } :
          { atMs: t, do: 'put', key: `k${t % 7}`, value: `${t}` },
        );
      }
      const config = { latencyMs: [random.intBetween(1, 5), random.intBetween(6, 30)] as [number, number], duplicateRatio: 0.05 };
      const scenario = { version: 1 as const, seed, nodes: 7, config: { ...DEFAULT_SIM_CONFIG, ...config }, actions, runUntilMs: 3000 };
      const sim = new Simulation({ seed, nodes: 7, config, remoteHost: true });
      const host = new ClonedHost({ sim, untilMs: () => 3000 });
      await host.run(sim.start());
      for (const action of actions) sim.schedule(action);
      await runRemotely(sim, host, 3000);
      expect(sim.trace.traceHash(), `seed ${seed}`).toBe(runScenario(scenario).traceHash);
      expect(host.startedEarly).toBeGreaterThan(0);
    }
  });

  it('in-process calls are refused when the replicas run elsewhere', () => {
    const sim = new Simulation({ seed: 1, nodes: 3, remoteHost: true });
    expect(() => sim.crash(1)).toThrow('the replicas run elsewhere');
  });
});
