// `raft-playground fuzz --seeds N [--first S] [--nodes K]`: random runs with faults, each checked after every
// event; a failure prints the seed, the broken invariant, the last events and the command that replays it.
import { fuzzRun, replayCommand, type FuzzOutcome } from '../sim/fuzz.ts';
import { NODES_MAX } from '../sim/scenario.ts';
import { formatTraceEvent } from '../sim/explain.ts';
import { parseFlags, UsageError } from './args.ts';
import type { Command } from './main.ts';

const FAILURES_SHOWN_MAX = 5;

export const fuzzCommand: Command = {
  summary: 'Run N random seeds with faults, checking safety after every event (--seeds N [--first S] [--nodes K]).',
  async run(argv) {
    const flags = parseFlags(argv, { seeds: { kind: 'number', required: true }, first: { kind: 'number' }, nodes: { kind: 'number' } });
    if (flags.seeds < 1) throw new UsageError(`--seeds expects at least 1, got ${flags.seeds}.`);
    const first = flags.first ?? 1;
    if (first < 0) throw new UsageError(`--first expects a seed of 0 or more, got ${first}.`);
    if (flags.nodes !== undefined && (flags.nodes < 1 || flags.nodes > NODES_MAX)) {
      throw new UsageError(`--nodes expects 1 to ${NODES_MAX}, got ${flags.nodes}.`);
    }
    const started = performance.now();
    let failed = 0;
    let events = 0;
    for (let seed = first; seed < first + flags.seeds; seed++) {
      const outcome = fuzzRun(seed, flags.nodes === undefined ? {} : { nodes: flags.nodes });
      events += outcome.events;
      if (outcome.ok) continue;
      failed++;
      if (failed <= FAILURES_SHOWN_MAX) process.stdout.write(describeFailure(outcome, flags.nodes));
    }
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(
      `${flags.seeds} seed(s) from ${first}: ${flags.seeds - failed} passed, ${failed} failed; ` +
        `${events.toLocaleString('en')} events checked in ${seconds.toFixed(1)} s\n`,
    );
    return failed === 0 ? 0 : 1;
  },
};

function describeFailure(outcome: FuzzOutcome, nodes: number | undefined): string {
  const what = outcome.violation
    ? `invariant=${outcome.violation.invariant} at t=${outcome.violation.t}ms: ${outcome.violation.message}`
    : `liveness: ${outcome.livenessProblem}`;
  const s = outcome.settings;
  return [
    `FAIL seed=${outcome.seed} ${what}`,
    `  settings: ${s.nodes} nodes, election ${s.config.electionTimeoutMs.join('-')} ms, heartbeat ${s.config.heartbeatMs} ms, ` +
      `latency ${s.config.latencyMs.join('-')} ms, loss ${s.config.lossRatio.toFixed(3)}, duplicates ${s.config.duplicateRatio.toFixed(3)}, ` +
      `preVote ${s.config.preVote}, checkQuorum ${s.config.checkQuorum}, ` +
      `entries/message ${s.tuning.entriesPerMessageMax}, in flight ${s.tuning.inflightMessagesMax}`,
    '  last events:',
    ...outcome.recent.map((event) => `    ${formatTraceEvent(event)}`),
    `  replay: ${replayCommand(outcome.seed, nodes)}`,
    '',
  ].join('\n');
}
