// A deterministic cluster: N Raft nodes, a virtual clock, a packet simulator, crashes and restarts, client
// requests and scripted actions. A run is a function of (seed, options, actions): the same inputs give the same
// trace, byte for byte. Nothing here reads a clock or draws an unseeded random number.
import { DEFAULT_RAFT_OPTIONS, RaftNode, SAFE, type RaftOptions, type Ready, type UnsafeSwitches } from '../core/raft-node.ts';
import { SeededRandom } from '../core/random.ts';
import { NONE, type Entry, type Message, type NodeId, type ReadState, type Snapshot } from '../core/types.ts';
import type { SessionTag } from '../machines/client-sessions.ts';
import { decodeEnvelope, encodeEnvelope, type CommandEnvelope, type ServiceCommand } from '../machines/envelope.ts';
import { ReplicatedService } from '../machines/replicated-service.ts';
import { EventQueue } from './event-queue.ts';
import { Network } from './network.ts';
import { SafetyChecker, type Violation } from './safety-checker.ts';
import type { JsonValue } from '../machines/json-value.ts';
import { DEFAULT_SIM_CONFIG, NODES_MAX, type NodeRef, type ScenarioAction, type SimConfig } from './scenario.ts';
import { MemoryStorage } from './storage.ts';
import { TraceRecorder, type ClientOp, type SimEventBody, type TraceListener } from './trace.ts';

/** Bounds that scenarios do not set (batching and pipelining are in SimConfig). */
export type RaftTuning = Pick<
  RaftOptions,
  'bytesPerMessageMax' | 'uncommittedEntriesMax' | 'applyBatchMax' | 'snapshotChunkBytes' | 'snapshotChunksInflightMax'
>;

/** Far more than any real instant needs (a burst of client requests, a thousand messages). */
const EVENTS_PER_MS_MAX = 100_000;

export interface SimulationOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly config?: Partial<SimConfig>;
  readonly tuning?: Partial<RaftTuning>;
  /** Receives every trace event as it happens. */
  readonly onTrace?: TraceListener;
  /** Run the safety checker after every event (default on). */
  readonly checkSafety?: boolean;
}

export interface NodeResult {
  readonly id: NodeId;
  readonly status: 'up' | 'down';
  readonly role: string;
  readonly term: number;
  readonly votedFor: NodeId;
  readonly commitIndex: number;
  readonly lastApplied: number;
  readonly lastLogIndex: number;
  readonly snapshotIndex: number;
  readonly machineHash: string;
}

export interface SimResult {
  readonly seed: number;
  readonly endMs: number;
  readonly traceHash: string;
  readonly events: number;
  readonly violations: readonly Violation[];
  readonly leader: NodeId | null;
  readonly nodes: readonly NodeResult[];
}

/** What a client hears back when its request did not complete here. */
export type RequestFailure = { readonly outcome: 'rejected' | 'lost'; readonly reason: string; readonly leader: NodeId };

export interface RequestOptions {
  /** Exactly-once delivery for writes (thesis §6.3): the client id and this request's sequence number. */
  readonly session?: SessionTag;
  readonly onFail?: (failure: RequestFailure) => void;
}

interface PendingRequest {
  readonly request: number;
  readonly op: ClientOp;
  readonly term: number;
  readonly onDone?: (result: unknown, index: number) => void;
  readonly onFail?: (failure: RequestFailure) => void;
}

export interface SimNode {
  readonly id: NodeId;
  /** The cluster's first voters for its founding members; none for a node added later (it learns from the log). */
  readonly bootstrapVoters: readonly NodeId[];
  /** null while crashed: the volatile state is gone. */
  raft: RaftNode | null;
  readonly storage: MemoryStorage;
  machine: ReplicatedService;
  readonly random: SeededRandom;
  incarnation: number;
  /** When this node's earliest pending timer event fires (Infinity when none). */
  timerAt: number;
  /** Client requests proposed through this node, by log index, awaiting apply. */
  readonly pending: Map<number, PendingRequest>;
  /** Linearizable reads through this node, by request id: waiting for a read index, then for it to apply. */
  readonly reads: Map<number, PendingRead>;
  /** This node's clock: local = localAtOrigin + (now - globalAtOrigin) × rate. */
  clock: { readonly rate: number; readonly globalAtOrigin: number; readonly localAtOrigin: number };
}

interface PendingRead {
  readonly request: number;
  readonly onFail?: (failure: RequestFailure) => void;
  readonly key: string;
  readonly startedAt: number;
  /** The highest log index of a write that had completed when the read began: it must see that far. */
  readonly mustReach: number;
  /** Set once the leader confirmed the read: serve it when this index is applied. */
  index: number | null;
  readonly onDone?: (result: unknown, index: number) => void;
}

type SimEvent =
  | { readonly kind: 'deliver'; readonly id: number; readonly message: Message }
  | { readonly kind: 'timer'; readonly node: NodeId; readonly incarnation: number }
  | { readonly kind: 'action'; readonly action: ScenarioAction }
  | { readonly kind: 'call'; readonly run: () => void };

export type ClientSubmit =
  | { readonly ok: true; readonly request: number; readonly index: number }
  | { readonly ok: false; readonly request: number; readonly reason: string; readonly leader: NodeId };

export class Simulation {
  now = 0;
  readonly seed: number;
  config: SimConfig;
  readonly network: Network;
  readonly trace: TraceRecorder;
  readonly checker: SafetyChecker | null;
  private readonly nodeMap = new Map<NodeId, SimNode>();
  private readonly queue = new EventQueue<SimEvent>();
  private readonly root: SeededRandom;
  private readonly tuning: Partial<RaftTuning>;
  private readonly decoded = new WeakMap<Entry, CommandEnvelope>();
  /** The highest log index at which a client write has completed so far (the oracle for stale reads). */
  private completedWriteIndex = 0;
  /** Events processed at the current virtual millisecond: a guard against livelock. */
  private eventsThisMs = 0;
  private nextMessageId = 1;
  private nextRequestId = 1;

  constructor(options: SimulationOptions) {
    if (!Number.isInteger(options.nodes) || options.nodes < 1 || options.nodes > NODES_MAX) {
      throw new Error(`nodes: expected a whole number from 1 to ${NODES_MAX}, got ${options.nodes}`);
    }
    this.seed = options.seed;
    this.config = { ...DEFAULT_SIM_CONFIG, ...options.config };
    this.tuning = options.tuning ?? {};
    this.root = new SeededRandom(options.seed);
    this.network = new Network(this.linkSettings(), this.root.fork(0), (cuts) => this.emit(0, { type: 'network', cuts }));
    this.trace = new TraceRecorder(40, options.onTrace);
    this.checker = options.checkSafety === false ? null : new SafetyChecker((v) => this.emit(v.node, { type: 'violation', invariant: v.invariant, message: v.message }));
    const founders: NodeId[] = [];
    for (let id = 1; id <= options.nodes; id++) founders.push(id);
    for (const id of founders) this.addNode(id, founders);
    for (const id of founders) this.boot(this.node(id));
  }

  private addNode(id: NodeId, bootstrapVoters: readonly NodeId[]): SimNode {
    const node: SimNode = {
      id,
      bootstrapVoters,
      raft: null,
      storage: new MemoryStorage(),
      machine: new ReplicatedService(),
      random: this.root.fork(id),
      incarnation: 0,
      timerAt: Infinity,
      pending: new Map(),
      reads: new Map(),
      clock: { rate: 1, globalAtOrigin: 0, localAtOrigin: 0 },
    };
    this.nodeMap.set(id, node);
    return node;
  }

  // ---- Reading ----------------------------------------------------------------------------------------------

  get nodes(): SimNode[] {
    return [...this.nodeMap.values()];
  }

  node(id: NodeId): SimNode {
    const node = this.nodeMap.get(id);
    if (!node) throw new Error(`no node S${id}`);
    return node;
  }

  /** The node that leads in the highest term among the running nodes, if any. */
  leader(): NodeId | null {
    let best: RaftNode | null = null;
    for (const { raft } of this.nodeMap.values()) {
      if (raft?.role === 'leader' && (!best || raft.term > best.term)) best = raft;
    }
    return best ? best.id : null;
  }

  get violations(): readonly Violation[] {
    return this.checker?.violations ?? [];
  }

  result(): SimResult {
    return {
      seed: this.seed,
      endMs: this.now,
      traceHash: this.trace.traceHash(),
      events: this.trace.count,
      violations: this.violations,
      leader: this.leader(),
      nodes: this.nodes.map((n) => {
        const status = n.raft?.status();
        return {
          id: n.id,
          status: n.raft ? 'up' : 'down',
          role: status?.role ?? 'down',
          term: status?.term ?? n.storage.hardState.term,
          votedFor: status?.votedFor ?? n.storage.hardState.votedFor,
          commitIndex: status?.commitIndex ?? 0,
          lastApplied: status?.lastApplied ?? 0,
          lastLogIndex: status?.lastLogIndex ?? n.storage.lastIndex(),
          snapshotIndex: status?.snapshotIndex ?? n.storage.snapshotIndex,
          machineHash: n.machine.hash(),
        };
      }),
    };
  }

  // ---- Running ----------------------------------------------------------------------------------------------

  /**
   * Process every event up to and including `ms`, then set the clock to `ms`; or stop right after the event
   * that makes `stop()` true (returns false then).
   */
  runUntil(ms: number, stop?: () => boolean): boolean {
    while (this.queue.peekTime() <= ms) {
      this.step();
      if (stop?.()) return false;
    }
    this.now = Math.max(this.now, ms);
    return true;
  }

  /** Process the next event. Returns false when nothing is pending. */
  step(): boolean {
    const next = this.queue.pop();
    if (!next) return false;
    if (next.at === this.now) {
      if (++this.eventsThisMs > EVENTS_PER_MS_MAX) {
        throw new Error(`livelock: more than ${EVENTS_PER_MS_MAX} events at t=${this.now}ms without time moving on`);
      }
    } else {
      this.eventsThisMs = 0;
    }
    this.now = next.at;
    const event = next.value;
    switch (event.kind) {
      case 'deliver':
        this.deliver(event.id, event.message);
        break;
      case 'timer':
        this.fireTimer(event.node, event.incarnation, next.at);
        break;
      case 'action':
        this.runAction(event.action);
        break;
      case 'call':
        event.run();
        break;
    }
    return true;
  }

  /** When the next event is due (Infinity when none). */
  nextEventAt(): number {
    return this.queue.peekTime();
  }

  schedule(action: ScenarioAction): void {
    this.queue.push(Math.max(action.atMs, this.now), { kind: 'action', action });
  }

  /** Run `fn` at virtual time `atMs` (for workloads and tests). */
  at(atMs: number, fn: () => void): void {
    this.queue.push(Math.max(atMs, this.now), { kind: 'call', run: fn });
  }

  // ---- Faults and controls ----------------------------------------------------------------------------------

  crash(id: NodeId): string | undefined {
    const node = this.node(id);
    if (!node.raft) return `S${id} is already down`;
    node.raft = null;
    node.incarnation++;
    node.timerAt = Infinity;
    node.machine = new ReplicatedService(); // the state machine lives in memory: it is rebuilt from the log
    for (const pending of node.pending.values()) this.lose(id, pending.request, pending.op, 'node-crashed', pending.onFail);
    node.pending.clear();
    for (const read of node.reads.values()) this.lose(id, read.request, 'get', 'node-crashed', read.onFail);
    node.reads.clear();
    this.emit(id, { type: 'crash' });
    this.checker?.onCrash(id);
    return undefined;
  }

  restart(id: NodeId): string | undefined {
    const node = this.node(id);
    if (node.raft) return `S${id} is already up`;
    this.emit(id, { type: 'restart' });
    this.boot(node);
    return undefined;
  }

  /** Force an election timeout on `id`. */
  timeout(id: NodeId): string | undefined {
    const node = this.node(id);
    if (!node.raft) return `S${id} is down`;
    if (node.raft.role === 'leader') return `S${id} is the leader`;
    node.raft.timeout(this.localTime(node));
    this.afterInput(node);
    return undefined;
  }

  /** Snapshot node `id`'s state machine now and compact its log (§7). */
  snapshot(id: NodeId): string | undefined {
    const node = this.node(id);
    if (!node.raft) return `S${id} is down`;
    if (!node.raft.compact(node.raft.lastApplied, node.machine.snapshot())) return `S${id} has nothing new to snapshot`;
    this.afterInput(node);
    return undefined;
  }

  /**
   * Start a new, empty node and ask the leader to add it, first as a learner that catches up, then as a voter
   * (thesis §4.2.1). Returns the new id, or why it could not start.
   */
  addServer(): NodeId | string {
    const leader = this.leader();
    if (leader === null) return 'there is no leader';
    const id = Math.max(...this.nodeMap.keys()) + 1;
    if (id > NODES_MAX) return `the cluster already has ${NODES_MAX} nodes`;
    const result = this.node(leader).raft!.proposeConfigChange({ type: 'add-learner', node: id }, this.localTime(this.node(leader)));
    if (!result.ok) return `S${leader} refused: ${result.reason}`;
    this.boot(this.addNode(id, []));
    this.afterInput(this.node(leader));
    return id;
  }

  /** Ask the leader to remove `id` from the configuration (thesis §4.2). The node itself keeps running. */
  removeServer(id: NodeId): string | undefined {
    const leader = this.leader();
    if (leader === null) return 'there is no leader';
    const result = this.node(leader).raft!.proposeConfigChange({ type: 'remove', node: id }, this.localTime(this.node(leader)));
    this.afterInput(this.node(leader));
    return result.ok ? undefined : `S${leader} refused: ${result.reason}`;
  }

  transfer(to: NodeId): string | undefined {
    const leader = this.leader();
    if (leader === null) return 'there is no leader';
    const node = this.node(leader);
    const result = node.raft!.transferLeadership(to, this.localTime(node));
    this.afterInput(node);
    return result.ok ? undefined : result.reason;
  }

  setConfig<K extends keyof SimConfig>(key: K, value: SimConfig[K]): void {
    this.config = { ...this.config, [key]: value };
    this.network.settings = this.linkSettings();
    for (const node of this.nodeMap.values()) node.raft?.setOptions(this.raftOptions(node.id));
  }

  /** A client request through node `target`; the result appears in the trace once applied. */
  submit(
    target: NodeId,
    op: ClientOp,
    command: ServiceCommand,
    onDone?: (result: unknown, index: number) => void,
    options: RequestOptions = {},
  ): ClientSubmit {
    const request = this.nextRequestId++;
    const node = this.node(target);
    if (!node.raft) return this.reject(target, request, op, 'node-down', NONE, options.onFail);
    // The leader stamps the time into the command: the only clock the state machine sees (its leases).
    const envelope: CommandEnvelope = { timeMs: Math.floor(this.localTime(node)), command, ...(options.session ? { session: options.session } : {}) };
    const proposed = node.raft.propose(encodeEnvelope(envelope), this.localTime(node));
    if (!proposed.ok) return this.reject(target, request, op, proposed.reason, proposed.leader, options.onFail);
    node.pending.set(proposed.index, {
      request,
      op,
      term: proposed.term,
      ...(onDone ? { onDone } : {}),
      ...(options.onFail ? { onFail: options.onFail } : {}),
    });
    this.afterInput(node);
    return { ok: true, request, index: proposed.index };
  }

  private reject(target: NodeId, request: number, op: ClientOp, reason: string, leader: NodeId, onFail?: (failure: RequestFailure) => void): ClientSubmit {
    this.emit(target, leader === NONE ? { type: 'client', request, op, outcome: 'rejected', reason } : { type: 'client', request, op, outcome: 'rejected', reason, leader });
    onFail?.({ outcome: 'rejected', reason, leader });
    return { ok: false, request, reason, leader };
  }

  /**
   * A linearizable read of `key` through node `target` (thesis §6.4), or through the log when readMode is
   * `log`. The result appears in the trace, and goes to `onDone` with the index it reflects.
   */
  read(target: NodeId, key: string, onDone?: (result: unknown, index: number) => void, options: RequestOptions = {}): ClientSubmit {
    if (this.config.readMode === 'log') return this.submit(target, 'get', { op: 'get', key }, onDone, options);
    const request = this.nextRequestId++;
    const node = this.node(target);
    if (!node.raft) return this.reject(target, request, 'get', 'node-down', NONE, options.onFail);
    node.reads.set(request, {
      request,
      key,
      startedAt: this.now,
      mustReach: this.completedWriteIndex,
      index: null,
      ...(onDone ? { onDone } : {}),
      ...(options.onFail ? { onFail: options.onFail } : {}),
    });
    node.raft.readIndex(request, this.localTime(node));
    this.afterInput(node);
    return { ok: true, request, index: 0 };
  }

  /** Make node `id`'s clock run `rate` times as fast as real time from now on (1 is true time). */
  setClockRate(id: NodeId, rate: number): void {
    if (!(rate > 0)) throw new Error(`clock rate must be positive, got ${rate}`);
    const node = this.node(id);
    node.clock = { rate, globalAtOrigin: this.now, localAtOrigin: this.localTime(node) };
    if (node.raft) {
      node.timerAt = Infinity; // deadlines map to other real times now
      this.afterInput(node);
    }
  }

  private localTime(node: SimNode): number {
    const { rate, globalAtOrigin, localAtOrigin } = node.clock;
    return rate === 1 && globalAtOrigin === localAtOrigin ? this.now : localAtOrigin + (this.now - globalAtOrigin) * rate;
  }

  /** The virtual millisecond at which node's clock reads `local` (rounded up: time is whole milliseconds). */
  private globalTime(node: SimNode, local: number): number {
    const { rate, globalAtOrigin, localAtOrigin } = node.clock;
    if (rate === 1 && globalAtOrigin === localAtOrigin) return local;
    return Math.ceil(globalAtOrigin + (local - localAtOrigin) / rate);
  }

  // ---- Scenario actions -------------------------------------------------------------------------------------

  private runAction(action: ScenarioAction): void {
    const { atMs: _atMs, do: name, ...detail } = action;
    const skipped = this.applyAction(action);
    this.emit(0, skipped === undefined ? { type: 'action', action: name, detail } : { type: 'action', action: name, detail, skipped });
  }

  /** Carry out one action; returns why it was skipped, or undefined when it ran. */
  private applyAction(action: ScenarioAction): string | undefined {
    const resolve = (ref: NodeRef | undefined): NodeId | string => {
      if (ref === undefined || ref === 'leader') return this.leader() ?? 'there is no leader';
      return this.nodeMap.has(ref) ? ref : `there is no S${ref}`;
    };
    const withNode = (ref: NodeRef | undefined, fn: (id: NodeId) => string | undefined) => {
      const id = resolve(ref);
      return typeof id === 'string' ? id : fn(id);
    };
    switch (action.do) {
      case 'crash':
        return withNode(action.node, (id) => this.crash(id));
      case 'restart':
        return withNode(action.node, (id) => this.restart(id));
      case 'timeout':
        return withNode(action.node, (id) => this.timeout(id));
      case 'partition':
        this.network.partition(action.groups, [...this.nodeMap.keys()]);
        return undefined;
      case 'heal':
        this.network.heal();
        return undefined;
      case 'cut':
        this.network.cut(action.from, action.to);
        return undefined;
      case 'mend':
        this.network.mend(action.from, action.to);
        return undefined;
      case 'set':
        this.setConfig(action.key, action.value);
        return undefined;
      case 'put':
        return withNode(action.node, (id) => this.submitResult(this.submit(id, 'put', { op: 'put', key: action.key, value: action.value })));
      case 'get':
        return withNode(action.node, (id) => this.submitResult(this.read(id, action.key)));
      case 'delete':
        return withNode(action.node, (id) => this.submitResult(this.submit(id, 'delete', { op: 'delete', key: action.key })));
      case 'cas':
        return withNode(action.node, (id) =>
          this.submitResult(this.submit(id, 'cas', { op: 'cas', key: action.key, from: action.from, to: action.to })),
        );
      case 'transfer':
        return this.transfer(action.to);
      case 'enqueue':
        return withNode(action.node, (id) => this.submitResult(this.submit(id, 'enqueue', { op: 'enqueue', queue: action.queue, payload: action.payload as JsonValue })));
      case 'claim':
        return withNode(action.node, (id) =>
          this.submitResult(this.submit(id, 'claim', { op: 'claim', queue: action.queue, worker: action.worker, leaseMs: action.leaseMs })),
        );
      case 'ack':
      case 'nack':
        return withNode(action.node, (id) => this.submitResult(this.submit(id, action.do, { op: action.do, queue: action.queue, task: action.task })));
      case 'snapshot':
        return withNode(action.node, (id) => this.snapshot(id));
      case 'add-node': {
        const added = this.addServer();
        return typeof added === 'string' ? added : undefined;
      }
      case 'remove-node':
        return withNode(action.node, (id) => this.removeServer(id));
      case 'clock':
        return withNode(action.node, (id) => {
          this.setClockRate(id, action.rate);
          return undefined;
        });
    }
  }

  private submitResult(submitted: ClientSubmit): string | undefined {
    return submitted.ok ? undefined : `S${this.leader() ?? '?'} leads; the request was refused: ${submitted.reason}`;
  }

  // ---- The host loop ----------------------------------------------------------------------------------------

  private boot(node: SimNode): void {
    const stored = node.storage.load();
    node.raft = new RaftNode(this.raftOptions(node.id), stored, node.random, this.localTime(node));
    node.machine = new ReplicatedService();
    if (stored.snapshot) node.machine.restore(stored.snapshot.data);
    this.checker?.onRestart(node.id, stored.snapshot?.index ?? 0);
    this.afterInput(node);
  }

  tuningValue<K extends keyof RaftTuning>(key: K): RaftTuning[K] {
    return this.tuning[key] ?? DEFAULT_RAFT_OPTIONS[key];
  }

  private raftOptions(id: NodeId): RaftOptions {
    const c = this.config;
    const unsafe: UnsafeSwitches =
      c.unsafeSkipVoteRestriction || c.unsafeCommitPreviousTerms || c.unsafeForgetVoteOnRestart
        ? {
            skipVoteRestriction: c.unsafeSkipVoteRestriction,
            commitPreviousTerms: c.unsafeCommitPreviousTerms,
            forgetVoteOnRestart: c.unsafeForgetVoteOnRestart,
          }
        : SAFE;
    return {
      id,
      voters: this.node(id).bootstrapVoters,
      electionTimeoutMs: c.electionTimeoutMs,
      heartbeatMs: c.heartbeatMs,
      preVote: c.preVote,
      checkQuorum: c.checkQuorum,
      entriesPerMessageMax: c.entriesPerMessageMax,
      bytesPerMessageMax: this.tuningValue('bytesPerMessageMax'),
      inflightMessagesMax: c.inflightMessagesMax,
      uncommittedEntriesMax: this.tuningValue('uncommittedEntriesMax'),
      applyBatchMax: this.tuningValue('applyBatchMax'),
      readMode: c.readMode === 'lease' ? 'lease' : 'read-index',
      clockDriftBound: c.clockDriftBound,
      readRequestsMax: DEFAULT_RAFT_OPTIONS.readRequestsMax,
      snapshotChunkBytes: this.tuningValue('snapshotChunkBytes'),
      snapshotChunksInflightMax: this.tuningValue('snapshotChunksInflightMax'),
      unsafe,
    };
  }

  private linkSettings() {
    return { latencyMs: this.config.latencyMs, lossRatio: this.config.lossRatio, duplicateRatio: this.config.duplicateRatio };
  }

  private deliver(id: number, message: Message): void {
    const target = this.nodeMap.get(message.to);
    if (this.network.isCut(message.from, message.to)) {
      this.emit(message.to, { type: 'drop', id, messageType: message.type, from: message.from, to: message.to, reason: 'link-down' });
      return;
    }
    if (!target?.raft) {
      this.emit(message.to, { type: 'drop', id, messageType: message.type, from: message.from, to: message.to, reason: 'node-down' });
      return;
    }
    this.emit(message.to, { type: 'deliver', id, messageType: message.type, from: message.from });
    target.raft.step(message, this.localTime(target));
    this.afterInput(target);
  }

  private fireTimer(id: NodeId, incarnation: number, at: number): void {
    const node = this.node(id);
    if (!node.raft || node.incarnation !== incarnation || node.timerAt !== at) return; // superseded
    node.timerAt = Infinity;
    node.raft.tick(this.localTime(node));
    this.afterInput(node);
  }

  /**
   * The host loop after any input: persist, then send, then apply (restoring a snapshot first), then advance;
   * then snapshot if the log grew past the threshold; then check.
   */
  private afterInput(node: SimNode): void {
    const raft = node.raft!;
    for (;;) {
      while (raft.hasReady()) {
        const rd = raft.ready();
        for (const event of rd.events) this.emit(node.id, event);
        node.storage.persist(rd);
        for (const message of rd.messages) this.send(message);
        if (rd.snapshot && rd.snapshot.index > raft.lastApplied) this.restoreSnapshot(node, rd.snapshot);
        this.applyCommitted(node, rd);
        raft.advance(rd);
        this.serveReads(node, rd.readStates);
      }
      const every = this.config.snapshotEveryEntries;
      if (every === 0 || raft.lastApplied - raft.log.snapshotIndex < every) break;
      this.checker?.observe(node, this.now); // let the checker see the entries before they are compacted
      raft.compact(raft.lastApplied, node.machine.snapshot());
    }
    const deadline = this.globalTime(node, raft.nextDeadlineMs());
    if (deadline < node.timerAt) {
      node.timerAt = deadline;
      this.queue.push(Math.max(deadline, this.now), { kind: 'timer', node: node.id, incarnation: node.incarnation });
    }
    this.checker?.observe(node, this.now);
  }

  /** Note the read indexes that arrived, then answer every read whose index is now applied. */
  private serveReads(node: SimNode, readStates: readonly ReadState[]): void {
    for (const state of readStates) {
      const read = node.reads.get(state.context);
      if (!read) continue;
      if ('refused' in state) {
        node.reads.delete(state.context);
        this.reject(node.id, read.request, 'get', state.refused, node.raft!.leader, read.onFail);
      } else {
        read.index = state.index;
      }
    }
    const applied = node.raft!.lastApplied;
    for (const read of node.reads.values()) {
      if (read.index === null || read.index > applied) continue;
      node.reads.delete(read.request);
      if (read.index < read.mustReach) {
        // Linearizability: the read began after a write at index mustReach completed, so it must see it.
        this.checker?.reportClientViolation(
          node.id,
          'StaleRead',
          `a read of ${read.key} through S${node.id} began at t=${read.startedAt}ms after a write at index ${read.mustReach} had completed, but was answered at index ${read.index}`,
          this.now,
        );
      }
      const value = node.machine.get(read.key);
      const result = value === undefined ? { ok: false, error: 'not_found' } : { ok: true, value };
      this.emit(node.id, { type: 'client', request: read.request, op: 'get', outcome: 'done', index: read.index, result });
      read.onDone?.(result, read.index);
    }
  }

  private lose(node: NodeId, request: number, op: ClientOp, reason: string, onFail?: (failure: RequestFailure) => void): void {
    this.emit(node, { type: 'client', request, op, outcome: 'lost', reason });
    onFail?.({ outcome: 'lost', reason, leader: NONE });
  }

  private restoreSnapshot(node: SimNode, snapshot: Snapshot): void {
    node.machine.restore(snapshot.data);
    this.checker?.onRestore(node.id, snapshot.index);
    for (const [index, pending] of node.pending) {
      if (index > snapshot.index) continue;
      // The entry is inside a snapshot from another leader: whether it was this request is unknown here.
      node.pending.delete(index);
      this.lose(node.id, pending.request, pending.op, 'covered-by-snapshot', pending.onFail);
    }
  }

  private applyCommitted(node: SimNode, rd: Ready): void {
    const first = rd.committedEntries[0];
    if (!first) return;
    this.emit(node.id, { type: 'apply', firstIndex: first.index, lastIndex: first.index + rd.committedEntries.length - 1 });
    for (const entry of rd.committedEntries) {
      const result = this.applyEntry(node, entry);
      this.checker?.onApply(node.id, entry, this.now);
      const pending = node.pending.get(entry.index);
      if (!pending) continue;
      node.pending.delete(entry.index);
      if (pending.term === entry.term) {
        if (pending.op !== 'get') this.completedWriteIndex = Math.max(this.completedWriteIndex, entry.index);
        this.emit(node.id, { type: 'client', request: pending.request, op: pending.op, outcome: 'done', index: entry.index, result });
        pending.onDone?.(result, entry.index);
      } else {
        // Another leader's entry took this index: the request was never committed (§5.4, §8).
        this.lose(node.id, pending.request, pending.op, 'overwritten', pending.onFail);
      }
    }
  }

  private applyEntry(node: SimNode, entry: Entry): unknown {
    if (entry.type !== 'command') return undefined;
    // Entries are immutable and shared by every node in one process: decode each once.
    let envelope = this.decoded.get(entry);
    if (!envelope) this.decoded.set(entry, (envelope = decodeEnvelope(entry.data)));
    return node.machine.apply(envelope);
  }

  private send(message: Message): void {
    const id = this.nextMessageId++;
    const route = this.network.route(message.from, message.to);
    if ('drop' in route) {
      this.emit(message.from, { type: 'send', id, message, deliverAt: this.now });
      this.emit(message.from, { type: 'drop', id, messageType: message.type, from: message.from, to: message.to, reason: route.drop });
      return;
    }
    route.delaysMs.forEach((delay, copy) => {
      const copyId = copy === 0 ? id : this.nextMessageId++;
      const deliverAt = this.now + delay;
      this.emit(message.from, copy === 0 ? { type: 'send', id: copyId, message, deliverAt } : { type: 'send', id: copyId, message, deliverAt, duplicate: true });
      this.queue.push(deliverAt, { kind: 'deliver', id: copyId, message });
    });
  }

  private emit(node: NodeId, body: SimEventBody): void {
    this.trace.record(this.now, node, body);
  }
}
