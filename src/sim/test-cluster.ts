// Helpers shared by the simulated-cluster tests: reading nodes, waiting in virtual time, and a compact
// picture of the cluster for assertion messages.
import { expect } from 'vitest';
import type { RaftNode } from '../core/raft-node.ts';
import type { NodeId } from '../core/types.ts';
import type { KvCommand } from '../machines/key-value-table.ts';
import type { Simulation } from './simulation.ts';
import { traceEventToJson } from './trace.ts';

export const put = (key: string, value: string): KvCommand => ({ op: 'put', key, value });

export function ids(sim: Simulation): NodeId[] {
  return sim.nodes.map((n) => n.id);
}

export function upIds(sim: Simulation): NodeId[] {
  return sim.nodes.filter((n) => n.raft).map((n) => n.id);
}

/** The running node `id`; throws, with the cluster's picture, when it is down. */
export function raft(sim: Simulation, id: NodeId): RaftNode {
  const node = sim.node(id).raft;
  if (!node) throw new Error(`S${id} is down\n${status(sim)}`);
  return node;
}

/** A compact picture of the cluster for assertion messages: every node, the violations, the latest events. */
export function status(sim: Simulation): string {
  const nodes = sim.nodes.map((n) => {
    const r = n.raft;
    const stored = `stored snapshot ${n.storage.snapshotIndex} + ${n.storage.entries.length} entries`;
    if (!r) return `  S${n.id} down (term ${n.storage.hardState.term}, ${stored})`;
    return (
      `  S${n.id} ${r.role} term ${r.term} vote ${r.votedFor} leader ${r.leader} commit ${r.commit} applied ${r.lastApplied} ` +
      `snapshot ${r.log.snapshotIndex} last ${r.log.lastIndex()}/t${r.log.lastTerm()} (${stored}) config ${JSON.stringify(r.config)}`
    );
  });
  const violations = sim.violations.map((v) => `  violation ${v.invariant} at ${v.t}: ${v.message}`);
  const recent = sim.trace.latest().slice(-15).map((e) => `  ${traceEventToJson(e).slice(0, 300)}`);
  return [`seed ${sim.seed} at ${sim.now} ms`, ...nodes, ...violations, '  latest events:', ...recent].join('\n');
}

export function expectNoViolations(sim: Simulation): void {
  expect(sim.violations.map((v) => `${v.invariant} at ${v.t}: ${v.message}`), status(sim)).toEqual([]);
}

/**
 * Run event by event until `cond` holds (true) or `forMs` of virtual time pass (false). `onEvent` sees the
 * cluster after every single event, so a property it samples holds at every point of the run.
 */
export function waitFor(sim: Simulation, cond: () => boolean, forMs: number, onEvent?: () => void): boolean {
  if (cond()) return true;
  const finished = sim.runUntil(sim.now + forMs, () => {
    onEvent?.();
    return cond();
  });
  return !finished || cond();
}

/**
 * Exactly one node of `among` leads, every one of them is up, in its term, and follows it, and the leader has
 * committed an entry of its term: it knows what is committed and may change the configuration (thesis §4.1).
 */
export function settledLeader(sim: Simulation, among: readonly NodeId[] = ids(sim)): NodeId | null {
  const leaders = among.filter((id) => sim.node(id).raft?.role === 'leader');
  if (leaders.length !== 1) return null;
  const leader = raft(sim, leaders[0]!);
  if (leader.log.termAt(leader.commit) !== leader.term) return null;
  for (const id of among) {
    const r = sim.node(id).raft;
    if (!r || r.term !== leader.term || r.leader !== leader.id) return null;
  }
  return leader.id;
}

export function awaitLeader(sim: Simulation, among: readonly NodeId[], forMs: number): NodeId {
  const settled = waitFor(sim, () => settledLeader(sim, among) !== null, forMs);
  expect(settled, `no settled leader among ${among.map((id) => `S${id}`).join(', ')} within ${forMs} ms\n${status(sim)}`).toBe(true);
  return settledLeader(sim, among)!;
}
