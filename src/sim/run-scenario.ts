// Run a scenario file in the simulator (SPEC §3, §4): the same file gives the same run, and the same
// traceHash, in the CLI, in tests and in the browser.
import type { Scenario } from './scenario.ts';
import { Simulation, type SimResult, type SimulationOptions } from './simulation.ts';

export function createScenarioSimulation(scenario: Scenario, options: Pick<SimulationOptions, 'onTrace' | 'checkSafety'> = {}): Simulation {
  const sim = new Simulation({ seed: scenario.seed, nodes: scenario.nodes, config: scenario.config, ...options });
  for (const action of scenario.actions) sim.schedule(action);
  return sim;
}

export function runScenario(scenario: Scenario, options: Pick<SimulationOptions, 'onTrace' | 'checkSafety'> = {}): SimResult {
  const sim = createScenarioSimulation(scenario, options);
  sim.runUntil(scenario.runUntilMs);
  return sim.result();
}
