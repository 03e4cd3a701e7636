// A lesson's claims (SPEC §8 `check`) held against the cluster at the end of a step, and said in words when they
// do not hold. The same claims are judged on the headless run (lesson-plan.ts) and on the page's live cluster.
import type { NodeId, Role } from '../core/types.ts';
import { checkKvHistory } from '../check/kv-linearizability.ts';
import { tasksEver } from '../machines/task-queues.ts';
import type { Bound, Claims, EventMatch } from '../sim/lesson-format.ts';
import type { Simulation } from '../sim/simulation.ts';
import { kvHistory, type ClientCall } from '../sim/timeline.ts';
import type { TraceEvent } from '../sim/trace.ts';

/** What claims can be about, at one moment of a run. */
export interface ClusterFacts {
  /** The leader of the highest term among the running nodes. */
  readonly leader: NodeId | null;
  /** Null for a node the cluster does not have. */
  node(id: NodeId): NodeFacts | null;
  /** A key's value in a node's state machine: null when absent, undefined when the node is down. */
  value(node: NodeId, key: string): string | null | undefined;
  /** How many tasks a queue has ever held on a node (0 for no such queue), undefined when the node is down. */
  tasks(node: NodeId, queue: string): number | undefined;
  /** The invariants the checker has reported broken so far. */
  readonly violations: readonly string[];
  /** The linearizability checker's verdict on the clients' key-value history so far (worked out when asked). */
  history(): HistoryVerdict;
}

type HistoryVerdict = 'linearizable' | 'not-linearizable' | 'unknown';

export interface NodeFacts {
  readonly status: 'up' | 'down';
  /** Null while down. */
  readonly role: Role | null;
  readonly term: number;
  /** Null while down: the commit index is volatile (Figure 2). */
  readonly commitIndex: number | null;
  readonly lastIndex: number;
  readonly voters: readonly NodeId[];
}

/** Whether the claims hold, and each part that does not, in words. */
export interface Verdict {
  readonly holds: boolean;
  readonly failures: readonly string[];
}

export function judge(claims: Claims, facts: ClusterFacts): Verdict {
  const failures: string[] = [];
  if (claims.leader !== undefined && claims.leader !== facts.leader) {
    failures.push(`the leader is ${leaderName(facts.leader)}, not ${leaderName(claims.leader)}`);
  }
  for (const [key, claim] of Object.entries(claims.nodes ?? {})) {
    const id = key === 'leader' ? facts.leader : Number(key);
    if (id === null) {
      failures.push('there is no leader to make a claim about');
      continue;
    }
    const node = facts.node(id);
    if (!node) {
      failures.push(`there is no S${id}`);
      continue;
    }
    const name = key === 'leader' ? `the leader (S${id})` : `S${id}`;
    if (claim.status !== undefined && node.status !== claim.status) failures.push(`${name} is ${node.status}, not ${claim.status}`);
    if (claim.role !== undefined && node.role !== claim.role) failures.push(`${name} is ${node.role ?? 'down'}, not ${claim.role}`);
    if (claim.term !== undefined && !within(node.term, claim.term)) failures.push(`${name}'s term is ${node.term}, not ${describeBound(claim.term)}`);
    if (claim.commitIndex !== undefined && (node.commitIndex === null || !within(node.commitIndex, claim.commitIndex))) {
      failures.push(`${name}'s commitIndex is ${node.commitIndex ?? 'unknown (it is down)'}, not ${describeBound(claim.commitIndex)}`);
    }
    if (claim.lastIndex !== undefined && !within(node.lastIndex, claim.lastIndex)) failures.push(`${name}'s last index is ${node.lastIndex}, not ${describeBound(claim.lastIndex)}`);
    if (claim.voters !== undefined && !sameMembers(node.voters, claim.voters)) {
      failures.push(`${name}'s voters are ${listNodes(node.voters)}, not ${listNodes(claim.voters)}`);
    }
  }
  /** A claim's node: "leader" is the leader now; null (and a failure said) when there is none. */
  const onNode = (ref: NodeId | 'leader', what: string): NodeId | null => {
    const id = ref === 'leader' ? facts.leader : ref;
    if (id === null) failures.push(`there is no leader to ${what} on`);
    return id;
  };
  for (const claim of claims.keys ?? []) {
    const id = onNode(claim.node, `read "${claim.key}"`);
    if (id === null) continue;
    const value = facts.value(id, claim.key);
    if (value === undefined) failures.push(`S${id} is down, so "${claim.key}" cannot be read on it`);
    else if (value !== claim.value) failures.push(`"${claim.key}" on S${id} is ${describeValue(value)}, not ${describeValue(claim.value)}`);
  }
  for (const claim of claims.queues ?? []) {
    const id = onNode(claim.node, `count queue "${claim.queue}"`);
    if (id === null) continue;
    const tasks = facts.tasks(id, claim.queue);
    if (tasks === undefined) failures.push(`S${id} is down, so queue "${claim.queue}" cannot be counted on it`);
    else if (!within(tasks, claim.tasks)) failures.push(`queue "${claim.queue}" on S${id} has held ${tasks} task${tasks === 1 ? '' : 's'}, not ${describeBound(claim.tasks)}`);
  }
  if (claims.violation !== undefined) {
    if (claims.violation === null && facts.violations.length > 0) failures.push(`the checker reported ${facts.violations.join(', ')}`);
    if (claims.violation !== null && !facts.violations.includes(claims.violation)) {
      failures.push(`the checker did not report ${claims.violation}${facts.violations.length > 0 ? ` (it reported ${facts.violations.join(', ')})` : ''}`);
    }
  }
  if (claims.history !== undefined) {
    const verdict = facts.history();
    const words = (v: HistoryVerdict) => ({ linearizable: 'linearizable', 'not-linearizable': 'not linearizable', unknown: 'undecided' })[v];
    if (verdict !== claims.history) failures.push(`the clients' history is ${words(verdict)}, where the step says ${words(claims.history)}`);
  }
  return { holds: failures.length === 0, failures };
}

/** Whether a trace event is the one a step waits for. */
export function matchesEvent(match: EventMatch, event: TraceEvent): boolean {
  const type = match.event === 'leader' ? 'role' : match.event;
  if (event.type !== type) return false;
  if (match.event === 'leader' && (event as { role?: string }).role !== 'leader') return false;
  for (const [key, expected] of Object.entries(match)) {
    if (key === 'event') continue;
    const found = eventField(event, key);
    if (typeof expected === 'object') {
      if (typeof found !== 'number' || !within(found, expected)) return false;
    } else if (found !== expected) {
      return false;
    }
  }
  return true;
}

function eventField(event: TraceEvent, key: string): unknown {
  const fields = event as unknown as Record<string, unknown>;
  if (event.type === 'role' && key === 'to') return fields['role'];
  if (event.type === 'send') {
    if (key === 'messageType') return event.message.type;
    if (key === 'to') return event.message.to;
  }
  return fields[key];
}

function within(value: number, bound: Bound): boolean {
  if (typeof bound === 'number') return value === bound;
  return (bound.atLeast === undefined || value >= bound.atLeast) && (bound.atMost === undefined || value <= bound.atMost);
}

function describeBound(bound: Bound): string {
  if (typeof bound === 'number') return String(bound);
  if (bound.atLeast !== undefined && bound.atMost !== undefined) return `${bound.atLeast} to ${bound.atMost}`;
  return bound.atLeast !== undefined ? `at least ${bound.atLeast}` : `at most ${bound.atMost}`;
}

function sameMembers(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id));
}

function listNodes(ids: readonly NodeId[]): string {
  return ids.length === 0 ? 'none' : [...ids].sort((x, y) => x - y).map((id) => `S${id}`).join(', ');
}

function leaderName(id: NodeId | null): string {
  return id === null ? 'nobody' : `S${id}`;
}

function describeValue(value: string | null): string {
  return value === null ? 'absent' : JSON.stringify(value);
}

/**
 * The facts of a simulation run in one process. `calls` are its client requests (its Timeline's). `machine`
 * reads a node's state machine; by default the node's own (a remote host passes what its workers told it).
 */
export function simulationFacts(
  sim: Simulation,
  calls: readonly ClientCall[],
  machine?: Pick<ClusterFacts, 'value' | 'tasks'>,
): ClusterFacts {
  return {
    history: () => checkKvHistory(kvHistory(calls).map((h) => h.operation)).verdict,
    leader: sim.leader(),
    node(id) {
      if (!sim.nodes.some((n) => n.id === id)) return null;
      const node = sim.node(id);
      const view = node.view;
      return {
        status: view ? 'up' : 'down',
        role: view?.role ?? null,
        term: view?.term ?? node.storage.hardState.term,
        commitIndex: view?.commit ?? null,
        lastIndex: node.storage.lastIndex(),
        voters: view?.config.voters ?? [],
      };
    },
    value:
      machine?.value ??
      ((id, key) => {
        const node = sim.node(id);
        return node.up ? (node.machine.get(key) ?? null) : undefined;
      }),
    tasks:
      machine?.tasks ??
      ((id, queue) => {
        const node = sim.node(id);
        if (!node.up) return undefined;
        const summary = node.machine.queues().find((q) => q.name === queue);
        return summary ? tasksEver(summary) : 0;
      }),
    violations: [...new Set(sim.violations.map((v) => v.invariant))],
  };
}
