// The trace: a typed stream of everything that happened in a run, in order, with the reason for each
// decision. The playground animates and explains exactly this stream; `sim --trace` writes it as NDJSON; its
// fingerprint (`traceHash`) proves two runs identical. docs/trace.md describes every event and reason.
import type { ProposeRefusal } from '../core/raft-node.ts';
import type { CoreEvent, Message, MessageType, NodeId, ReadRefusal } from '../core/types.ts';
import { hashNumbers, hashString } from './hash.ts';

export type DropReason = 'loss' | 'link-down' | 'node-down' | 'user';

export type ClientOp = 'put' | 'get' | 'delete' | 'cas' | 'enqueue' | 'claim' | 'ack' | 'nack';

/** Why a server turned a request down: the core refused the proposal or the read, or the server is down. */
export type RefusalReason = ProposeRefusal | ReadRefusal | 'node-down';

/**
 * Why a request got no answer after all: another leader's entry took its index, a snapshot covered its index
 * before it was applied here, or the server it went to crashed.
 */
export type ClientLostReason = 'overwritten' | 'covered-by-snapshot' | 'node-crashed';

export type SimEventBody =
  | CoreEvent
  | { readonly type: 'send'; readonly id: number; readonly message: Message; readonly deliverAt: number; readonly duplicate?: true }
  | { readonly type: 'deliver'; readonly id: number; readonly messageType: MessageType; readonly from: NodeId }
  | { readonly type: 'drop'; readonly id: number; readonly messageType: MessageType; readonly from: NodeId; readonly to: NodeId; readonly reason: DropReason }
  /** Entries firstIndex..lastIndex were applied to the node's state machine. */
  | { readonly type: 'apply'; readonly firstIndex: number; readonly lastIndex: number }
  /** The links that are cut changed; `cuts` lists every cut link now, as [from, to]. */
  | { readonly type: 'network'; readonly cuts: readonly (readonly [NodeId, NodeId])[] }
  | { readonly type: 'crash' }
  | { readonly type: 'restart' }
  /** `request`: the client request a client action started (its `client` event names the same number). */
  | { readonly type: 'action'; readonly action: string; readonly detail: unknown; readonly request?: number; readonly skipped?: string }
  | { readonly type: 'client'; readonly request: number; readonly op: ClientOp; readonly outcome: 'done'; readonly index: number; readonly result: unknown }
  | { readonly type: 'client'; readonly request: number; readonly op: ClientOp; readonly outcome: 'rejected'; readonly reason: RefusalReason; readonly leader?: NodeId }
  | { readonly type: 'client'; readonly request: number; readonly op: ClientOp; readonly outcome: 'lost'; readonly reason: ClientLostReason }
  | { readonly type: 'violation'; readonly invariant: string; readonly message: string };

/** One line of the trace: virtual time, the node concerned (0 for the cluster as a whole), the event. */
export type TraceEvent = { readonly t: number; readonly node: NodeId } & SimEventBody;

export type TraceListener = (event: TraceEvent) => void;

/**
 * Fingerprints every event and keeps the latest ones for failure reports. The fingerprint walks each event's
 * field values in order, except that a message's entries count by index and term only: their data is fixed
 * by the proposal that created them.
 */
export class TraceRecorder {
  private low = 0x811c9dc5;
  private high = 0x2545f491;
  // The latest events, kept as parallel rings so that recording allocates nothing.
  private readonly recentTimes: number[] = [];
  private readonly recentNodes: NodeId[] = [];
  private readonly recentBodies: SimEventBody[] = [];
  private recentNext = 0;
  count = 0;

  constructor(
    private readonly recentMax = 40,
    private readonly listener?: TraceListener,
  ) {}

  record(t: number, node: NodeId, body: SimEventBody): void {
    this.count++;
    this.low = hashValue(hashNumbers(this.low, t, node), body);
    this.high = hashNumbers(this.high, this.low, this.count);
    this.recentTimes[this.recentNext] = t;
    this.recentNodes[this.recentNext] = node;
    this.recentBodies[this.recentNext] = body;
    this.recentNext = (this.recentNext + 1) % this.recentMax;
    if (this.listener) this.listener({ t, node, ...body } as TraceEvent);
  }

  traceHash(): string {
    return this.high.toString(16).padStart(8, '0') + this.low.toString(16).padStart(8, '0');
  }

  /** The latest events, oldest first. */
  latest(): TraceEvent[] {
    const size = this.recentBodies.length;
    const start = size < this.recentMax ? 0 : this.recentNext;
    const events: TraceEvent[] = [];
    for (let i = 0; i < size; i++) {
      const slot = (start + i) % size;
      events.push({ t: this.recentTimes[slot]!, node: this.recentNodes[slot]!, ...this.recentBodies[slot]! } as TraceEvent);
    }
    return events;
  }
}

// The fingerprint takes each field's value in order; an event's type fixes which fields it has.
function hashValue(h: number, value: unknown): number {
  switch (typeof value) {
    case 'number':
      return Number.isInteger(value) ? hashNumbers(h, value) : hashString(String(value), h);
    case 'string':
      return hashString(value, h);
    case 'boolean':
      return hashNumbers(h, value ? 1 : 2);
    case 'object': {
      if (value === null) return hashNumbers(h, 3);
      if (Array.isArray(value)) {
        h = hashNumbers(h, value.length);
        for (const item of value) h = hashValue(h, item);
        return h;
      }
      const record = value as Record<string, unknown>;
      if ('entries' in record && Array.isArray(record['entries'])) return hashMessage(h, record);
      for (const key in record) h = hashValue(h, record[key]);
      return h;
    }
    default:
      return h;
  }
}

function hashMessage(h: number, message: Record<string, unknown>): number {
  for (const key in message) {
    const value = message[key];
    if (key === 'entries') {
      for (const entry of value as { index: number; term: number }[]) h = hashNumbers(h, entry.index, entry.term);
    } else {
      h = hashValue(h, value);
    }
  }
  return h;
}

/** JSON for the NDJSON trace: a message's entries are written as their count and first index. */
export function traceEventToJson(event: TraceEvent): string {
  return JSON.stringify(event, (key, value: unknown) => {
    if (key === 'entries' && Array.isArray(value)) {
      const first = value[0] as { index: number } | undefined;
      return first ? { count: value.length, firstIndex: first.index } : { count: 0 };
    }
    return value;
  });
}
