// The Raft paper's Figure 16 (§9.3) in the simulator: how long a 5-server cluster goes without a leader after its
// leader crashes, for ranges of election timeouts. As in the paper, the broadcast time is about 15 ms, the leader
// sends a heartbeat every half minimum timeout and crashes at a uniformly random point of that interval, and the
// clock has sub-millisecond resolution (150–155 ms is a continuous range, not six values); each trial is one seed.
// The figures are virtual time, so they are the same on any machine.
import { FINE_TIME_STEP_MS, SeededRandom, timeBetween } from '../core/random.ts';
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

/** Where the broadcast time is spent: the network (one way) and the disk (each persist). */
export interface Figure16Setup {
  readonly latencyMs: [number, number];
  readonly diskLatencyMs: [number, number];
}

/**
 * A round trip of about 15 ms, most of it on the voter's disk: a vote request arrives in 2–3 ms, and the answer
 * leaves after the vote is on disk (6–10 ms). Where the split votes happen depends on this: candidates whose
 * timeouts differ by less than the request's one-way delay split the vote, and the paper's 287 ms median for
 * 150–155 ms needs that window well inside the 5 ms of randomness (with the 15 ms all in the network it is ~1.8 s).
 */
export const FIGURE16_SETUP: Figure16Setup = { latencyMs: [2, 3], diskLatencyMs: [6, 10] };
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
export function figure16Row(range: Figure16Range, trials: number, setup: Figure16Setup = FIGURE16_SETUP): Figure16Row {
  const downtimes: number[] = [];
  for (let trial = 1; trial <= trials; trial++) downtimes.push(downtime(range.timeoutMs, trial, setup));
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

function downtime(timeoutMs: readonly [number, number], seed: number, setup: Figure16Setup): number {
  // As in the paper, the leader's heartbeat interval is half the minimum election timeout.
  const heartbeatMs = Math.max(1, Math.floor(timeoutMs[0] / 2));
  let newLeaderAt = Infinity;
  let crashedLeader: NodeId = 0;
  let crashedAt = Infinity;
  const sim = new Simulation({
    seed,
    nodes: 5,
    checkSafety: false,
    config: { heartbeatMs, latencyMs: setup.latencyMs, diskLatencyMs: setup.diskLatencyMs, subMillisecond: true },
    onTrace: (event: TraceEvent) => {
      if (event.type === 'role' && event.role === 'leader' && event.t >= crashedAt && event.node !== crashedLeader && newLeaderAt === Infinity) newLeaderAt = event.t;
    },
  });
  // A settled cluster first: a leader elected with the usual timeouts (a cold start under 12–24 ms can take
  // long, and is not what the figure measures), then the range under test, and a few heartbeat rounds.
  sim.runUntil(10_000, () => sim.leader() !== null);
  const leader = sim.leader();
  if (leader === null) throw new Error(`figure 16, seed ${seed}: no first leader in 10 s`);
  sim.setConfig('electionTimeoutMs', [timeoutMs[0], timeoutMs[1]]);
  const phase = timeBetween(new SeededRandom(seed).fork(0xf16), 0, heartbeatMs, FINE_TIME_STEP_MS);
  sim.runUntil(sim.now + 10 * heartbeatMs + phase);
  crashedLeader = leader;
  crashedAt = sim.now;
  sim.crash(leader);
  sim.runUntil(crashedAt + GIVE_UP_MS, () => newLeaderAt !== Infinity);
  return Math.min(GIVE_UP_MS, newLeaderAt - crashedAt);
}
