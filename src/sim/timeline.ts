// The run over time, kept from its trace for the space-time diagram and the client history: every message with
// when it was sent and when it arrived or was lost, each node's role and term as they changed, crashes and
// restarts, commits and snapshots, the network's cuts, and every client request with its answer (and from these
// the key-value history the linearizability checker reads). The trace comes in time order, so each list is
// sorted by time and a window of it is found by binary search.
import type { Message, MessageType, NodeId, Role } from '../core/types.ts';
import type { KvOperation, KvOperationResult } from '../check/kv-linearizability.ts';
import type { ClientOp, DropReason, TraceEvent } from './trace.ts';

export interface TimelineMessage {
  readonly id: number;
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly message: Message;
  readonly sentAt: number;
  /** When the network meant it to arrive. */
  readonly deliverAt: number;
  /** A second copy the network made of the same message. */
  readonly duplicate: boolean;
  /** When it arrived or was lost: undefined while in flight. */
  endAt: number | undefined;
  lost: DropReason | undefined;
}

/** A node's state from `t` on, until its next change. */
export interface NodePhase {
  readonly t: number;
  readonly up: boolean;
  readonly role: Role;
  readonly term: number;
}

export type TimelineMark =
  | { readonly t: number; readonly node: NodeId; readonly kind: 'role'; readonly role: Role; readonly term: number }
  | { readonly t: number; readonly node: NodeId; readonly kind: 'crash' | 'restart' }
  | { readonly t: number; readonly node: NodeId; readonly kind: 'commit'; readonly index: number }
  | { readonly t: number; readonly node: NodeId; readonly kind: 'snapshot'; readonly phase: 'taken' | 'installed'; readonly index: number };

/** The network changed: `cuts` lists every link cut from then on, as [from, to]. */
export interface NetworkChange {
  readonly t: number;
  readonly cuts: readonly (readonly [NodeId, NodeId])[];
}

/** A client request from its call (the action that sent it) to its answer, if one came. */
export interface ClientCall {
  readonly request: number;
  /** The session's client, or `client` for a request sent without one (the page's controls). */
  readonly client: string;
  readonly op: ClientOp;
  /** The action's fields (key, value, from, to, queue…). */
  readonly detail: Readonly<Record<string, unknown>>;
  readonly callMs: number;
  returnMs: number | undefined;
  /** The server that answered (or refused, or lost it). */
  node: NodeId | undefined;
  outcome: 'done' | 'rejected' | 'lost' | undefined;
  result: unknown;
  reason: string | undefined;
}

const CLIENT_OPS: ReadonlySet<string> = new Set(['put', 'get', 'delete', 'cas', 'enqueue', 'claim', 'ack', 'nack']);

let timelines = 0;

export class Timeline {
  /** Tells one run's timeline from another's (a drawing keyed on it starts over for a new run). */
  readonly serial = ++timelines;
  /** By id, which is also the order sent. */
  readonly messages: TimelineMessage[] = [];
  readonly phases = new Map<NodeId, NodePhase[]>();
  readonly marks = new Map<NodeId, TimelineMark[]>();
  readonly network: NetworkChange[] = [];
  readonly calls: ClientCall[] = [];
  /** The longest time a message spent on the way: a window's messages were sent no earlier than its start minus this. */
  longestFlightMs = 0;
  /** Counts every change, so that a drawing knows when to redraw. */
  version = 0;
  /** Counts the client calls and answers recorded (the client history changes only with these). */
  callsVersion = 0;
  private readonly callsByRequest = new Map<number, ClientCall>();
  /** Answers that came before the action event naming their request (a request answered at once). */
  private readonly earlyAnswers = new Map<number, Extract<TraceEvent, { type: 'client' }>>();

  constructor(nodes: readonly NodeId[]) {
    for (const id of nodes) this.addNode(id, 0);
  }

  record(event: TraceEvent): void {
    this.version++;
    switch (event.type) {
      case 'send': {
        const m = event.message;
        this.messages.push({ id: event.id, type: m.type, from: m.from, to: m.to, message: m, sentAt: event.t, deliverAt: event.deliverAt, duplicate: event.duplicate === true, endAt: undefined, lost: undefined });
        this.longestFlightMs = Math.max(this.longestFlightMs, event.deliverAt - event.t);
        break;
      }
      case 'deliver':
      case 'drop': {
        const message = this.message(event.id);
        if (!message) break;
        message.endAt = event.t;
        if (event.type === 'drop') message.lost = event.reason;
        this.longestFlightMs = Math.max(this.longestFlightMs, event.t - message.sentAt);
        break;
      }
      case 'role':
        this.change(event.node, event.t, { up: true, role: event.role, term: event.term });
        this.mark({ t: event.t, node: event.node, kind: 'role', role: event.role, term: event.term });
        break;
      case 'crash':
      case 'restart':
        this.change(event.node, event.t, { up: event.type === 'restart' });
        this.mark({ t: event.t, node: event.node, kind: event.type });
        break;
      case 'commit':
        this.mark({ t: event.t, node: event.node, kind: 'commit', index: event.index });
        break;
      case 'snapshot':
        this.mark({ t: event.t, node: event.node, kind: 'snapshot', phase: event.phase, index: event.index });
        break;
      case 'network':
        this.network.push({ t: event.t, cuts: event.cuts });
        break;
      case 'config':
        for (const id of [...event.voters, ...event.learners]) if (!this.phases.has(id)) this.addNode(id, event.t);
        break;
      case 'action':
        if (event.request !== undefined && CLIENT_OPS.has(event.action)) this.call(event.request, event.action as ClientOp, event.t, event.detail as Record<string, unknown>);
        break;
      case 'client':
        this.answer(event);
        break;
      default:
        break;
    }
  }

  /**
   * Forget what ended before `ms` (the page keeps a bounded history): messages that were done by then, marks and
   * network changes before it, and phases but the one in force at it.
   */
  forgetBefore(ms: number): void {
    // The simulator delivers or drops every message by its deliverAt, so one sent longestFlightMs before `ms` was
    // done by then; the list stays sorted.
    this.messages.splice(0, lowerBound(this.messages, ms - this.longestFlightMs, (m) => m.sentAt));
    for (const phases of this.phases.values()) phases.splice(0, Math.max(0, lowerBound(phases, ms, (p) => p.t) - 1));
    for (const marks of this.marks.values()) marks.splice(0, lowerBound(marks, ms, (m) => m.t));
    this.network.splice(0, lowerBound(this.network, ms, (c) => c.t));
    this.version++;
  }

  /** The message with this id, by binary search (ids rise in the order sent). */
  message(id: number): TimelineMessage | undefined {
    const at = lowerBound(this.messages, id, (m) => m.id);
    const message = this.messages[at];
    return message?.id === id ? message : undefined;
  }

  /** The index of the first message sent at or after `t`. */
  firstSentFrom(t: number): number {
    return lowerBound(this.messages, t, (m) => m.sentAt);
  }

  /** Node ids in lane order. */
  nodes(): NodeId[] {
    return [...this.phases.keys()].sort((a, b) => a - b);
  }

  private addNode(id: NodeId, t: number): void {
    this.phases.set(id, [{ t, up: true, role: 'follower', term: 0 }]);
    this.marks.set(id, []);
  }

  private change(node: NodeId, t: number, next: Partial<NodePhase>): void {
    if (!this.phases.has(node)) this.addNode(node, t);
    const phases = this.phases.get(node)!;
    const last = phases[phases.length - 1]!;
    const phase = { ...last, ...next, t };
    // Several changes in one millisecond: the drawing shows where it ended.
    if (last.t === t) phases[phases.length - 1] = phase;
    else phases.push(phase);
  }

  private mark(mark: TimelineMark): void {
    if (!this.marks.has(mark.node)) this.addNode(mark.node, mark.t);
    this.marks.get(mark.node)!.push(mark);
  }

  private call(request: number, op: ClientOp, t: number, detail: Record<string, unknown>): void {
    const session = detail['session'] as { client?: unknown } | undefined;
    const call: ClientCall = {
      request,
      client: typeof session?.client === 'string' ? session.client : 'client',
      op,
      detail,
      callMs: t,
      returnMs: undefined,
      node: typeof detail['node'] === 'number' ? detail['node'] : undefined,
      outcome: undefined,
      result: undefined,
      reason: undefined,
    };
    this.calls.push(call);
    this.callsVersion++;
    this.callsByRequest.set(request, call);
    const early = this.earlyAnswers.get(request);
    if (early) {
      this.earlyAnswers.delete(request);
      this.answer(early);
    }
  }

  private answer(event: Extract<TraceEvent, { type: 'client' }>): void {
    const call = this.callsByRequest.get(event.request);
    if (!call) {
      this.earlyAnswers.set(event.request, event);
      return;
    }
    this.callsByRequest.delete(event.request);
    this.callsVersion++;
    call.node = event.node;
    call.outcome = event.outcome;
    // A lost request has no answer: its interval stays open (it may or may not have taken effect).
    if (event.outcome !== 'lost') call.returnMs = event.t;
    if (event.outcome === 'done') call.result = event.result;
    else call.reason = event.reason;
  }
}

/** The first index whose key is at least `value`, in a list sorted by key. */
export function lowerBound<T>(list: readonly T[], value: number, key: (item: T) => number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (key(list[middle]!) < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

const KV_OPS: ReadonlySet<string> = new Set(['put', 'get', 'delete', 'cas']);

/** A key-value request of the run, as the checker reads it, with the call it came from. */
export interface HistoryOperation {
  readonly call: ClientCall;
  readonly operation: KvOperation;
}

/**
 * The run's key-value requests in the checker's terms, as clients knew them at `untilMs` (the moment shown): one
 * unanswered then, or lost, is open (returnMs Infinity).
 */
export function kvHistory(calls: readonly ClientCall[], untilMs = Infinity): HistoryOperation[] {
  const history: HistoryOperation[] = [];
  for (const call of calls) {
    if (call.callMs > untilMs) break; // calls are in time order
    if (!KV_OPS.has(call.op)) continue;
    const d = call.detail;
    const open = call.returnMs === undefined || call.returnMs > untilMs;
    const result: KvOperationResult | undefined = open
      ? undefined
      : call.outcome === 'done'
        ? (call.result as KvOperationResult)
        : { ok: false, error: call.reason ?? 'refused' };
    const operation: KvOperation = {
      client: call.client,
      op: call.op as KvOperation['op'],
      key: String(d['key']),
      ...(call.op === 'put' ? { value: String(d['value']) } : {}),
      ...(call.op === 'cas' ? { from: d['from'] === null ? null : String(d['from']), to: String(d['to']) } : {}),
      callMs: call.callMs,
      returnMs: open ? Infinity : call.returnMs!,
      ...(result ? { result } : {}),
    };
    history.push({ call, operation });
  }
  return history;
}

/** The history file `check-history` reads: an open operation's returnMs is null. */
export function historyFile(history: readonly HistoryOperation[]): string {
  const operations = history.map(({ operation }) => ({ ...operation, returnMs: operation.returnMs === Infinity ? null : operation.returnMs }));
  return `${JSON.stringify({ operations }, null, 2)}\n`;
}
