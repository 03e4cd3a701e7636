// The trace: a typed stream of everything that happened in a run, in order, with the reason for each
// decision. The playground animates and explains exactly this stream; `sim --trace` writes it as NDJSON; its
// fingerprint (`traceHash`) proves two runs identical. docs/trace.md describes every event and reason.
import type { CoreEvent, Message, MessageType, NodeId } from '../core/types.ts';
import { RunningHash } from './hash.ts';

/** A message as the trace shows it: every field, but entries only counted (their data is in the log). */
export type MessageSummary = Omit<Message, 'entries'> & { entries?: number; firstIndex?: number };

export type DropReason = 'loss' | 'link-down' | 'node-down';

export type ClientOp = 'put' | 'get' | 'delete' | 'cas' | 'enqueue' | 'claim' | 'ack' | 'nack';

export type SimEventBody =
  | CoreEvent
  | { readonly type: 'send'; readonly id: number; readonly message: MessageSummary; readonly deliverAt: number; readonly duplicate?: true }
  | { readonly type: 'deliver'; readonly id: number; readonly messageType: MessageType; readonly from: NodeId }
  | { readonly type: 'drop'; readonly id: number; readonly messageType: MessageType; readonly from: NodeId; readonly to: NodeId; readonly reason: DropReason }
  | { readonly type: 'apply'; readonly index: number; readonly term: number; readonly entryType: string; readonly result?: unknown }
  | { readonly type: 'crash' }
  | { readonly type: 'restart' }
  | { readonly type: 'action'; readonly action: string; readonly detail: unknown; readonly skipped?: string }
  | {
      readonly type: 'client';
      readonly request: number;
      readonly op: ClientOp;
      readonly outcome: 'proposed' | 'done' | 'rejected' | 'lost';
      readonly index?: number;
      readonly result?: unknown;
      readonly reason?: string;
      readonly leader?: NodeId;
    }
  | { readonly type: 'violation'; readonly invariant: string; readonly message: string };

/** One line of the trace: virtual time, the node concerned (0 for the cluster as a whole), the event. */
export type TraceEvent = { readonly t: number; readonly node: NodeId } & SimEventBody;

export type TraceListener = (event: TraceEvent) => void;

/** Fingerprints every event and keeps the latest ones for failure reports. */
export class TraceRecorder {
  private readonly hash = new RunningHash();
  private readonly recent: TraceEvent[] = [];
  private recentStart = 0;
  count = 0;

  constructor(
    private readonly recentMax = 40,
    private readonly listener?: TraceListener,
  ) {}

  record(event: TraceEvent): void {
    this.hash.add(JSON.stringify(event));
    this.count++;
    if (this.recent.length < this.recentMax) this.recent.push(event);
    else {
      this.recent[this.recentStart] = event;
      this.recentStart = (this.recentStart + 1) % this.recentMax;
    }
    this.listener?.(event);
  }

  traceHash(): string {
    return this.hash.hex();
  }

  /** The latest events, oldest first. */
  latest(): TraceEvent[] {
    return [...this.recent.slice(this.recentStart), ...this.recent.slice(0, this.recentStart)];
  }
}

export function summarizeMessage(m: Message): MessageSummary {
  if (m.type !== 'AppendEntries') return m;
  const { entries, ...rest } = m;
  return entries.length > 0 ? { ...rest, entries: entries.length, firstIndex: entries[0]!.index } : { ...rest, entries: 0 };
}
