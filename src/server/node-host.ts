// One real node: the Replica (the same host loop as the simulator and the browser) on a write-ahead log, a TCP
// transport and real timers.
//
// Inputs (peer messages, timer ticks, client requests) queue up and are handled one at a time; while a batch is
// being made durable, new inputs wait. Each batch is carried out in the order the Replica asks, with group
// commit: every `persist` of the batch goes to the log, then one `sync()` makes them all durable, and only then do
// the batch's messages leave (thesis §3.8: a vote or an acknowledgement never leaves before the state it depends
// on is on disk). Two kinds of output depend on nothing the batch writes, so they do not wait for its fsync:
// - A leader's replication (thesis §10.2.1): its AppendEntries go out while its own write is under way, and the
//   core counts the leader's copy toward a commit only once the host reports it durable (`reportsPersistence`,
//   the `persisted` input).
// - Client answers: a write is answered once committed, that is once durable on a majority, and a read once its
//   read index is confirmed and applied; neither needs this node's pending write (etcd applies in parallel with
//   its WAL write the same way).
import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DEFAULT_RAFT_OPTIONS, type RaftOptions } from '../core/raft-node.ts';
import { NONE, TERM_MAX, type Message, type NodeId, type Role } from '../core/types.ts';
import type { SessionTag } from '../machines/client-sessions.ts';
import type { ServiceCommand } from '../machines/envelope.ts';
import type { ReplicatedService } from '../machines/replicated-service.ts';
import { Replica, type ClientOutcome, type ReplicaInput, type ReplicaOutput } from '../sim/replica.ts';
import type { ClientOp, SimEventBody, TraceEvent } from '../sim/trace.ts';
import { createLogger, type Logger } from './logger.ts';
import { FSYNC_SECONDS_BOUNDS, Histogram } from './metrics.ts';
import { formatHostPort, type HostPort, type PeerSpec } from './peers.ts';
import { DiskStorage } from './storage/disk-storage.ts';
import { Transport, type PeerStatus, type TransportOptions } from './transport/transport.ts';

/** The Raft tunables a real node exposes. */
export type NodeRaftTuning = Omit<RaftOptions, 'id' | 'voters' | 'unsafe' | 'reportsPersistence'>;

/**
 * Defaults for a node on a real network and disk: etcd's timings (heartbeat 100 ms, election 1 s), PreVote and
 * CheckQuorum on (a server cut off cannot disrupt, and a leader cut off steps down so clients go elsewhere),
 * and snapshot chunks sized for TCP rather than for watching them in the playground.
 */
export const NODE_RAFT_DEFAULTS: NodeRaftTuning = {
  ...DEFAULT_RAFT_OPTIONS,
  electionTimeoutMs: [1000, 2000],
  heartbeatMs: 100,
  preVote: true,
  checkQuorum: true,
  entriesPerMessageMax: 256,
  bytesPerMessageMax: 1024 * 1024,
  inflightMessagesMax: 16,
  snapshotChunkBytes: 256 * 1024,
  snapshotChunksInflightMax: 4,
};

export const SNAPSHOT_EVERY_ENTRIES_DEFAULT = 1000;
/** Inputs waiting for the node; beyond it peer messages are dropped and client requests refused. */
export const INBOX_INPUTS_MAX = 10_000;
/** Inputs handled in one batch, under one fsync. */
export const BATCH_INPUTS_MAX = 512;
/** Client requests in flight at once. */
export const PENDING_REQUESTS_MAX = 10_000;
export const REQUEST_TIMEOUT_MS_DEFAULT = 5000;
/**
 * The most terms a message may be ahead of this node's. Each election moves the term by one, so even a node cut off
 * for days by a cluster without PreVote is behind by far less; and TERM_MAX is 2^28 such jumps away.
 */
export const TERM_JUMP_MAX = 2 ** 20;

/** Milliseconds since the Unix epoch, never going back: the clock of a node process and of its log stamps. */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

export interface NodeHostOptions {
  readonly id: NodeId;
  /** Every member, this node included (its entry gives its Raft address). */
  readonly peers: readonly PeerSpec[];
  readonly dataDir: string;
  readonly cluster: string;
  readonly secret?: string | Uint8Array | null;
  /** Where to listen for peers; by default this node's own entry in `peers`. */
  readonly listen?: HostPort;
  /** Snapshot and compact once this many entries are applied past the last snapshot (0: never). */
  readonly snapshotEveryEntries?: number;
  readonly raft?: Partial<NodeRaftTuning>;
  readonly logger?: Logger;
  /** A client request with no outcome in this time is answered 'timeout' (its effect is then unknown). */
  readonly requestTimeoutMs?: number;
  /** Transport timings (tests shorten them). */
  readonly transport?: Partial<Pick<TransportOptions, 'connectTimeoutMs' | 'handshakeTimeoutMs' | 'silenceTimeoutMs' | 'keepaliveIntervalMs' | 'reconnectDelayMsMin' | 'reconnectDelayMsMax' | 'frameBytesMax'>>;
  /** Storage failed or the core broke an assertion: the node has stopped and the process should exit. */
  readonly onFatal?: (error: Error) => void;
}

/**
 * A real node's trace event: the simulator's types and fields (docs/trace.md), `t` in ms since its process
 * began. A `send` has no `deliverAt` (-1: the network decides) and its message no payload bytes; a `deliver` has
 * no message id (0): the sender's ids are its own.
 */
export type NodeTraceEvent = TraceEvent;

/** How a client request ended, as the HTTP API sees it. */
export type RequestOutcome =
  | { readonly kind: 'done'; readonly index: number; readonly term: number; readonly result: unknown }
  /** Not proposed (or the read refused): no effect. `leader` is the leader this node knows, if any. */
  | { readonly kind: 'rejected'; readonly reason: string; readonly leader: NodeId }
  /** Proposed, then `overwritten` (never committed: no effect) or `covered-by-snapshot` (effect unknown). */
  | { readonly kind: 'lost'; readonly reason: string }
  /** No outcome in time: the effect is unknown. */
  | { readonly kind: 'timeout' }
  /** Too many requests or inputs waiting. */
  | { readonly kind: 'overloaded'; readonly reason: string }
  | { readonly kind: 'stopped' };

export interface NodeStatusView {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly leader: NodeId;
  readonly commitIndex: number;
  readonly lastApplied: number;
  readonly lastLogIndex: number;
  readonly snapshotIndex: number;
  readonly peers: readonly { readonly id: NodeId; readonly raft: string; readonly http: string | null; readonly outbound: PeerStatus['outbound'] | 'self'; readonly inbound: boolean }[];
}

export interface NodeCounters {
  proposals: number;
  proposalsCommitted: number;
  proposalsFailed: number;
  reads: number;
  readsServed: number;
  readsFailed: number;
  requestTimeouts: number;
  inboxDropped: number;
  batches: number;
  batchInputs: number;
  entriesApplied: number;
  snapshotsTaken: number;
  snapshotsInstalled: number;
  leaderChanges: number;
  absurdTermsRefused: number;
}

interface PendingRequest {
  readonly resolve: (outcome: RequestOutcome) => void;
  readonly timer: NodeJS.Timeout;
  /** The term a proposal was made in (its entry's term). */
  term: number;
}

interface QueuedInput {
  readonly input: ReplicaInput;
  /** Called with the input's output once the batch it belongs to is durable and its messages have left. */
  readonly after?: (output: ReplicaOutput | null) => void;
}

export class NodeHost {
  readonly id: NodeId;
  readonly logger: Logger;
  readonly fsyncSeconds = new Histogram(FSYNC_SECONDS_BOUNDS);
  readonly counters: NodeCounters = {
    proposals: 0,
    proposalsCommitted: 0,
    proposalsFailed: 0,
    reads: 0,
    readsServed: 0,
    readsFailed: 0,
    requestTimeouts: 0,
    inboxDropped: 0,
    batches: 0,
    batchInputs: 0,
    entriesApplied: 0,
    snapshotsTaken: 0,
    snapshotsInstalled: 0,
    leaderChanges: 0,
    absurdTermsRefused: 0,
  };
  private readonly peersById: ReadonlyMap<NodeId, PeerSpec>;
  private readonly raftOptions: RaftOptions;
  private readonly snapshotEveryEntries: number;
  private readonly requestTimeoutMs: number;
  private storage: DiskStorage | null = null;
  private transportValue: Transport | null = null;
  private replica: Replica | null = null;
  private readonly inbox: QueuedInput[] = [];
  private readonly pending = new Map<number, PendingRequest>();
  private nextRequest = 1;
  private deadlineMs = Infinity;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private draining = false;
  private drained: Promise<void> = Promise.resolve();
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  private stopped: Promise<void> | null = null;
  private lastLeader: NodeId = NONE;
  /** Hear every trace event of this node as it happens (SPEC §9's `/events`): `t` is ms since the process began. */
  readonly traceListeners = new Set<(event: NodeTraceEvent) => void>();
  private readonly startedAtMs = wallClockMs();
  /** Whether peers prove the shared secret (then a far-ahead term is trusted). */
  private readonly authenticated: boolean;
  private messagesSent = 0;

  constructor(private readonly options: NodeHostOptions) {
    this.id = options.id;
    this.logger = options.logger ?? createLogger('info');
    const peers = new Map<NodeId, PeerSpec>();
    for (const peer of options.peers) peers.set(peer.id, peer);
    if (!peers.has(options.id)) throw new Error(`node ${options.id} is not in its own peer list (${[...peers.keys()].join(', ')})`);
    this.peersById = peers;
    this.raftOptions = {
      ...NODE_RAFT_DEFAULTS,
      ...options.raft,
      id: options.id,
      voters: [...peers.keys()].sort((a, b) => a - b),
      unsafe: DEFAULT_RAFT_OPTIONS.unsafe,
      reportsPersistence: true,
    };
    this.snapshotEveryEntries = options.snapshotEveryEntries ?? SNAPSHOT_EVERY_ENTRIES_DEFAULT;
    this.requestTimeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS_DEFAULT;
    this.authenticated = options.secret !== undefined && options.secret !== null;
  }

  /** Milliseconds since this node's process began (the trace's clock). */
  uptimeMs(): number {
    return Math.round(wallClockMs() - this.startedAtMs);
  }

  get transport(): Transport {
    if (!this.transportValue) throw new Error(`S${this.id} is not started`);
    return this.transportValue;
  }

  /** The replicated state machine as this node has applied it (a stale read). */
  get machine(): ReplicatedService {
    return this.running.machine;
  }

  get isRunning(): boolean {
    return this.state === 'running';
  }

  private get running(): Replica {
    if (!this.replica) throw new Error(`S${this.id} is not started`);
    return this.replica;
  }

  /** Opens the log, restarts from it, and starts talking to peers. Resolves with the Raft address listened on. */
  async start(): Promise<HostPort> {
    if (this.state !== 'new') throw new Error(`S${this.id}: start() called when ${this.state}`);
    const log = this.logger;
    const { storage, stored } = await DiskStorage.open(this.options.dataDir, {
      onFsync: (ms) => this.fsyncSeconds.observe(ms / 1000),
      onWarning: (message) => log.warn(message, { dataDir: this.options.dataDir }),
    });
    this.storage = storage;
    if (stored.hardState.term > TERM_MAX) {
      await storage.close();
      throw new Error(
        `S${this.id}'s data directory ${this.options.dataDir} holds term ${stored.hardState.term}, above the highest term a node takes (2^48): ` +
          'it was damaged or written by a forged message. Restore it from a backup; or remove this server from the cluster, move the directory away, and add it back as a new server (its vote and log are gone, so it must not rejoin as the member it was).',
      );
    }
    const self = this.peersById.get(this.id)!;
    const peers = new Map<NodeId, HostPort>();
    for (const peer of this.peersById.values()) if (peer.id !== this.id) peers.set(peer.id, peer.raft);
    try {
      this.transportValue = new Transport({
        ...this.options.transport,
        id: this.id,
        cluster: this.options.cluster,
        listen: this.options.listen ?? self.raft,
        peers,
        secret: this.options.secret ?? null,
        onMessage: (message) => this.deliver(message),
        log: (level, message, fields) => log.log(level, message, { component: 'transport', ...fields }),
      });
      this.replica = new Replica({
        options: { raft: this.raftOptions, snapshotEveryEntries: this.snapshotEveryEntries },
        stored,
        randomSeed: randomInt(2 ** 31),
        nowMs: wallClockMs(),
      });
      log.info(`S${this.id} restarts from its log`, {
        term: stored.hardState.term,
        votedFor: stored.hardState.votedFor,
        snapshotIndex: stored.snapshot?.index ?? 0,
        entries: stored.entries.length,
        dataDir: this.options.dataDir,
      });
      // Carry out the start before any input, as one batch of its own.
      this.draining = true;
      this.state = 'running';
      await this.carryOut([{ input: { kind: 'wake' } }], [this.replica.start()]);
      this.draining = false;
      const address = await this.transportValue.start();
      this.schedule();
      return address;
    } catch (error) {
      this.state = 'stopped';
      await this.transportValue?.stop();
      await storage.close().catch(() => {});
      throw error;
    }
  }

  /** Stops taking inputs, lets the batch under way finish, closes peers and the log. */
  stop(): Promise<void> {
    if (this.stopped) return this.stopped;
    if (this.state !== 'running') {
      this.state = 'stopped';
      return (this.stopped = Promise.resolve());
    }
    return (this.stopped = this.shutDown());
  }

  private async shutDown(): Promise<void> {
    this.state = 'stopping';
    this.clearTimers();
    while (this.draining) await this.drained;
    for (const [request, pending] of this.pending) {
      clearTimeout(pending.timer);
      this.pending.delete(request);
      pending.resolve({ kind: 'stopped' });
    }
    for (const queued of this.inbox.splice(0)) queued.after?.(null);
    await this.transportValue?.stop();
    await this.storage?.close().catch((error: unknown) => this.logger.error(`closing the log failed: ${(error as Error).message}`));
    this.state = 'stopped';
    this.logger.info(`S${this.id} stopped`);
  }

  // ---- Client requests ------------------------------------------------------------------------------------

  /** Propose a command (at the leader); resolves once it is applied, refused, lost or timed out. */
  propose(op: ClientOp, command: ServiceCommand, session?: SessionTag): Promise<RequestOutcome> {
    this.counters.proposals++;
    return this.request((request) => ({ kind: 'propose', request, op, command, ...(session ? { session } : {}) }));
  }

  /** A linearizable read (thesis §6.4): resolves with the value as of a read index this node has applied. */
  read(key: string): Promise<RequestOutcome> {
    this.counters.reads++;
    return this.request((request) => ({ kind: 'read', request, key }));
  }

  /** Start a leadership transfer at the leader (thesis §3.10). Resolves with the refusal, if refused. */
  transfer(to: NodeId): Promise<{ readonly ok: boolean; readonly reason?: string }> {
    return this.control({ kind: 'transfer', to });
  }

  /** Snapshot the state machine now and compact the log (§7). */
  snapshot(): Promise<{ readonly ok: boolean; readonly reason?: string }> {
    return this.control({ kind: 'snapshot' });
  }

  /** The voter most caught up besides this node (a good transfer target); NONE when not the leader. */
  bestTransferTarget(): NodeId {
    const status = this.running.raft.status();
    let best: { id: NodeId; match: number } | null = null;
    for (const progress of status.progress) {
      if (progress.id === this.id || !status.config.voters.includes(progress.id)) continue;
      if (!best || progress.match > best.match) best = { id: progress.id, match: progress.match };
    }
    return best?.id ?? NONE;
  }

  status(): NodeStatusView {
    const raft = this.running.raft;
    const transportPeers = new Map(this.transportValue?.peers().map((peer) => [peer.id, peer]) ?? []);
    return {
      id: this.id,
      role: raft.role,
      term: raft.term,
      leader: raft.leader,
      commitIndex: raft.commit,
      lastApplied: raft.lastApplied,
      lastLogIndex: raft.log.lastIndex(),
      snapshotIndex: raft.log.snapshotIndex,
      peers: [...this.peersById.values()].map((peer) => {
        const link = transportPeers.get(peer.id);
        return {
          id: peer.id,
          raft: formatHostPort(peer.raft),
          http: peer.http ? formatHostPort(peer.http) : null,
          outbound: peer.id === this.id ? 'self' : (link?.outbound ?? 'idle'),
          inbound: peer.id === this.id ? true : (link?.inbound ?? false),
        };
      }),
    };
  }

  /**
   * The latest `count` entries of the log (the page's log grid draws them): index, term, type, and the command
   * cut to 200 characters.
   */
  logTail(count: number): { readonly index: number; readonly term: number; readonly type: string; readonly data: string }[] {
    const log = this.running.raft.log;
    const entries = count === 0 ? [] : log.slice(Math.max(log.firstIndex(), log.lastIndex() - count + 1), log.lastIndex());
    return entries.map((entry) => ({ index: entry.index, term: entry.term, type: entry.type, data: entry.data.slice(0, 200) }));
  }

  /**
   * The state machine as the page's machine panel draws it (MachineView): the first 200 keys, values cut to
   * 200 characters, and each queue's lanes.
   */
  machineView(): { readonly kv: readonly (readonly [string, string])[]; readonly queues: readonly unknown[]; readonly hash: string } {
    const machine = this.running.machine;
    return {
      kv: machine.kvEntries().slice(0, 200).map(([key, value]) => [key, value.slice(0, 200)] as const),
      queues: machine.queues().map((queue) => machine.queueLanes(queue.name)),
      hash: machine.hash(),
    };
  }

  /** The HTTP address of a member, when the peer list gives it. */
  httpAddressOf(id: NodeId): HostPort | null {
    return this.peersById.get(id)?.http ?? null;
  }

  private request(makeInput: (request: number) => ReplicaInput): Promise<RequestOutcome> {
    if (this.state !== 'running') return Promise.resolve({ kind: 'stopped' });
    if (this.pending.size >= PENDING_REQUESTS_MAX) {
      return Promise.resolve({ kind: 'overloaded', reason: `${this.pending.size} requests are in flight (PENDING_REQUESTS_MAX)` });
    }
    if (this.inbox.length >= INBOX_INPUTS_MAX) {
      return Promise.resolve({ kind: 'overloaded', reason: `${this.inbox.length} inputs wait for S${this.id} (INBOX_INPUTS_MAX)` });
    }
    const request = this.nextRequest++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        if (!this.pending.delete(request)) return;
        this.counters.requestTimeouts++;
        // A read forwarded to a leader whose answer was lost would wait in the replica for ever.
        if (this.state === 'running') this.enqueue({ input: { kind: 'forget-read', request } });
        resolve({ kind: 'timeout' });
      }, this.requestTimeoutMs);
      this.pending.set(request, { resolve, timer, term: 0 });
      this.enqueue({ input: makeInput(request) });
    });
  }

  private control(input: ReplicaInput): Promise<{ readonly ok: boolean; readonly reason?: string }> {
    if (this.state !== 'running') return Promise.resolve({ ok: false, reason: `S${this.id} is stopping` });
    return new Promise((resolve) => {
      this.enqueue({
        input,
        after: (output) => {
          if (output === null) resolve({ ok: false, reason: `S${this.id} is stopping` });
          else resolve(output.refused === undefined ? { ok: true } : { ok: false, reason: output.refused });
        },
      });
    });
  }

  // ---- The loop -------------------------------------------------------------------------------------------

  private send(message: Message): void {
    this.transport.send(message);
    if (this.traceListeners.size > 0) this.trace({ type: 'send', id: ++this.messagesSent, message: withoutData(message), deliverAt: -1 });
  }

  private deliver(message: Message): void {
    if (this.state !== 'running') return;
    // Without a shared secret, anyone can speak as a peer: a term far ahead of ours is then not an election we
    // missed but a forged message, and taking it would spend the term space (TERM_MAX). Refused and logged.
    // Authenticated peers are trusted: a server restored from an old backup must be able to catch up.
    if (!this.authenticated && message.term > this.running.raft.term + TERM_JUMP_MAX) {
      const term = this.running.raft.term;
      this.counters.absurdTermsRefused++;
      this.logger.warn(`S${this.id} refused a ${message.type} from S${message.from} with term ${message.term}: ${message.term - term} terms ahead of its own ${term} (the most it takes is ${TERM_JUMP_MAX})`, {
        reason: 'absurd-term',
        from: message.from,
        term: message.term,
      });
      return;
    }
    if (this.traceListeners.size > 0) this.trace({ type: 'deliver', id: 0, messageType: message.type, from: message.from });
    if (this.inbox.length >= INBOX_INPUTS_MAX) {
      this.counters.inboxDropped++;
      return;
    }
    this.enqueue({ input: { kind: 'message', message } });
  }

  private enqueue(queued: QueuedInput): void {
    this.inbox.push(queued);
    this.schedule();
  }

  /** Drain on the next turn of the event loop, so that inputs arriving together share a batch. */
  private schedule(): void {
    if (this.draining || this.immediate !== null || this.state !== 'running') return;
    this.immediate = setImmediate(() => {
      this.immediate = null;
      if (this.draining || this.state !== 'running') return;
      this.draining = true;
      this.drained = this.drain().finally(() => {
        this.draining = false;
        this.armTimer();
      });
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.state === 'running') {
        const batch = this.inbox.splice(0, BATCH_INPUTS_MAX);
        if (wallClockMs() >= this.deadlineMs) batch.unshift({ input: { kind: 'tick' } });
        if (batch.length === 0) return;
        const replica = this.running;
        const outputs: ReplicaOutput[] = [];
        for (const queued of batch) {
          const output = replica.handle(queued.input, wallClockMs());
          if (queued.input.kind === 'propose' && output.index !== undefined) {
            const pending = this.pending.get(queued.input.request);
            if (pending) pending.term = replica.raft.term;
          }
          outputs.push(output);
        }
        this.counters.batches++;
        this.counters.batchInputs += batch.length;
        await this.carryOut(batch, outputs);
      }
    } catch (error) {
      await this.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * Persist every output's state and answer clients; start the one sync, and while the disk works send what may
   * leave before it; once durable, send the rest and report, in order.
   */
  private async carryOut(batch: readonly QueuedInput[], outputs: readonly ReplicaOutput[]): Promise<void> {
    const storage = this.storage!;
    const early: Message[] = [];
    const messages: Message[] = [];
    let persisted = false;
    let lastEntry: { readonly index: number; readonly term: number } | null = null;
    for (const output of outputs) {
      for (const effect of output.effects) {
        switch (effect.kind) {
          case 'event':
            this.logEvent(effect.body);
            this.trace(effect.body);
            break;
          case 'persist': {
            storage.append(effect);
            persisted = true;
            const last = effect.entries[effect.entries.length - 1];
            if (last) lastEntry = { index: last.index, term: last.term };
            break;
          }
          case 'send':
            // A leader's replication may leave before its own write is durable (thesis §10.2.1).
            (sendsBeforeDurable(effect.message) ? early : messages).push(effect.message);
            break;
          case 'client':
            this.settle(effect.client);
            this.traceClient(effect.client);
            break;
          case 'apply':
            this.counters.entriesApplied += effect.last - effect.first + 1;
            this.trace({ type: 'apply', firstIndex: effect.first, lastIndex: effect.last });
            break;
          case 'restore':
            this.logger.info(`S${this.id} restored its state machine from a snapshot at index ${effect.index}`, { index: effect.index });
            break;
          case 'observe':
            break;
        }
      }
    }
    // A socket write on loopback costs as much as a fast fsync: start the disk first.
    const synced = persisted ? storage.sync() : null;
    try {
      for (const message of early) this.send(message);
    } finally {
      await synced;
    }
    if (this.state !== 'running') {
      for (const queued of batch) queued.after?.(null);
      return;
    }
    // Now the leader may count its own copy (the core ignores a report about an entry since replaced).
    if (lastEntry) this.inbox.unshift({ input: { kind: 'persisted', index: lastEntry.index, term: lastEntry.term } });
    for (const message of messages) this.send(message);
    const last = outputs[outputs.length - 1];
    if (last) this.deadlineMs = last.deadlineMs;
    this.noteLeader();
    batch.forEach((queued, i) => queued.after?.(outputs[i]!));
  }

  private settle(outcome: ClientOutcome): void {
    const pending = this.pending.get(outcome.request);
    const isRead = outcome.op === 'get';
    if (outcome.outcome === 'done') {
      if (isRead) this.counters.readsServed++;
      else this.counters.proposalsCommitted++;
    } else if (isRead) {
      this.counters.readsFailed++;
    } else {
      this.counters.proposalsFailed++;
    }
    if (!pending) return; // timed out already
    this.pending.delete(outcome.request);
    clearTimeout(pending.timer);
    switch (outcome.outcome) {
      case 'done':
        pending.resolve({ kind: 'done', index: outcome.index, term: isRead ? this.running.raft.term : pending.term, result: outcome.result });
        return;
      case 'rejected':
        pending.resolve({ kind: 'rejected', reason: outcome.reason, leader: outcome.leader });
        return;
      case 'lost':
        pending.resolve({ kind: 'lost', reason: outcome.reason });
        return;
    }
  }

  private noteLeader(): void {
    const leader = this.running.raft.leader;
    if (leader === this.lastLeader) return;
    this.lastLeader = leader;
    if (leader !== NONE) this.counters.leaderChanges++;
  }

  private armTimer(): void {
    if (this.state !== 'running') return;
    if (this.inbox.length > 0) return this.schedule();
    if (this.timer !== null) clearTimeout(this.timer);
    const delayMs = Math.max(0, Math.min(this.deadlineMs - wallClockMs(), 60_000));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.schedule();
      // Nothing queued: the deadline itself is the input.
    }, Math.ceil(delayMs));
  }

  private clearTimers(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }

  private async fail(error: Error): Promise<void> {
    this.logger.error(`S${this.id} stops: ${error.message}`, { stack: error.stack });
    this.draining = false;
    await this.stop().catch(() => {});
    this.options.onFatal?.(error);
  }

  // ---- Logs and the trace -----------------------------------------------------------------------------------

  private trace(body: SimEventBody): void {
    if (this.traceListeners.size === 0) return;
    const event = { t: this.uptimeMs(), node: this.id, ...body } as NodeTraceEvent;
    for (const listener of this.traceListeners) listener(event);
  }

  private traceClient(outcome: ClientOutcome): void {
    const { request, op } = outcome;
    if (outcome.outcome === 'done') this.trace({ type: 'client', request, op, outcome: 'done', index: outcome.index, result: outcome.result });
    else if (outcome.outcome === 'lost') this.trace({ type: 'client', request, op, outcome: 'lost', reason: outcome.reason });
    else this.trace({ type: 'client', request, op, outcome: 'rejected', reason: outcome.reason, ...(outcome.leader === NONE ? {} : { leader: outcome.leader }) });
  }

  private logEvent(body: SimEventBody): void {
    const log = this.logger;
    switch (body.type) {
      case 'role':
        log.info(`S${this.id} is ${body.role} in term ${body.term} (${body.reason})`, { event: body.type, role: body.role, term: body.term, reason: body.reason });
        return;
      case 'snapshot':
        if (body.phase === 'taken') this.counters.snapshotsTaken++;
        else this.counters.snapshotsInstalled++;
        log.info(`S${this.id} ${body.phase === 'taken' ? 'took' : 'installed'} a snapshot at index ${body.index} (term ${body.term})`, { event: body.type, ...body });
        return;
      case 'transfer':
        log.info(`S${this.id}: leadership transfer to S${body.target} ${body.phase}`, { event: body.type, target: body.target, phase: body.phase });
        return;
      case 'config':
        log.info(`S${this.id}: configuration at index ${body.index}: voters ${body.voters.join(', ')}`, { event: body.type, ...body });
        return;
      case 'vote':
        log.log(body.granted ? 'info' : 'debug', `S${this.id} ${body.granted ? 'granted' : 'denied'} its ${body.preVote ? 'pre-vote' : 'vote'} to S${body.candidate} in term ${body.term} (${body.reason})`, {
          event: body.type,
          ...body,
        });
        return;
      case 'append':
        if (!body.success || body.truncatedFrom !== undefined) {
          log.debug(`S${this.id} ${body.success ? 'truncated its log' : 'rejected an append'} from S${body.leader} (${body.reason})`, { event: body.type, ...body });
        }
        return;
      default:
        if (log.enabled('debug')) log.debug(`S${this.id}: ${body.type}`, { event: body.type, ...(body as object) });
    }
  }
}

/**
 * A message as the trace shows it, without the bytes it carries (entries' commands, a snapshot's chunk): a
 * viewer draws messages, and a busy leader's would otherwise be most of the stream.
 */
function withoutData(message: Message): Message {
  if (message.type === 'AppendEntries') return { ...message, entries: message.entries.map((entry) => ({ ...entry, data: '' })) };
  if (message.type === 'InstallSnapshot') return { ...message, data: '' } as Message;
  return message;
}

/**
 * Messages that depend on nothing this node has yet to make durable: a leader's replication and its TimeoutNow.
 * Its term was durable before it could lead; its entries count toward a commit only once reported durable.
 * Votes, acknowledgements and everything else wait for the fsync.
 */
function sendsBeforeDurable(message: Message): boolean {
  return message.type === 'AppendEntries' || message.type === 'Heartbeat' || message.type === 'InstallSnapshot' || message.type === 'TimeoutNow';
}
