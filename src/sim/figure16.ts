// The Raft paper's Figure 16 (§9.3) in the simulator: how long a 5-server cluster goes without a leader after its
// leader crashes, for ranges of election timeouts. As in the paper, the broadcast time is about 15 ms, and the
// leader crashes at a uniformly random point of its heartbeat interval; each trial is one seed. The figures are
// virtual time, so they are the same on any machine.
import { SeededRandom } from '../core/random.ts';
import type { NodeId } from '../core/types.ts';
import { Simulation } from './simulation.ts';
import type { TraceEvent } from './trace.ts';

export interface Figure16Range {
  readonly timeoutMs: readonly [number, number];
  /** What the paper says of this range, where it says something. */
  readonly paper?: { readonly what: 'median' | 'mean' | 'max'; readonly ms: number };
}

/** The ranges of the figure's two graphs, and the three figures the paper's text states. */
export const FIGURE16_RANGES: readonly Figure16Range[] = [
  { timeoutMs: [150, 150] },
  { timeoutMs: [150, 151] },
  { timeoutMs: [150, 155], paper: { what: 'median', ms: 287 } },
  { timeoutMs: [150, 175] },
  { timeoutMs: [150, 200], paper: { what: 'max', ms: 513 } },
  { timeoutMs: [150, 300] },
  { timeoutMs: [12, 24], paper: { what: 'mean', ms: 35 } },
  { timeoutMs: [25, 50] },
  { timeoutMs: [50, 100] },
  { timeoutMs: [100, 200] },
];

/** One-way delay: a round trip, the broadcast time, of about 15 ms. */
const LATENCY_MS: [number, number] = [7, 8];
/** A trial that has not elected a leader this long after the crash gives up (it counts as this long). */
export const GIVE_UP_MS = 60_000;

export interface Figure16Row {
  readonly range: Figure16Range;
  readonly trials: number;
  readonly median: number;
  readonly mean: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  /** Trials with no leader within GIVE_UP_MS (counted at that). */
  readonly gaveUp: number;
}

/** Time without a leader after the crash, in `trials` seeded trials of `range`. */
export function figure16Row(range: Figure16Range, trials: number): Figure16Row {
  const downtimes: number[] = [];
  for (let trial = 1; trial <= trials; trial++) downtimes.push(downtime(range.timeoutMs, trial));
  downtimes.sort((a, b) => a - b);
  const at = (q: number) => downtimes[Math.min(downtimes.length - 1, Math.floor(q * downtimes.length))]!;
  return {
    range,
    trials,
    median: at(0.5),
    mean: downtimes.reduce((sum, d) => sum + d, 0) / downtimes.length,
    p90: at(0.9),
    p99: at(0.99),
    max: downtimes[downtimes.length - 1]!,
    gaveUp: downtimes.filter((d) => d >= GIVE_UP_MS).length,
  };
}

function downtime(timeoutMs: readonly [number, number], seed: number): number {
  // The heartbeat is well inside the shortest timeout, as the paper's leader sends them.
  const heartbeatMs = Math.max(1, Math.floor(timeoutMs[0] / 3));
  let newLeaderAt = Infinity;
  let crashedLeader: NodeId = 0;
  let crashedAt = Infinity;
  const sim = new Simulation({
    seed,
    nodes: 5,
    checkSafety: false,
    config: { electionTimeoutMs: [timeoutMs[0], timeoutMs[1]], heartbeatMs, latencyMs: LATENCY_MS },
    onTrace: (event: TraceEvent) => {
      if (event.type === 'role' && event.role === 'leader' && event.t >= crashedAt && event.node !== crashedLeader && newLeaderAt === Infinity) newLeaderAt = event.t;
    },
  });
  // A settled cluster first: a leader, and a few heartbeat rounds after it.
  sim.runUntil(10_000, () => sim.leader() !== null);
  const leader = sim.leader();
  if (leader === null) return GIVE_UP_MS;
  const phase = new SeededRandom(seed).fork(0xf16).intBetween(0, heartbeatMs - 1);
  sim.runUntil(sim.now + 10 * heartbeatMs + phase);
  crashedLeader = leader;
  crashedAt = sim.now;
  sim.crash(leader);
  sim.runUntil(crashedAt + GIVE_UP_MS, () => newLeaderAt !== Infinity);
  return Math.min(GIVE_UP_MS, newLeaderAt - crashedAt);
}
