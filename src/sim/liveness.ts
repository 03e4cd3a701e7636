// The liveness phase (after TigerBeetle's VOPR): once the faults stop — network healed, loss and duplication
// off, every node restarted — the cluster must converge within a stated bound: one leader that everyone
// follows, identical logs, everything committed and applied, identical state machines.
import { NONE } from '../core/types.ts';
import type { Simulation } from './simulation.ts';

/**
 * How long a healed cluster may take to converge: twenty election timeouts (many split votes in a row are
 * vanishingly unlikely), plus the time to ship the largest snapshot and the whole log to a follower that has
 * none of it at the rate the pipeline allows (a window of chunks, or of entries, per round trip), doubled for
 * retries.
 */
export function convergenceBoundMs(sim: Simulation): number {
  const elections = 20 * sim.config.electionTimeoutMs[1];
  const roundTripMs = 2 * sim.config.latencyMs[1] + 1;
  const perRoundTrip = sim.config.entriesPerMessageMax * sim.config.inflightMessagesMax;
  const longestLog = Math.max(...sim.nodes.map((n) => n.storage.lastIndex()));
  // A follower may need the largest snapshot first, in chunks, a window of them per round trip.
  const snapshotBytes = Math.max(0, ...sim.nodes.map((n) => n.storage.snapshot?.data.length ?? 0));
  const bytesPerRoundTrip = sim.config.snapshotChunkBytes * sim.tuningValue('snapshotChunksInflightMax');
  const snapshotMs = Math.ceil(snapshotBytes / bytesPerRoundTrip) * roundTripMs;
  return elections + 2 * (Math.ceil(longestLog / perRoundTrip) * roundTripMs + snapshotMs) + 2000;
}

/**
 * Why the cluster has not converged, or null when it has. Only the members of the leader's configuration
 * count: a server removed from the cluster keeps running but no longer follows anyone.
 */
export function convergenceProblem(sim: Simulation): string | null {
  const leaders = sim.nodes.filter((n) => n.raft?.role === 'leader');
  if (leaders.length !== 1) return `${leaders.length} leaders`;
  const leader = leaders[0]!.raft!;
  const members = new Set([...leader.config.voters, ...leader.config.learners]);
  const down = sim.nodes.filter((n) => !n.raft && members.has(n.id)).map((n) => `S${n.id}`);
  if (down.length > 0) return `${down.join(', ')} down`;
  if (!members.has(leader.id)) return `the leader S${leader.id} is not a member`;
  if (leader.config.learners.length > 0) return `learners ${leader.config.learners.join(', ')} not yet promoted`;
  const nodes = sim.nodes.filter((n) => members.has(n.id));
  for (const { raft } of nodes) {
    const r = raft!;
    if (r.term !== leader.term || r.leader !== leader.id) return `S${r.id} does not follow S${leader.id} in term ${leader.term}`;
    if (r.log.lastIndex() !== leader.log.lastIndex()) return `S${r.id} has ${r.log.lastIndex()} entries, the leader ${leader.log.lastIndex()}`;
    if (r.commit !== r.log.lastIndex()) return `S${r.id} committed ${r.commit} of ${r.log.lastIndex()}`;
    if (r.lastApplied !== r.commit) return `S${r.id} applied ${r.lastApplied} of ${r.commit}`;
  }
  // Logs: equal length and equal last term imply equal logs (Log Matching), which the checker verifies.
  const lastTerm = leader.log.lastTerm();
  const other = nodes.find((n) => n.raft!.log.lastTerm() !== lastTerm);
  if (other) return `S${other.id}'s last entry has another term than the leader's`;
  const hash = nodes[0]!.machine.hash();
  const differing = nodes.find((n) => n.machine.hash() !== hash);
  if (differing) return `S${differing.id}'s state machine differs`;
  return leader.leader === NONE ? 'no leader known' : null;
}

export interface LivenessOutcome {
  readonly converged: boolean;
  /** Virtual time the healing began and the time it converged (or gave up). */
  readonly healedAtMs: number;
  readonly endMs: number;
  readonly problem: string | null;
}

/** Stop all faults, then run until the cluster converges or the bound passes. */
export function runLivenessPhase(sim: Simulation): LivenessOutcome {
  const healedAtMs = sim.now;
  sim.network.heal();
  sim.setConfig('lossRatio', 0);
  sim.setConfig('duplicateRatio', 0);
  for (const node of sim.nodes) if (!node.raft) sim.restart(node.id);
  const deadline = healedAtMs + convergenceBoundMs(sim);
  let problem = convergenceProblem(sim);
  while (problem !== null && sim.now < deadline && sim.violations.length === 0) {
    sim.runUntil(Math.min(deadline, sim.now + 10), () => sim.violations.length > 0);
    problem = convergenceProblem(sim);
  }
  return { converged: problem === null, healedAtMs, endMs: sim.now, problem };
}
