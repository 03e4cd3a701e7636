// One node's host loop, the same wherever the node runs: in the simulator's process, in a browser Web Worker,
// or in a Node process. It owns the volatile half of a node — the Raft core, the state machine, the client
// requests waiting on it — and answers each input with its effects, in order. Stable storage and the network
// belong to the host: the effects say what to persist and what to send, and the host does it (persist before
// send, thesis §3.8). A crash is the host dropping the Replica; a restart is a new Replica from storage.
//
// Pure: time comes in with every input, randomness from the seed it is given.
import { RaftNode, type ConfigChange, type NodeStatus, type RaftOptions, type StoredState } from '../core/raft-node.ts';
import { SeededRandom } from '../core/random.ts';
import { NONE, type Entry, type HardState, type Message, type NodeId, type ReadState, type Role, type Snapshot } from '../core/types.ts';
import type { SessionTag } from '../machines/client-sessions.ts';
import { decodeEnvelope, encodeEnvelope, type CommandEnvelope, type ServiceCommand } from '../machines/envelope.ts';
import { ReplicatedService } from '../machines/replicated-service.ts';
import type { ClientLostReason, ClientOp, RefusalReason, SimEventBody } from './trace.ts';

export interface ReplicaOptions {
  readonly raft: RaftOptions;
  /** Snapshot and compact once this many entries are applied past the last snapshot (0: never). */
  readonly snapshotEveryEntries: number;
  /** Report the core's full status with every output (for a view that draws timers, votes and progress). */
  readonly detailed?: boolean;
}

/** All a new Replica needs: what the node persisted, the seed of its random draws, and the time. */
export interface ReplicaBoot {
  readonly options: ReplicaOptions;
  readonly stored: StoredState;
  readonly randomSeed: number;
  readonly nowMs: number;
}

export type ReplicaInput =
  | { readonly kind: 'message'; readonly message: Message }
  /** A deadline the node asked for has passed. */
  | { readonly kind: 'tick' }
  /** Campaign now, as if the election timer had fired. */
  | { readonly kind: 'timeout' }
  /** Snapshot the state machine now and compact the log (§7). */
  | { readonly kind: 'snapshot' }
  | { readonly kind: 'propose'; readonly request: number; readonly op: ClientOp; readonly command: ServiceCommand; readonly session?: SessionTag }
  | { readonly kind: 'read'; readonly request: number; readonly key: string }
  | { readonly kind: 'transfer'; readonly to: NodeId }
  | { readonly kind: 'config-change'; readonly change: ConfigChange }
  | { readonly kind: 'options'; readonly options: ReplicaOptions }
  /** Nothing happened, but the node's clock changed: report the next deadline again. */
  | { readonly kind: 'wake' }
  /** The host made the log durable up to this entry (only when the options say the host reports it). */
  | { readonly kind: 'persisted'; readonly index: number; readonly term: number }
  /** The client gave up on this read (a timeout): stop waiting for its read index, which may never come. */
  | { readonly kind: 'forget-read'; readonly request: number };

/** A client request's end, as the host reports it to whoever asked. */
export type ClientOutcome =
  | { readonly outcome: 'done'; readonly request: number; readonly op: ClientOp; readonly index: number; readonly result: unknown }
  | { readonly outcome: 'rejected'; readonly request: number; readonly op: ClientOp; readonly reason: RefusalReason; readonly leader: NodeId }
  | { readonly outcome: 'lost'; readonly request: number; readonly op: ClientOp; readonly reason: ClientLostReason; readonly leader: NodeId };

export type Effect =
  /** A trace event of this node (the core's decisions, the applies). */
  | { readonly kind: 'event'; readonly body: SimEventBody }
  /** Make these durable before anything that follows. */
  | { readonly kind: 'persist'; readonly hardState: HardState | null; readonly snapshot: Snapshot | null; readonly entries: readonly Entry[] }
  | { readonly kind: 'send'; readonly message: Message }
  /** The state machine now reflects a snapshot up to `index`. */
  | { readonly kind: 'restore'; readonly index: number }
  /** Entries first..last (in storage) were applied, in order. */
  | { readonly kind: 'apply'; readonly first: number; readonly last: number }
  | { readonly kind: 'client'; readonly client: ClientOutcome }
  /** The node's state at this point, for a checker, before the log is compacted under it. */
  | { readonly kind: 'observe'; readonly view: NodeView };

/** What a host and a checker see of a running node. */
export interface NodeView {
  readonly role: Role;
  readonly term: number;
  readonly votedFor: NodeId;
  readonly leader: NodeId;
  readonly commit: number;
  readonly lastApplied: number;
  readonly config: { readonly voters: readonly NodeId[]; readonly learners: readonly NodeId[] };
}

export interface ReplicaOutput {
  readonly effects: readonly Effect[];
  readonly view: NodeView;
  /** When to send the next `tick`, in the node's own milliseconds. */
  readonly deadlineMs: number;
  /** Why the input did nothing (a timeout at the leader, a refused transfer), when it did nothing. */
  readonly refused?: string;
  /** The core's full status, when the options ask for it. */
  readonly status?: NodeStatus;
  /** For a proposal the core accepted: the log index it took. */
  readonly index?: number;
}

interface PendingWrite {
  readonly request: number;
  readonly op: ClientOp;
  readonly term: number;
}

interface PendingRead {
  readonly request: number;
  readonly key: string;
  /** Set once the leader confirmed the read: serve it when this index is applied (thesis §6.4). */
  index: number | null;
}

export class Replica {
  readonly raft: RaftNode;
  readonly machine = new ReplicatedService();
  private options: ReplicaOptions;
  private now: number;
  private effects: Effect[] = [];
  /** Client writes proposed here, by log index, awaiting apply. */
  private readonly writes = new Map<number, PendingWrite>();
  /** Linearizable reads through this node, by request id. */
  private readonly reads = new Map<number, PendingRead>();

  /**
   * `decoded` may be shared by replicas in one process: entries are immutable, so each is decoded once.
   */
  constructor(
    boot: ReplicaBoot,
    private readonly decoded: WeakMap<Entry, CommandEnvelope> = new WeakMap(),
  ) {
    this.options = boot.options;
    this.now = boot.nowMs;
    this.raft = new RaftNode(boot.options.raft, boot.stored, new SeededRandom(boot.randomSeed), boot.nowMs);
    if (boot.stored.snapshot) this.machine.restore(boot.stored.snapshot.data);
  }

  get id(): NodeId {
    return this.raft.id;
  }

  /** The output of starting up (the core's first decisions, its first deadline). */
  start(): ReplicaOutput {
    return this.finish();
  }

  handle(input: ReplicaInput, nowMs: number): ReplicaOutput {
    this.now = nowMs;
    const raft = this.raft;
    switch (input.kind) {
      case 'message':
        raft.step(input.message, nowMs);
        return this.finish();
      case 'tick':
        raft.tick(nowMs);
        return this.finish();
      case 'wake':
        return this.finish();
      case 'persisted':
        raft.persisted(input.index, input.term, nowMs);
        return this.finish();
      case 'forget-read':
        this.reads.delete(input.request);
        return this.finish();
      case 'timeout':
        if (raft.role === 'leader') return this.finish(`S${this.id} is the leader`);
        raft.timeout(nowMs);
        return this.finish();
      case 'snapshot':
        if (!raft.compact(raft.lastApplied, this.machine.snapshot())) return this.finish(`S${this.id} has nothing new to snapshot`);
        return this.finish();
      case 'transfer': {
        const result = raft.transferLeadership(input.to, nowMs);
        return this.finish(result.ok ? undefined : result.reason);
      }
      case 'config-change': {
        const result = raft.proposeConfigChange(input.change, nowMs);
        return this.finish(result.ok ? undefined : `S${this.id} refused: ${result.reason}`);
      }
      case 'options':
        this.options = input.options;
        raft.setOptions(input.options.raft);
        return this.finish();
      case 'propose':
        return this.propose(input);
      case 'read':
        this.reads.set(input.request, { request: input.request, key: input.key, index: null });
        raft.readIndex(input.request, nowMs);
        return this.finish();
    }
  }

  private propose(input: Extract<ReplicaInput, { kind: 'propose' }>): ReplicaOutput {
    // The leader stamps its time into the command: the only clock the state machine sees (its leases).
    const envelope: CommandEnvelope = { timeMs: Math.floor(this.now), command: input.command, ...(input.session ? { session: input.session } : {}) };
    const proposed = this.raft.propose(encodeEnvelope(envelope), this.now);
    if (!proposed.ok) {
      this.effects.push({ kind: 'client', client: { outcome: 'rejected', request: input.request, op: input.op, reason: proposed.reason, leader: proposed.leader } });
      return this.finish(proposed.reason);
    }
    this.writes.set(proposed.index, { request: input.request, op: input.op, term: proposed.term });
    const output = this.finish();
    return { ...output, index: proposed.index };
  }

  /**
   * After any input: persist, then send, then apply (restoring a snapshot first), then advance; then snapshot
   * if the log grew past the threshold.
   */
  private finish(refused?: string): ReplicaOutput {
    const raft = this.raft;
    const effects = this.effects;
    for (;;) {
      while (raft.hasReady()) {
        const rd = raft.ready();
        for (const body of rd.events) effects.push({ kind: 'event', body });
        if (rd.hardState || rd.snapshot || rd.entries.length > 0) {
          effects.push({ kind: 'persist', hardState: rd.hardState, snapshot: rd.snapshot, entries: rd.entries });
        }
        for (const message of rd.messages) effects.push({ kind: 'send', message });
        if (rd.snapshot && rd.snapshot.index > raft.lastApplied) this.restore(rd.snapshot);
        this.apply(rd.committedEntries);
        raft.advance(rd);
        this.serveReads(rd.readStates);
      }
      const every = this.options.snapshotEveryEntries;
      if (every === 0 || raft.lastApplied - raft.log.snapshotIndex < every) break;
      effects.push({ kind: 'observe', view: this.view() }); // let a checker see the entries before they go
      raft.compact(raft.lastApplied, this.machine.snapshot());
    }
    this.effects = [];
    const output: ReplicaOutput = { effects, view: this.view(), deadlineMs: raft.nextDeadlineMs() };
    if (refused !== undefined) (output as { refused?: string }).refused = refused;
    if (this.options.detailed) (output as { status?: NodeStatus }).status = raft.status();
    return output;
  }

  private view(): NodeView {
    const raft = this.raft;
    return {
      role: raft.role,
      term: raft.term,
      votedFor: raft.votedFor,
      leader: raft.leader,
      commit: raft.commit,
      lastApplied: raft.lastApplied,
      config: raft.config,
    };
  }

  private restore(snapshot: Snapshot): void {
    this.machine.restore(snapshot.data);
    this.effects.push({ kind: 'restore', index: snapshot.index });
    for (const [index, write] of this.writes) {
      if (index > snapshot.index) continue;
      // The entry is inside a snapshot from another leader: whether it was this request is unknown here.
      this.writes.delete(index);
      this.lose(write.request, write.op, 'covered-by-snapshot');
    }
  }

  private apply(entries: readonly Entry[]): void {
    const first = entries[0];
    if (!first) return;
    this.effects.push({ kind: 'apply', first: first.index, last: first.index + entries.length - 1 });
    for (const entry of entries) {
      const result = this.applyEntry(entry);
      const write = this.writes.get(entry.index);
      if (!write) continue;
      this.writes.delete(entry.index);
      if (write.term === entry.term) {
        this.effects.push({ kind: 'client', client: { outcome: 'done', request: write.request, op: write.op, index: entry.index, result } });
      } else {
        // Another leader's entry took this index: the request was never committed (§5.4, §8).
        this.lose(write.request, write.op, 'overwritten');
      }
    }
  }

  private applyEntry(entry: Entry): unknown {
    if (entry.type !== 'command') return undefined;
    let envelope = this.decoded.get(entry);
    if (!envelope) this.decoded.set(entry, (envelope = decodeEnvelope(entry.data)));
    return this.machine.apply(envelope);
  }

  /** Note the read indexes that arrived, then answer every read whose index is now applied. */
  private serveReads(readStates: readonly ReadState[]): void {
    for (const state of readStates) {
      const read = this.reads.get(state.context);
      if (!read) continue;
      if ('refused' in state) {
        this.reads.delete(state.context);
        this.effects.push({ kind: 'client', client: { outcome: 'rejected', request: read.request, op: 'get', reason: state.refused, leader: this.raft.leader } });
      } else {
        read.index = state.index;
      }
    }
    const applied = this.raft.lastApplied;
    for (const read of this.reads.values()) {
      if (read.index === null || read.index > applied) continue;
      this.reads.delete(read.request);
      const value = this.machine.get(read.key);
      const result = value === undefined ? { ok: false, error: 'not_found' } : { ok: true, value };
      this.effects.push({ kind: 'client', client: { outcome: 'done', request: read.request, op: 'get', index: read.index, result } });
    }
  }

  private lose(request: number, op: ClientOp, reason: ClientLostReason): void {
    this.effects.push({ kind: 'client', client: { outcome: 'lost', request, op, reason, leader: NONE } });
  }
}
