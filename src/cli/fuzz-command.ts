// `raft-playground fuzz --seeds N [--first S] [--nodes K]`: random runs with faults, each checked after every
// event; a failure prints the seed, the broken invariant, the last events and the command that replays it.
import { formatMs } from '../check/linearizability.ts';
import { fuzzRun, replayCommand, type FuzzOutcome, type FuzzRunOptions, type FuzzSettings } from '../sim/fuzz.ts';
import { NODES_MAX } from '../sim/scenario.ts';
import { formatTraceEvent } from '../sim/explain.ts';
import { parseFlags, UsageError } from './args.ts';
import type { Command } from './main.ts';

const FAILURES_SHOWN_MAX = 5;

/** `--unsafe NAME` turns a teaching switch on for every run, to watch the checker catch what it breaks. */
const UNSAFE_SWITCHES = {
  'skip-vote-restriction': 'unsafeSkipVoteRestriction',
  'commit-previous-terms': 'unsafeCommitPreviousTerms',
  'forget-vote-on-restart': 'unsafeForgetVoteOnRestart',
} as const;
type UnsafeName = keyof typeof UNSAFE_SWITCHES;

export const fuzzCommand: Command = {
  summary:
    'Run N random seeds with faults, checking safety after every event (--seeds N [--first S] [--nodes K] [--membership] [--unsafe SWITCH]).',
  async run(argv) {
    const flags = parseFlags(argv, {
      seeds: { kind: 'number', required: true },
      first: { kind: 'number' },
      nodes: { kind: 'number' },
      unsafe: { kind: 'string' },
      membership: { kind: 'boolean' },
    });
    if (flags.seeds < 1) throw new UsageError(`--seeds expects at least 1, got ${flags.seeds}.`);
    const first = flags.first ?? 1;
    if (first < 0) throw new UsageError(`--first expects a seed of 0 or more, got ${first}.`);
    if (flags.nodes !== undefined && (flags.nodes < 1 || flags.nodes > NODES_MAX)) {
      throw new UsageError(`--nodes expects 1 to ${NODES_MAX}, got ${flags.nodes}.`);
    }
    const unsafe = flags.unsafe;
    if (unsafe !== undefined && !Object.hasOwn(UNSAFE_SWITCHES, unsafe)) {
      throw new UsageError(`--unsafe expects one of ${Object.keys(UNSAFE_SWITCHES).join(', ')}, got '${unsafe}'.`);
    }
    const options: FuzzRunOptions = {
      ...(flags.nodes === undefined ? {} : { nodes: flags.nodes }),
      ...(flags.membership ? { membershipChurn: true } : {}),
      ...(unsafe === undefined
        ? {}
        : { adjust: (s: FuzzSettings) => ({ ...s, config: { ...s.config, [UNSAFE_SWITCHES[unsafe as UnsafeName]]: true } }) }),
    };
    const replayFlags = [
      flags.nodes === undefined ? '' : ` --nodes ${flags.nodes}`,
      flags.membership ? ' --membership' : '',
      unsafe === undefined ? '' : ` --unsafe ${unsafe}`,
    ].join('');
    const started = performance.now();
    let failed = 0;
    let events = 0;
    const histories = { checked: 0, operations: 0, steps: 0, unknown: 0 };
    for (let seed = first; seed < first + flags.seeds; seed++) {
      const outcome = fuzzRun(seed, options);
      events += outcome.events;
      if (outcome.linearizability !== 'not-checked') {
        histories.checked++;
        histories.operations += outcome.operations;
        histories.steps += outcome.linearizabilitySteps;
        if (outcome.linearizability === 'unknown') histories.unknown++;
      }
      if (outcome.ok) continue;
      failed++;
      if (failed <= FAILURES_SHOWN_MAX) process.stdout.write(describeFailure(outcome, replayFlags));
    }
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(
      `${flags.seeds} seed(s) from ${first}: ${flags.seeds - failed} passed, ${failed} failed; ` +
        `${events.toLocaleString('en')} events checked in ${seconds.toFixed(1)} s\n` +
        `linearizability: ${histories.checked} client histories (${histories.operations.toLocaleString('en')} operations) checked in ` +
        `${histories.steps.toLocaleString('en')} search steps; ${histories.unknown} undecided within the budget\n`,
    );
    return failed === 0 ? 0 : 1;
  },
};

function describeFailure(outcome: FuzzOutcome, replayFlags: string): string {
  const what = outcome.violation
    ? `invariant=${outcome.violation.invariant} at t=${formatMs(outcome.violation.t)}ms: ${outcome.violation.message}`
    : `liveness: ${outcome.livenessProblem}`;
  const s = outcome.settings;
  return [
    `FAIL seed=${outcome.seed} ${what}`,
    `  settings: ${s.nodes} nodes, election ${s.config.electionTimeoutMs.join('-')} ms, heartbeat ${s.config.heartbeatMs} ms, ` +
      `latency ${s.config.latencyMs.join('-')} ms, loss ${s.config.lossRatio.toFixed(3)}, duplicates ${s.config.duplicateRatio.toFixed(3)}, ` +
      `preVote ${s.config.preVote}, checkQuorum ${s.config.checkQuorum}, ` +
      `entries/message ${s.config.entriesPerMessageMax}, in flight ${s.config.inflightMessagesMax}`,
    '  last events:',
    ...outcome.recent.map((event) => `    ${formatTraceEvent(event)}`),
    `  replay: ${replayCommand(outcome.seed)}${replayFlags}`,
    '',
  ].join('\n');
}
