// The playground runs each replica in a Web Worker: every call crosses a structured clone and an await. This
// drives the same simulation that way, in process, and checks it is the very same run as `step()`.
import { describe, expect, it } from 'vitest';
import { Replica, type ReplicaOutput } from './replica.ts';
import { createScenarioSimulation, runScenario } from './run-scenario.ts';
import { parseScenarioText } from './scenario.ts';
import { Simulation, type HostCall, type Work } from './simulation.ts';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Replicas behind structured clones and awaits, as in Web Workers. */
class ClonedHost {
  private readonly replicas = new Map<number, Replica>();

  async run(work: Work): Promise<void> {
    let step = work.next();
    while (!step.done) step = work.next(await this.call(structuredClone(step.value)));
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

  it('in-process calls are refused when the replicas run elsewhere', () => {
    const sim = new Simulation({ seed: 1, nodes: 3, remoteHost: true });
    expect(() => sim.crash(1)).toThrow('the replicas run elsewhere');
  });
});
