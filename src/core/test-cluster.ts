// The test harness of the core's tests: N real RaftNodes with in-memory disks and an instant network that the
// test controls, driven through the host contract (drain ready(), persist, send, apply, advance()). After each
// test it checks that no node sent a message before the state it depends on was durable (thesis §3.8).
import { afterEach, expect } from 'vitest';
import { DEFAULT_RAFT_OPTIONS, RaftNode, type RaftOptions, type Ready, type StoredState } from './raft-node.ts';
import { type Random } from './random.ts';
import {
  NONE,
  type AppendEntries,
  type CoreEvent,
  type Entry,
  type HardState,
  type Heartbeat,
  type Message,
  type NodeId,
  type RequestVote,
} from './types.ts';

export type Tunables = Partial<Omit<RaftOptions, 'id' | 'voters'>>;

/** Exact timing: every election timeout this node draws is `min + offsetMs` (clamped to the range). */
export class FixedRandom implements Random {
  constructor(private readonly offsetMs: number) {}
  next(): number {
    return 0;
  }
  intBetween(min: number, max: number): number {
    return Math.min(max, min + this.offsetMs);
  }
}

/** One entry; its data names its term and index, so entries of different terms never look alike. */
export function entry(index: number, term: number, data = `t${term}i${index}`): Entry {
  return { index, term, type: 'command', data };
}

/** A log holding entries of the given terms at indexes 1, 2, 3, ... */
export function logOf(...terms: number[]): Entry[] {
  return terms.map((term, i) => entry(i + 1, term));
}

export function allEntries(node: RaftNode): Entry[] {
  return node.log.lastIndex() === 0 ? [] : node.log.slice(1, node.log.lastIndex());
}

export function termsOf(entries: readonly Entry[]): number[] {
  return entries.map((e) => e.term);
}

export function ofType<T extends Message['type']>(messages: readonly Message[], type: T): Extract<Message, { type: T }>[] {
  return messages.filter((m): m is Extract<Message, { type: T }> => m.type === type);
}

export type EventOf<T extends CoreEvent['type']> = Extract<CoreEvent, { type: T }>;
export function eventsOf<T extends CoreEvent['type']>(events: readonly CoreEvent[], type: T): EventOf<T>[] {
  return events.filter((e): e is EventOf<T> => e.type === type);
}

export const ae = (from: NodeId, to: NodeId, term: number, prevLogIndex: number, prevLogTerm: number, entries: Entry[], leaderCommit = 0): AppendEntries => ({
  type: 'AppendEntries',
  from,
  to,
  term,
  prevLogIndex,
  prevLogTerm,
  entries,
  leaderCommit,
});
export const rv = (from: NodeId, to: NodeId, term: number, lastLogIndex: number, lastLogTerm: number): RequestVote => ({
  type: 'RequestVote',
  from,
  to,
  term,
  lastLogIndex,
  lastLogTerm,
  transfer: false,
});
export const hb = (from: NodeId, to: NodeId, term: number, leaderCommit = 0): Heartbeat => ({ type: 'Heartbeat', from, to, term, leaderCommit, round: 1 });

/** A node's stable storage: what survives a crash. */
export class Disk {
  hardState: HardState = { term: 0, votedFor: NONE };
  entries: Entry[] = [];

  persist(rd: Ready): void {
    if (rd.hardState) this.hardState = rd.hardState;
    const first = rd.entries[0];
    if (!first) return;
    if (first.index > this.entries.length + 1) throw new Error(`disk: append at ${first.index} leaves a gap after ${this.entries.length}`);
    this.entries.length = first.index - 1;
    this.entries.push(...rd.entries);
  }

  load(): StoredState {
    return { hardState: this.hardState, snapshot: null, entries: [...this.entries] };
  }
}

export interface Member {
  node: RaftNode;
  readonly disk: Disk;
  up: boolean;
  /** Entries handed to the state machine since the node last started. */
  applied: Entry[];
  readonly events: CoreEvent[];
  /** Every Ready, with the hard state that was durable before it was persisted. */
  readonly readies: { readonly rd: Ready; readonly durableBefore: HardState }[];
}

export interface ClusterSetup {
  readonly options?: Tunables;
  /** What each node finds on disk when it first starts. */
  readonly stored?: Readonly<Record<NodeId, { term?: number; votedFor?: NodeId; log?: Entry[] }>>;
  /** Each node's Random; by default node i draws election timeouts of min + (i - 1) * 10 ms. */
  readonly random?: (id: NodeId) => Random;
}

/**
 * N nodes with in-memory disks and an instant, loss-free network that the test controls: `partition`/`isolate`
 * cut links, `drop` loses chosen messages, `crash`/`restart` stop a node and bring it back from its disk.
 * Time only moves when the test moves it (`now`, `tickAll`, `run`).
 */
/** Every cluster a test builds; after each test, none may have sent a message before persisting its promise. */
export const clustersOfThisTest: Cluster[] = [];

/** Call once at the top of a test file: after each test, check the clusters it built (thesis §3.8). */
export function checkPersistBeforeSendAfterEachTest(): void {
  afterEach(() => {
    for (const c of clustersOfThisTest.splice(0)) expect(c.violations).toEqual([]);
  });
}

export class Cluster {
  now = 0;
  readonly ids: readonly NodeId[];
  /** Every message any node sent, delivered or not. */
  readonly sent: Message[] = [];
  /** Messages that left before what they promise was durable (thesis §3.8); should stay empty. */
  readonly violations: string[] = [];
  /** Return true to lose a message; consulted when it would be delivered. */
  drop: (m: Message) => boolean = () => false;
  private readonly members = new Map<NodeId, Member>();
  private readonly groupOf = new Map<NodeId, number>();

  constructor(
    size: number,
    private readonly setup: ClusterSetup = {},
  ) {
    clustersOfThisTest.push(this);
    this.ids = Array.from({ length: size }, (_, i) => i + 1);
    for (const id of this.ids) {
      const disk = new Disk();
      const stored = setup.stored?.[id];
      if (stored) {
        disk.hardState = { term: stored.term ?? 0, votedFor: stored.votedFor ?? NONE };
        disk.entries = [...(stored.log ?? [])];
      }
      this.members.set(id, { node: this.boot(id, disk), disk, up: true, applied: [], events: [], readies: [] });
    }
  }

  options(id: NodeId): RaftOptions {
    return { ...DEFAULT_RAFT_OPTIONS, ...this.setup.options, id, voters: this.ids };
  }

  private boot(id: NodeId, disk: Disk): RaftNode {
    const random = this.setup.random?.(id) ?? new FixedRandom((id - 1) * 10);
    return new RaftNode(this.options(id), disk.load(), random, this.now);
  }

  member(id: NodeId): Member {
    const m = this.members.get(id);
    if (!m) throw new Error(`no node ${id}`);
    return m;
  }

  node(id: NodeId): RaftNode {
    return this.member(id).node;
  }

  /** The host loop for one node. Returns the messages it sent. */
  flush(id: NodeId): Message[] {
    const m = this.member(id);
    const out: Message[] = [];
    if (!m.up) return out;
    while (m.node.hasReady()) {
      const rd = m.node.ready();
      const durableBefore = m.disk.hardState;
      m.disk.persist(rd);
      this.checkDurable(id, rd);
      m.readies.push({ rd, durableBefore });
      m.events.push(...rd.events);
      m.applied.push(...rd.committedEntries);
      this.sent.push(...rd.messages);
      out.push(...rd.messages);
      m.node.advance(rd);
    }
    return out;
  }

  flushAll(): Message[] {
    return this.ids.flatMap((id) => this.flush(id));
  }

  canDeliver(m: Message): boolean {
    const to = this.members.get(m.to);
    if (!to?.up || !this.member(m.from).up) return false;
    if ((this.groupOf.get(m.from) ?? 0) !== (this.groupOf.get(m.to) ?? 0)) return false;
    return !this.drop(m);
  }

  deliver(m: Message): boolean {
    if (!this.canDeliver(m)) return false;
    this.node(m.to).step(m, this.now);
    return true;
  }

  /** Drain every node and deliver what they send, until the cluster is quiet. Returns the delivered messages. */
  deliverAll(): Message[] {
    const delivered: Message[] = [];
    for (let round = 0; ; round++) {
      if (round > 10_000) throw new Error('the cluster never went quiet');
      const batch = this.flushAll();
      if (batch.length === 0) return delivered;
      for (const m of batch) if (this.deliver(m)) delivered.push(m);
    }
  }

  /** Only nodes in the same group can talk; nodes not named form one more group. */
  partition(...groups: NodeId[][]): void {
    this.groupOf.clear();
    groups.forEach((group, i) => group.forEach((id) => this.groupOf.set(id, i + 1)));
  }

  isolate(...ids: NodeId[]): void {
    this.partition(...ids.map((id) => [id]));
  }

  heal(): void {
    this.groupOf.clear();
  }

  crash(id: NodeId): void {
    this.member(id).up = false;
  }

  /** Bring a node back from what its disk holds; all volatile state, applied entries included, is gone. */
  restart(id: NodeId): void {
    const m = this.member(id);
    m.node = this.boot(id, m.disk);
    m.up = true;
    m.applied = [];
  }

  tickAll(): void {
    for (const id of this.ids) if (this.member(id).up) this.node(id).tick(this.now);
  }

  /** Let `ms` pass in steps, ticking every node and delivering everything after each step. */
  run(ms: number, stepMs = 10): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.now = Math.min(end, this.now + stepMs);
      this.tickAll();
      this.deliverAll();
    }
  }

  /** Force `id` to time out and let the election run to its end. */
  elect(id: NodeId): void {
    this.node(id).timeout(this.now);
    this.deliverAll();
    expect(this.node(id).role).toBe('leader');
  }

  leaders(): NodeId[] {
    return this.ids.filter((id) => this.member(id).up && this.node(id).role === 'leader');
  }

  progressOf(leader: NodeId, follower: NodeId) {
    const pr = this.node(leader)
      .status()
      .progress.find((p) => p.id === follower);
    if (!pr) throw new Error(`S${leader} tracks no progress for S${follower}`);
    return pr;
  }

  private checkDurable(id: NodeId, rd: Ready): void {
    const { hardState, entries } = this.member(id).disk;
    for (const m of rd.messages) {
      if (m.type === 'RequestVoteResponse' && m.granted && (hardState.term !== m.term || hardState.votedFor !== m.to)) {
        this.violations.push(`S${id} granted its vote to S${m.to} in term ${m.term} with ${JSON.stringify(hardState)} on disk`);
      }
      if (m.type === 'RequestVote' && (hardState.term !== m.term || hardState.votedFor !== id)) {
        this.violations.push(`S${id} asked for votes in term ${m.term} with ${JSON.stringify(hardState)} on disk`);
      }
      if (m.type === 'AppendEntriesResponse' && m.success) {
        const node = this.node(id);
        for (let i = 1; i <= m.matchIndex; i++) {
          if (entries[i - 1]?.term !== node.log.termAt(i)) {
            this.violations.push(`S${id} acknowledged index ${m.matchIndex} but index ${i} is not on disk`);
            break;
          }
        }
      }
    }
  }
}

export function roleEvents(c: Cluster, id: NodeId): EventOf<'role'>[] {
  return eventsOf(c.member(id).events, 'role');
}

export function lastRoleEvent(c: Cluster, id: NodeId): EventOf<'role'> | undefined {
  return roleEvents(c, id).at(-1);
}

