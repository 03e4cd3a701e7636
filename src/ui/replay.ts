// The cluster as the trace describes it at a moment: what the view draws, and what a scrubber rewinds to.
// A pure function of the trace, so that any moment of a run can be shown again exactly.
import type { MessageType, NodeId, Role } from '../core/types.ts';
import type { LinkState } from '../sim/network.ts';
import type { TraceEvent } from '../sim/trace.ts';

export interface NodeView {
  readonly id: NodeId;
  readonly status: 'up' | 'down';
  readonly role: Role;
  readonly term: number;
  readonly commitIndex: number;
}

export interface MessageView {
  readonly id: number;
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly sentAt: number;
  readonly deliverAt: number;
  /** A message with no entries is drawn as a heartbeat, whatever its type says. */
  readonly empty: boolean;
}

export interface LinkView {
  /** a < b */
  readonly a: NodeId;
  readonly b: NodeId;
  readonly state: LinkState;
}

export interface ClusterView {
  readonly atMs: number;
  readonly nodes: readonly NodeView[];
  /** Every pair of nodes, and whether messages get through: both ways, one way only, or not at all. */
  readonly links: readonly LinkView[];
  /** Sent, not yet delivered or dropped. */
  readonly inFlight: readonly MessageView[];
}

/** The cluster after every event with `t <= atMs`. `events` are in trace order. */
export function clusterAt(events: readonly TraceEvent[], nodeIds: readonly NodeId[], atMs: number): ClusterView {
  const nodes = new Map<NodeId, { status: 'up' | 'down'; role: Role; term: number; commitIndex: number }>();
  for (const id of nodeIds) nodes.set(id, { status: 'up', role: 'follower', term: 0, commitIndex: 0 });
  const inFlight = new Map<number, MessageView>();
  let cuts = new Set<string>();
  for (const event of events) {
    if (event.t > atMs) break;
    const node = nodes.get(event.node);
    switch (event.type) {
      case 'role':
        if (node) Object.assign(node, { role: event.role, term: event.term });
        break;
      case 'commit':
        if (node) node.commitIndex = event.index;
        break;
      case 'crash':
        if (node) Object.assign(node, { status: 'down', commitIndex: 0 });
        break;
      case 'restart':
        if (node) node.status = 'up';
        break;
      case 'send': {
        const m = event.message;
        const empty = m.type === 'AppendEntries' ? m.entries.length === 0 : m.type === 'Heartbeat' || m.type === 'HeartbeatResponse';
        if (event.deliverAt > event.t) {
          inFlight.set(event.id, { id: event.id, type: m.type, from: m.from, to: m.to, sentAt: event.t, deliverAt: event.deliverAt, empty });
        }
        break;
      }
      case 'deliver':
      case 'drop':
        inFlight.delete(event.id);
        break;
      case 'network':
        cuts = new Set(event.cuts.map(([from, to]) => `${from}>${to}`));
        break;
      default:
        break;
    }
  }
  const links: LinkView[] = [];
  const sorted = [...nodeIds].sort((x, y) => x - y);
  for (const [i, a] of sorted.entries()) {
    for (const b of sorted.slice(i + 1)) {
      const ab = cuts.has(`${a}>${b}`);
      const ba = cuts.has(`${b}>${a}`);
      links.push({ a, b, state: ab && ba ? 'down' : ab || ba ? 'one-way' : 'up' });
    }
  }
  return {
    atMs,
    nodes: nodeIds.map((id) => ({ id, ...nodes.get(id)! })),
    links,
    inFlight: [...inFlight.values()],
  };
}
