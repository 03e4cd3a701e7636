// A real cluster in the page (SPEC §9, `?attach=URL`): the control server of `raft-playground cluster --ui`
// streams every node's trace merged on one clock, with each node's state four times a second; this turns that
// stream into the same view the simulated cluster gives (LiveView), so the ring, the log grid, the narration and
// the space-time diagram draw it unchanged. The clock is wall time. Actions go to the control API, which does
// them to the real processes.
import type { Message, NodeId, Role } from '../core/types.ts';
import type { LinkState } from '../sim/network.ts';
import { Timeline } from '../sim/timeline.ts';
import type { TraceEvent } from '../sim/trace.ts';
import type { MachineView } from '../worker/node.worker.ts';
import { entryLabel, type Action, type LiveLink, type LiveMessage, type LiveNode, type LiveView, type LogCell } from './live-cluster.ts';

/**
 * On a loopback network a message arrives within a millisecond, too fast to see: the ring draws each one gliding
 * for this long from its sending (the space-time diagram keeps the real times).
 */
const MESSAGE_SHOWN_MS = 250;
/** A send not delivered within this long never will be (loopback delivers in well under a millisecond). */
const UNMATCHED_MS = 1000;
/** The page keeps this much of the real run's timeline (the space-time diagram's widest window, and more). */
const TIMELINE_KEPT_MS = 60_000;
/** A node whose state has not come for this long is drawn down. */
const STATE_STALE_MS = 1500;
/**
 * The stream carries every node's state four times a second: this long without a word, it has stalled (a
 * connection can hang without an error), and the page opens it again.
 */
const SILENCE_MS = 3000;

interface NodeState {
  readonly id: NodeId;
  up: boolean;
  seenAt: number;
  role: Role;
  term: number;
  leader: NodeId;
  commitIndex: number;
  lastApplied: number;
  lastIndex: number;
  snapshotIndex: number;
  log: readonly LogCell[];
  machine: MachineView | null;
}

/** Trace events kept for the record the page exports (the oldest go first past this). */
const RECORD_MAX = 200_000;

/** The events of the stream the simulator's narration knows. */
const TRACE_TYPES: ReadonlySet<string> = new Set(['role', 'vote', 'vote-ignored', 'append', 'commit', 'propose', 'transfer', 'snapshot', 'read', 'config', 'apply', 'client', 'crash', 'restart', 'network']);

export class AttachedCluster {
  readonly timeline: Timeline;
  /** What the control server said it is. */
  readonly base: string;
  private readonly nodes = new Map<NodeId, NodeState>();
  private readonly inFlight = new Map<number, LiveMessage>();
  /**
   * Sends not yet matched with their delivery, by sender, receiver and type: TCP keeps each link's order. One
   * never delivered (a cut link, a crashed receiver, a gap in the stream) must not pair with a later delivery:
   * the queues are cleared when the network or a node changes, and a send waits at most UNMATCHED_MS.
   */
  private readonly unmatched = new Map<string, { readonly id: number; readonly t: number }[]>();
  private cuts: readonly (readonly [NodeId, NodeId])[] = [];
  private nextMessageId = 1;
  /** The stream's clock: its latest `t`, and the wall time it came at. */
  private streamT = 0;
  private streamWall = performance.now();
  private source: EventSource | null = null;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private heardAt = performance.now();
  private version = 0;
  private drawn: { version: number; view: LiveView } | null = null;
  /** Every event but the states, for the exported record. */
  private readonly recorded: object[] = [];
  private readonly attachedAt = new Date().toISOString();

  private constructor(
    base: string,
    private readonly token: string,
    ids: readonly NodeId[],
    private readonly onTrace: (event: TraceEvent) => void,
    private readonly onProblem: (problem: string) => void,
  ) {
    this.base = base;
    this.timeline = new Timeline(ids);
    for (const id of ids) this.nodes.set(id, { id, up: false, seenAt: -Infinity, role: 'follower', term: 0, leader: 0, commitIndex: 0, lastApplied: 0, lastIndex: 0, snapshotIndex: 0, log: [], machine: null });
  }

  /** Reach the control server at `base` with `token`; throws a sentence when it cannot. */
  static async connect(base: string, token: string, onTrace: (event: TraceEvent) => void, onProblem: (problem: string) => void): Promise<AttachedCluster> {
    let response: Response;
    try {
      response = await fetch(`${base}/api/cluster`, { headers: { authorization: `Bearer ${token}` } });
    } catch (error) {
      throw new Error(`the real cluster at ${base} does not answer (${(error as Error).message}); is \`raft-playground cluster --ui\` running?`);
    }
    if (response.status === 401) throw new Error(`the real cluster at ${base} refused the token: open the address \`cluster --ui\` printed`);
    if (!response.ok) throw new Error(`the real cluster at ${base} answered ${response.status}`);
    const facts = (await response.json()) as { nodes: { id: NodeId }[] };
    const cluster = new AttachedCluster(base, token, facts.nodes.map((n) => n.id), onTrace, onProblem);
    cluster.listen();
    return cluster;
  }

  /** Milliseconds on the control server's clock now. */
  get nowMs(): number {
    return this.streamT + (performance.now() - this.streamWall);
  }

  get nodeCount(): number {
    return this.nodes.size;
  }

  async act(action: Action): Promise<string> {
    const response = await fetch(`${this.base}/api/act`, { method: 'POST', headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' }, body: JSON.stringify(action) });
    const body = (await response.json()) as { ok?: boolean; detail?: unknown; message?: string };
    if (!response.ok) return `The real cluster refused: ${body.message ?? response.status}`;
    const detail = typeof body.detail === 'string' ? body.detail : JSON.stringify(body.detail);
    return body.ok ? `Done on the real cluster: ${detail}` : `Not done: ${detail}`;
  }

  /**
   * The run as a record (SPEC §9): what the nodes traced, on the control server's wall clock. It says it came from
   * a real cluster: no seed replays it.
   */
  exportRecord(): string {
    const record = {
      source: 'real-cluster',
      note: 'Recorded from real node processes (raft-playground cluster --ui): times are wall-clock ms on the control server, and no seed replays it; it is a record, not a scenario.',
      controlServer: this.base,
      attachedAt: this.attachedAt,
      nodes: [...this.nodes.keys()],
      events: this.recorded,
    };
    return `${JSON.stringify(record, null, 1)}\n`;
  }

  dispose(): void {
    this.source?.close();
    this.source = null;
    if (this.watchdog !== null) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  view(): LiveView {
    const now = this.nowMs;
    for (const [id, message] of this.inFlight) if (message.deliverAt < now) this.inFlight.delete(id);
    if (this.drawn && this.drawn.version === this.version) return { ...this.drawn.view, nowMs: now, messages: [...this.inFlight.values()] };
    const ids = [...this.nodes.keys()].sort((a, b) => a - b);
    const nodes = ids.map((id) => this.liveNode(this.nodes.get(id)!, ids, now));
    const up = nodes.filter((n) => n.status === 'up');
    const top = Math.max(0, ...up.map((n) => n.term));
    const leader = up.find((n) => n.role === 'leader' && n.term === top)?.id ?? null;
    const machines: Record<NodeId, MachineView> = {};
    for (const node of nodes) {
      const machine = this.nodes.get(node.id)!.machine;
      if (node.status === 'up' && machine) machines[node.id] = machine;
    }
    const view: LiveView = { nowMs: now, nodes, links: this.links(ids), messages: [...this.inFlight.values()], leader, violations: [], machines };
    this.drawn = { version: this.version, view };
    return view;
  }

  private listen(): void {
    this.open();
    this.watchdog = setInterval(() => {
      if (performance.now() - this.heardAt < SILENCE_MS) return;
      this.onProblem('The real cluster went quiet for 3 s: the page opened its stream again.');
      this.open();
    }, SILENCE_MS / 3);
  }

  private open(): void {
    this.source?.close();
    this.unmatched.clear(); // what was on the way while the stream was down is lost to it
    this.heardAt = performance.now();
    const source = new EventSource(`${this.base}/api/events?token=${encodeURIComponent(this.token)}`);
    this.source = source;
    source.onmessage = (message) => {
      this.heardAt = performance.now();
      try {
        this.take(JSON.parse(message.data as string) as Record<string, unknown> & { type: string; t: number; node: NodeId });
      } catch (error) {
        this.onProblem(`An event from the real cluster could not be read: ${(error as Error).message}`);
      }
    };
    source.onerror = () => this.onProblem('The stream from the real cluster broke off; the page tries again on its own.');
  }

  private take(event: Record<string, unknown> & { type: string; t: number; node: NodeId }): void {
    if (Math.floor(event.t / TIMELINE_KEPT_MS) !== Math.floor(this.streamT / TIMELINE_KEPT_MS)) this.timeline.forgetBefore(event.t - TIMELINE_KEPT_MS);
    this.streamT = event.t;
    this.streamWall = performance.now();
    this.version++;
    if (event.type !== 'state') {
      if (this.recorded.length >= RECORD_MAX) this.recorded.splice(0, RECORD_MAX / 10);
      this.recorded.push(event);
    }
    const node = this.nodes.get(event.node);
    switch (event.type) {
      case 'cluster':
        for (const info of event['nodes'] as { id: NodeId; up: boolean }[]) {
          const state = this.nodes.get(info.id);
          if (state) state.up = info.up;
        }
        this.cuts = event['cuts'] as [NodeId, NodeId][];
        return;
      case 'state':
        if (!node) return;
        node.up = true;
        node.seenAt = event.t;
        node.role = event['role'] as Role;
        node.term = event['term'] as number;
        node.leader = event['leader'] as NodeId;
        node.commitIndex = event['commitIndex'] as number;
        node.lastApplied = event['lastApplied'] as number;
        node.lastIndex = event['lastLogIndex'] as number;
        node.snapshotIndex = event['snapshotIndex'] as number;
        node.log = (event['log'] as { index: number; term: number; type: LogCell['type']; data: string }[]).map((entry) => ({
          index: entry.index,
          term: entry.term,
          type: entry.type,
          label: entryLabel(entry.type, entry.data),
        }));
        node.machine = (event['machine'] as MachineView | undefined) ?? null;
        return;
      case 'network':
        this.cuts = event['cuts'] as [NodeId, NodeId][];
        this.unmatched.clear();
        break;
      case 'crash':
        if (node) node.up = false;
        this.unmatched.clear();
        break;
      case 'restart':
        this.unmatched.clear();
        break;
      case 'send': {
        // Numbered here, in the order they came: each node numbers its own, and the diagram needs one order.
        const message = event['message'] as Message;
        const id = this.nextMessageId++;
        const key = `${message.from}-${message.to}-${message.type}`;
        const queue = this.unmatched.get(key) ?? [];
        queue.push({ id, t: event.t });
        this.unmatched.set(key, queue);
        this.inFlight.set(id, { id, message, sentAt: event.t, deliverAt: event.t + MESSAGE_SHOWN_MS });
        this.timeline.record({ t: event.t, node: event.node, type: 'send', id, message, deliverAt: event.t });
        return;
      }
      case 'deliver': {
        const from = event['from'] as NodeId;
        const queue = this.unmatched.get(`${from}-${event.node}-${event['messageType'] as string}`);
        while (queue && queue.length > 0 && queue[0]!.t < event.t - UNMATCHED_MS) queue.shift();
        const sent = queue?.shift();
        if (sent) this.timeline.record({ t: event.t, node: event.node, type: 'deliver', id: sent.id, messageType: event['messageType'] as Message['type'], from });
        return;
      }
      default:
        break;
    }
    if (!TRACE_TYPES.has(event.type)) return;
    const trace = event as unknown as TraceEvent;
    this.timeline.record(trace);
    this.onTrace(trace);
  }

  private liveNode(state: NodeState, ids: readonly NodeId[], now: number): LiveNode {
    const up = state.up && now - state.seenAt < STATE_STALE_MS;
    return {
      id: state.id,
      status: up ? 'up' : 'down',
      role: up ? state.role : 'follower',
      term: state.term,
      votedFor: 0,
      snapshotIndex: state.snapshotIndex,
      snapshotTerm: 0,
      lastIndex: state.lastIndex,
      log: state.log,
      leader: up ? state.leader : 0,
      commitIndex: up ? state.commitIndex : 0,
      lastApplied: up ? state.lastApplied : 0,
      voters: [...ids],
      learners: [],
      electionDeadlineMs: null,
      electionTimeoutMs: 1000,
      votesGranted: [],
      progress: [],
      clockRate: 1,
    };
  }

  private links(ids: readonly NodeId[]): LiveLink[] {
    const cut = new Set(this.cuts.map(([from, to]) => `${from}-${to}`));
    const links: LiveLink[] = [];
    for (const [i, a] of ids.entries()) {
      for (const b of ids.slice(i + 1)) {
        const ab = cut.has(`${a}-${b}`);
        const ba = cut.has(`${b}-${a}`);
        const state: LinkState = ab && ba ? 'down' : ab || ba ? 'one-way' : 'up';
        links.push({ a, b, state });
      }
    }
    return links;
  }
}
