// Runs a scenario in a Web Worker: the simulator is the same code that runs in Node, and gives the same trace.
import { expose } from 'comlink';
import { explainEvent } from '../sim/explain.ts';
import { runScenario } from '../sim/run-scenario.ts';
import { parseScenarioText } from '../sim/scenario.ts';
import type { SimResult } from '../sim/simulation.ts';
import type { TraceEvent } from '../sim/trace.ts';

const EXPLAINED_EVENTS_MAX = 400;
/** Events kept for the replay: a lesson's few seconds are far fewer. */
const REPLAY_EVENTS_MAX = 100_000;

export interface ScenarioRun {
  readonly description: string;
  readonly result: SimResult;
  /** The first narrated events, in plain words. */
  readonly explained: readonly { readonly t: number; readonly text: string }[];
  /** The trace, for the replay (cut at REPLAY_EVENTS_MAX). */
  readonly events: readonly TraceEvent[];
}

const runner = {
  /** Throws the validation error (one sentence naming the JSON path) for a malformed file. */
  run(text: string): ScenarioRun {
    const scenario = parseScenarioText(text);
    const explained: { t: number; text: string }[] = [];
    const events: TraceEvent[] = [];
    const result = runScenario(scenario, {
      onTrace: (event) => {
        if (events.length < REPLAY_EVENTS_MAX) events.push(event);
        if (explained.length >= EXPLAINED_EVENTS_MAX) return;
        const sentence = explainEvent(event);
        if (sentence !== null) explained.push({ t: event.t, text: sentence });
      },
    });
    return { description: scenario.description ?? '', result, explained, events };
  },
};

export type ScenarioRunner = typeof runner;

expose(runner);
