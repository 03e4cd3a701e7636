// Randomized runs with faults in every `npm test`: each seed draws its cluster size, timings, loss,
// duplication, PreVote/CheckQuorum and a schedule of crashes, partitions, cuts, forced timeouts, transfers
// and client writes; the safety checker runs after every event and the liveness phase must converge.
import { describe, expect, test } from 'vitest';
import { formatTraceEvent } from './explain.ts';
import { fuzzRun, replayCommand } from './fuzz.ts';

const SEEDS = 1000;
const FIRST_SEED = 1;

function failureReport(seed: number): string {
  const outcome = fuzzRun(seed);
  // Every client history is decided: an undecided check would hide a violation as well as a pass.
  if (outcome.ok && outcome.linearizability === 'unknown') {
    return `seed=${seed}: the clients' history (${outcome.operations} operations) was undecided within the checker's budget (replay: ${replayCommand(seed)})`;
  }
  if (outcome.ok) return '';
  return [
    `seed=${seed}: ${outcome.violation ? `${outcome.violation.invariant}: ${outcome.violation.message}` : outcome.livenessProblem}`,
    ...outcome.recent.map(formatTraceEvent),
    `replay: ${replayCommand(seed)}`,
  ].join('\n');
}

describe(`${SEEDS} random seeds with faults`, () => {
  // Four chunks so that Vitest can spread them over the machine's cores.
  const chunk = SEEDS / 4;
  for (let part = 0; part < 4; part++) {
    const first = FIRST_SEED + part * chunk;
    test(`seeds ${first}..${first + chunk - 1}: no safety violation, every client history decided linearizable, and every cluster converges once healed`, () => {
      const failures: string[] = [];
      for (let seed = first; seed < first + chunk; seed++) {
        const report = failureReport(seed);
        if (report) failures.push(report);
      }
      expect(failures.slice(0, 3).join('\n\n')).toBe('');
    });
  }
});

test('200 seeds with membership churn between 3 and 7 voters (thesis §4): safe, and converging once healed', () => {
  const failures: string[] = [];
  for (let seed = 1; seed <= 200; seed++) {
    const outcome = fuzzRun(seed, { membershipChurn: true });
    if (outcome.ok && outcome.linearizability === 'unknown') failures.push(`seed=${seed}: the clients' history was undecided (replay: ${replayCommand(seed)} --membership)`);
    if (!outcome.ok) failures.push(`seed=${seed}: ${outcome.violation?.message ?? outcome.livenessProblem} (replay: ${replayCommand(seed)} --membership)`);
  }
  expect(failures.slice(0, 3).join('\n')).toBe('');
});

test('a fuzz run is a function of its seed', () => {
  expect(fuzzRun(77).traceHash).toBe(fuzzRun(77).traceHash);
  expect(fuzzRun(77).traceHash).not.toBe(fuzzRun(78).traceHash);
});

test.each([
  ['unsafeSkipVoteRestriction', 'LeaderCompleteness'],
  ['unsafeForgetVoteOnRestart', 'VoteChanged'],
] as const)('the fuzzer finds the breach that teaching switch %s causes (%s)', (key, invariant) => {
  const found = new Set<string>();
  for (let seed = 1; seed <= 60 && !found.has(invariant); seed++) {
    const outcome = fuzzRun(seed, { adjust: (s) => ({ ...s, config: { ...s.config, [key]: true } }) });
    if (outcome.violation) found.add(outcome.violation.invariant);
  }
  expect([...found]).toContain(invariant);
});
