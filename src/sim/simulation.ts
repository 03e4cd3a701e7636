// A deterministic cluster: N Raft nodes, a virtual clock, a packet simulator, crashes and restarts, client
// requests and scripted actions. A run is a function of (seed, options, actions): the same inputs give the same
// trace, byte for byte. Nothing here reads a clock or draws an unseeded random number.
//
// The simulation is the driver: it owns time, the network, stable storage and the clients. Each node's host
// loop is a Replica (replica.ts). Every event's work is a generator that yields the calls it makes on nodes,
// so that one driver serves two hosts: `step()` runs the replicas in this process, synchronously (tests, fuzz,
// the CLI), and the playground runs each replica in its own Web Worker and awaits every call. Both see the
// same calls in the same order, so both give the same trace.
import { formatMs } from '../check/linearizability.ts';
import { DEFAULT_RAFT_OPTIONS, SAFE, type NodeStatus, type RaftNode, type RaftOptions, type UnsafeSwitches } from '../core/raft-node.ts';
import { FINE_TIME_STEP_MS, SeededRandom, timeBetween } from '../core/random.ts';
import { NONE, type ClusterConfig, type Entry, type Message, type NodeId } from '../core/types.ts';
import type { SessionTag } from '../machines/client-sessions.ts';
import type { CommandEnvelope, ServiceCommand } from '../machines/envelope.ts';
import { ReplicatedService } from '../machines/replicated-service.ts';
import { Replica, type ClientOutcome, type NodeView, type ReplicaBoot, type ReplicaInput, type ReplicaOptions, type ReplicaOutput } from './replica.ts';
import { EventQueue } from './event-queue.ts';
import { globalTimeOf, localTimeAt, type NodeClock, type PlannedAnswers, type Window, type WindowEntry } from './lookahead.ts';
import { Network } from './network.ts';
import { SafetyChecker, type ObservedState, type Violation } from './safety-checker.ts';
import type { JsonValue } from '../machines/json-value.ts';
import { DEFAULT_SIM_CONFIG, NODES_MAX, type NodeRef, type ScenarioAction, type SimConfig } from './scenario.ts';
import { MemoryStorage } from './storage.ts';
import { TraceRecorder, type ClientOp, type SimEventBody, type TraceListener } from './trace.ts';

/** Bounds that scenarios do not set (batching and pipelining are in SimConfig). */
export type RaftTuning = Pick<
  RaftOptions,
  'bytesPerMessageMax' | 'uncommittedEntriesMax' | 'applyBatchMax' | 'snapshotChunksInflightMax'
>;

/** The actions that act on one node (a missing `node` means the leader). */
const NODE_ACTIONS: ReadonlySet<ScenarioAction['do']> = new Set([
  'crash', 'restart', 'timeout', 'put', 'get', 'delete', 'cas', 'enqueue', 'claim', 'ack', 'nack', 'snapshot', 'remove-node', 'clock',
] as const);

/** Far more than any real instant needs (a burst of client requests, a thousand messages). */
const EVENTS_PER_MS_MAX = 100_000;
/**
 * What waits for the disk: an answer may promise what the node wrote (a vote, entries held), so it leaves only
 * once the writes before it are done (thesis §3.8). A request leaves at once, the disk write under way, as a
 * leader's AppendEntries may (thesis §10.2.1) and a candidate's RequestVote does in etcd raft: the storage holds
 * each write from the moment it is asked for, so nothing is counted that a crash could lose.
 */
const ANSWERS: ReadonlySet<Message['type']> = new Set([
  'RequestVoteResponse',
  'PreVoteResponse',
  'AppendEntriesResponse',
  'HeartbeatResponse',
  'ReadIndexResponse',
  'InstallSnapshotResponse',
]);
/** The disk's own random stream, so that its draws shift no node's and no message's. */
const DISK_STREAM = 0xd15c;

export interface SimulationOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly config?: Partial<SimConfig>;
  readonly tuning?: Partial<RaftTuning>;
  /** Receives every trace event as it happens. */
  readonly onTrace?: TraceListener;
  /** Run the safety checker after every event (default on). */
  readonly checkSafety?: boolean;
  /** Told when every event at virtual millisecond `ms` has run, as the first event of a later one is taken. */
  readonly onMillisecondDone?: (ms: number) => void;
  /**
   * The replicas run elsewhere (in Web Workers): a host drives `nextWork()` and answers every call. The
   * in-process calls (`step`, `crash`, `submit`…) are then unavailable.
   */
  readonly remoteHost?: boolean;
  /** Ask every replica for its full status with each output (for a live view). */
  readonly detailedStatus?: boolean;
}

export interface NodeResult {
  readonly id: NodeId;
  readonly status: 'up' | 'down';
  readonly role: string;
  /** In the latest committed configuration (SPEC §4): a removed node still running is told apart from a member. */
  readonly membership: 'voter' | 'learner' | 'removed';
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
  /** The latest committed configuration, as the node that knows the most commits holds it. */
  readonly configuration: ClusterConfig;
  readonly nodes: readonly NodeResult[];
}

/** What a client hears back when its request did not complete here. */
export type RequestFailure = { readonly outcome: 'rejected' | 'lost'; readonly reason: string; readonly leader: NodeId };

export interface RequestOptions {
  /** Exactly-once delivery for writes (thesis §6.3): the client id and this request's sequence number. */
  readonly session?: SessionTag;
  readonly onFail?: (failure: RequestFailure) => void;
}

/** A client request the driver is waiting on, wherever it was sent. */
interface PendingRequest {
  readonly node: NodeId;
  readonly op: ClientOp;
  readonly onDone?: (result: unknown, index: number) => void;
  readonly onFail?: (failure: RequestFailure) => void;
  /** For a linearizable read: the highest log index of a write that had completed when it began. */
  readonly read?: { readonly key: string; readonly startedAt: number; readonly mustReach: number };
}

/** One node as the driver knows it: its stable storage, its clock, and what it last reported. */
export class SimNode {
  /** What survives a crash. */
  readonly storage = new MemoryStorage();
  incarnation = 0;
  /** When this node's earliest pending timer event fires (Infinity when none). */
  timerAt = Infinity;
  /** What the node reported after its latest input; null while it is down. */
  view: NodeView | null = null;
  /** Its full status after its latest input, when the simulation asks for it. */
  status: NodeStatus | null = null;
  /** The host loop, when it runs in this process. */
  replica: Replica | null = null;
  /** Counts changes to what the driver knows of the node (an output, a crash, a clock change). */
  version = 0;
  /** This node's clock: local = localAtOrigin + (now - globalAtOrigin) × rate. */
  clock: NodeClock = { rate: 1, globalAtOrigin: 0, localAtOrigin: 0 };
  /** When the disk finishes the writes asked of it so far (diskLatencyMs). */
  diskBusyUntil = 0;

  constructor(
    readonly id: NodeId,
    /** The cluster's first voters for its founding members; none for a node added later (it learns from the log). */
    readonly bootstrapVoters: readonly NodeId[],
  ) {}

  get up(): boolean {
    return this.view !== null;
  }

  /** The core, when it runs in this process (null while crashed: the volatile state is gone). */
  get raft(): RaftNode | null {
    return this.replica?.raft ?? null;
  }

  /** The state machine, when it runs in this process (empty while crashed: it is rebuilt from the log). */
  get machine(): ReplicatedService {
    return this.replica?.machine ?? new ReplicatedService();
  }
}

/** A call the driver makes on a node's host: start it from storage, give it an input, or drop it. */
export type HostCall =
  | { readonly kind: 'boot'; readonly node: NodeId; readonly boot: ReplicaBoot }
  /** `event`: for a delivery, the message's trace id. */
  | { readonly kind: 'input'; readonly node: NodeId; readonly input: ReplicaInput; readonly nowMs: number; readonly event?: number }
  | { readonly kind: 'crash'; readonly node: NodeId };

/** An event's work: yields each call on a node, resumes with its output (null for a crash). */
export type Work<T = void> = Generator<HostCall, T, ReplicaOutput | null>;

type SimEvent =
  | { readonly kind: 'deliver'; readonly id: number; readonly message: Message }
  | { readonly kind: 'timer'; readonly node: NodeId; readonly incarnation: number }
  /** A message a node sent while its disk was busy leaves once the writes before it are done. */
  | { readonly kind: 'depart'; readonly node: NodeId; readonly incarnation: number; readonly message: Message }
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
  private readonly diskRandom: SeededRandom;
  private readonly tuning: Partial<RaftTuning>;
  private readonly remoteHost: boolean;
  private readonly detailedStatus: boolean;
  private readonly onMillisecondDone: ((ms: number) => void) | undefined;
  /** Shared by the in-process replicas: entries are immutable, so each is decoded once. */
  private readonly decoded = new WeakMap<Entry, CommandEnvelope>();
  /** Client requests in flight, by id, in the order they were made. */
  private readonly requests = new Map<number, PendingRequest>();
  /** The highest log index at which a client write has completed so far (the oracle for stale reads). */
  private completedWriteIndex = 0;
  /** Events processed at the current virtual millisecond: a guard against livelock. */
  private eventsThisMs = 0;
  private nextMessageId = 1;
  /** Messages in flight that a user chose to lose, by id. */
  private readonly droppedByUser = new Set<number>();
  private nextRequestId = 1;
  /** The client request the action being run started, for its trace event (a client history pairs the two). */
  private actionRequest: number | undefined;
  /** The founding members, booted by the first work (`start`). */
  private booting: NodeId[];

  constructor(options: SimulationOptions) {
    if (!Number.isInteger(options.nodes) || options.nodes < 1 || options.nodes > NODES_MAX) {
      throw new Error(`nodes: expected a whole number from 1 to ${NODES_MAX}, got ${options.nodes}`);
    }
    this.seed = options.seed;
    this.config = { ...DEFAULT_SIM_CONFIG, ...options.config };
    this.tuning = options.tuning ?? {};
    this.remoteHost = options.remoteHost ?? false;
    this.detailedStatus = options.detailedStatus ?? false;
    this.onMillisecondDone = options.onMillisecondDone;
    this.root = new SeededRandom(options.seed);
    this.network = new Network(this.linkSettings(), this.root.fork(0), (cuts) => this.emit(0, { type: 'network', cuts }));
    this.diskRandom = this.root.fork(DISK_STREAM);
    this.trace = new TraceRecorder(40, options.onTrace);
    this.checker = options.checkSafety === false ? null : new SafetyChecker((v) => this.emit(v.node, { type: 'violation', invariant: v.invariant, message: v.message }));
    const founders: NodeId[] = [];
    for (let id = 1; id <= options.nodes; id++) founders.push(id);
    for (const id of founders) this.nodeMap.set(id, new SimNode(id, founders));
    this.booting = founders;
    if (!this.remoteHost) this.runLocal(this.start());
  }

  /** Boot the founding members (a remote host runs this work first; the in-process host already did). */
  *start(): Work {
    const founders = this.booting;
    this.booting = [];
    for (const id of founders) yield* this.boot(this.node(id));
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
    let best: SimNode | null = null;
    for (const node of this.nodeMap.values()) {
      if (node.view?.role === 'leader' && (!best || node.view.term > best.view!.term)) best = node;
    }
    return best ? best.id : null;
  }

  get violations(): readonly Violation[] {
    return this.checker?.violations ?? [];
  }

  /** The run's outcome; a remote host passes the machine hashes it collected from its replicas. */
  result(machineHashes?: ReadonlyMap<NodeId, string>): SimResult {
    const configuration = this.committedConfiguration();
    return {
      seed: this.seed,
      endMs: this.now,
      traceHash: this.trace.traceHash(),
      events: this.trace.count,
      violations: this.violations,
      leader: this.leader(),
      configuration,
      nodes: this.nodes.map((n) => {
        const view = n.view;
        return {
          id: n.id,
          status: view ? 'up' : 'down',
          role: view?.role ?? 'down',
          membership: configuration.voters.includes(n.id) ? 'voter' : configuration.learners.includes(n.id) ? 'learner' : 'removed',
          term: view?.term ?? n.storage.hardState.term,
          votedFor: view?.votedFor ?? n.storage.hardState.votedFor,
          commitIndex: view?.commit ?? 0,
          lastApplied: view?.lastApplied ?? 0,
          lastLogIndex: n.storage.lastIndex(), // the host persists every entry before the next input
          snapshotIndex: n.storage.snapshotIndex,
          machineHash: machineHashes?.get(n.id) ?? n.machine.hash(),
        };
      }),
    };
  }

  /**
   * The latest committed configuration: on the running node with the highest commit index, the last config
   * entry at or below it, else its snapshot's, else the one the cluster started with.
   */
  private committedConfiguration(): ClusterConfig {
    let best: SimNode | null = null;
    for (const node of this.nodes) if (node.view && (!best || node.view.commit > best.view!.commit)) best = node;
    const started = { voters: this.nodes[0]?.bootstrapVoters ?? [], learners: [] };
    if (!best) return started;
    for (let index = best.view!.commit; index > best.storage.snapshotIndex; index--) {
      const entry = best.storage.entryAt(index);
      if (entry?.type === 'config') {
        const config = JSON.parse(entry.data) as ClusterConfig;
        return { voters: [...config.voters].sort((a, b) => a - b), learners: [...config.learners].sort((a, b) => a - b) };
      }
    }
    return best.storage.snapshot?.config ?? started;
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
    const work = this.nextWork();
    if (!work) return false;
    this.runLocal(work);
    return true;
  }

  /**
   * Take the next event off the queue and return its work, for a host to run: every call it yields must be
   * answered, in order, before the next event is taken. Null when nothing is pending.
   */
  nextWork(): Work | null {
    const next = this.queue.pop();
    if (!next) return null;
    if (next.at === this.now) {
      if (++this.eventsThisMs > EVENTS_PER_MS_MAX) {
        throw new Error(`livelock: more than ${EVENTS_PER_MS_MAX} events at t=${formatMs(this.now)}ms without time moving on`);
      }
    } else {
      this.eventsThisMs = 0;
      this.onMillisecondDone?.(this.now);
    }
    this.now = next.at;
    const event = next.value;
    switch (event.kind) {
      case 'deliver':
        return this.deliver(event.id, event.message);
      case 'timer':
        return this.fireTimer(event.node, event.incarnation, next.at);
      case 'depart':
        return this.depart(event.node, event.incarnation, event.message);
      case 'action':
        return this.runAction(event.action);
      case 'call':
        if (this.remoteHost) throw new Error('callbacks at a virtual time run only with in-process replicas');
        event.run();
        return this.nothing();
    }
  }

  private *nothing(): Work {}

  /**
   * The next lookahead window (lookahead.ts), for a host that runs nodes in parallel: the events from the next
   * one up to before the least latency has passed, before the next scenario action and at most to `untilMs`,
   * with each node's share of them. Null when the next event must run alone (an action, or no latency to look
   * ahead by): run it with `nextWork()`.
   */
  lookahead(untilMs: number): Window | null {
    const startMs = this.queue.peekTime();
    const afterUntil = untilMs + this.timeStepMs(); // the first time past untilMs: the window ends before it
    const pending = this.queue.before(Math.min(startMs + this.network.minLatencyMs(), afterUntil));
    const barrier = pending.findIndex(({ value }) => value.kind === 'action' || value.kind === 'call');
    const inWindow = barrier < 0 ? pending : pending.slice(0, barrier);
    if (inWindow.length === 0) return null;
    const endMs = barrier < 0 ? Math.min(startMs + this.network.minLatencyMs(), afterUntil) : pending[barrier]!.at;
    const entries = new Map<NodeId, WindowEntry[]>();
    const share = (node: SimNode, entry: WindowEntry) => {
      const list = entries.get(node.id);
      if (list) list.push(entry);
      else entries.set(node.id, [entry]);
    };
    for (const { at, value } of inWindow) {
      if (value.kind === 'timer') {
        const node = this.node(value.node);
        if (node.up && node.incarnation === value.incarnation) share(node, { at, kind: 'timer' });
      } else if (value.kind === 'deliver') {
        const { id, message } = value;
        const node = this.nodeMap.get(message.to);
        if (node?.up && !this.droppedByUser.has(id) && !this.network.isCut(message.from, message.to)) share(node, { at, kind: 'message', id, message });
      }
    }
    const nodes = [...entries].map(([id, list]) => {
      const node = this.node(id);
      return { node: id, entries: list, timerAt: node.timerAt, clock: node.clock, timeStepMs: this.timeStepMs() };
    });
    return { startMs, endMs, nodes };
  }

  /** Run a lookahead window's events, in order, answering each node's inputs from its plan. */
  runWindow(window: Window, answers: PlannedAnswers): void {
    while (this.queue.peekTime() < window.endMs) {
      const work = this.nextWork()!;
      let step = work.next();
      while (!step.done) {
        const call = step.value;
        if (call.kind !== 'input') throw new Error(`lookahead diverged: a ${call.kind} of S${call.node} inside a window`);
        step = work.next(answers.answer(call.node, call.input, call.nowMs, call.event));
      }
    }
    answers.finish();
  }

  /** Run work with the replicas in this process. */
  private runLocal<T>(work: Work<T>): T {
    if (this.remoteHost) throw new Error('the replicas run elsewhere: drive nextWork() with their host');
    let step = work.next();
    while (!step.done) step = work.next(this.hostLocally(step.value));
    return step.value;
  }

  private hostLocally(call: HostCall): ReplicaOutput | null {
    const node = this.node(call.node);
    switch (call.kind) {
      case 'boot':
        node.replica = new Replica(call.boot, this.decoded);
        return node.replica.start();
      case 'input':
        return node.replica!.handle(call.input, call.nowMs);
      case 'crash':
        node.replica = null;
        return null;
    }
  }

  /** When the next event is due (Infinity when none). */
  nextEventAt(): number {
    return this.queue.peekTime();
  }

  /**
   * Run `action` at its time, before anything else at that millisecond: so an action scheduled as the run goes
   * (a click in the playground) takes the same place as when a scenario file scheduled it up front.
   */
  schedule(action: ScenarioAction): void {
    this.queue.push(Math.max(action.atMs, this.now), { kind: 'action', action }, true);
  }

  /** Run `fn` at virtual time `atMs` (for workloads and tests). */
  at(atMs: number, fn: () => void): void {
    this.queue.push(Math.max(atMs, this.now), { kind: 'call', run: fn });
  }

  // ---- Faults and controls (in-process; the same work a scheduled action does) -----------------------------

  crash(id: NodeId): string | undefined {
    return this.runLocal(this.crashWork(id));
  }

  restart(id: NodeId): string | undefined {
    return this.runLocal(this.restartWork(id));
  }

  /** Force an election timeout on `id`. */
  timeout(id: NodeId): string | undefined {
    return this.runLocal(this.refusal(this.node(id), { kind: 'timeout' }));
  }

  /** Snapshot node `id`'s state machine now and compact its log (§7). */
  snapshot(id: NodeId): string | undefined {
    return this.runLocal(this.refusal(this.node(id), { kind: 'snapshot' }));
  }

  /**
   * Start a new, empty node and ask the leader to add it, first as a learner that catches up, then as a voter
   * (thesis §4.2.1). Returns the new id, or why it could not start.
   */
  addServer(): NodeId | string {
    return this.runLocal(this.addServerWork());
  }

  /** Ask the leader to remove `id` from the configuration (thesis §4.2). The node itself keeps running. */
  removeServer(id: NodeId): string | undefined {
    return this.runLocal(this.atLeader({ kind: 'config-change', change: { type: 'remove', node: id } }));
  }

  transfer(to: NodeId): string | undefined {
    return this.runLocal(this.atLeader({ kind: 'transfer', to }));
  }

  setConfig<K extends keyof SimConfig>(key: K, value: SimConfig[K]): void {
    this.runLocal(this.setConfigWork(key, value));
  }

  /** A client request through node `target`; the result appears in the trace once applied. */
  submit(
    target: NodeId,
    op: ClientOp,
    command: ServiceCommand,
    onDone?: (result: unknown, index: number) => void,
    options: RequestOptions = {},
  ): ClientSubmit {
    return this.runLocal(this.submitWork(target, op, command, onDone, options));
  }

  /**
   * A linearizable read of `key` through node `target` (thesis §6.4), or through the log when readMode is
   * `log`. The result appears in the trace, and goes to `onDone` with the index it reflects.
   */
  read(target: NodeId, key: string, onDone?: (result: unknown, index: number) => void, options: RequestOptions = {}): ClientSubmit {
    return this.runLocal(this.readWork(target, key, onDone, options));
  }

  /** Make node `id`'s clock run `rate` times as fast as real time from now on (1 is true time). */
  setClockRate(id: NodeId, rate: number): void {
    this.runLocal(this.clockWork(id, rate));
  }

  // ---- The work of each control ----------------------------------------------------------------------------

  private *crashWork(id: NodeId): Work<string | undefined> {
    const node = this.node(id);
    if (!node.up) return `S${id} is already down`;
    node.view = null;
    node.status = null;
    node.version++;
    node.incarnation++;
    node.timerAt = Infinity;
    yield { kind: 'crash', node: id };
    for (const [request, pending] of this.requests) {
      if (pending.node !== id) continue;
      this.settle(id, { outcome: 'lost', request, op: pending.op, reason: 'node-crashed', leader: NONE });
    }
    this.emit(id, { type: 'crash' });
    this.checker?.onCrash(id);
    return undefined;
  }

  private *restartWork(id: NodeId): Work<string | undefined> {
    const node = this.node(id);
    if (node.up) return `S${id} is already up`;
    this.emit(id, { type: 'restart' });
    yield* this.boot(node);
    return undefined;
  }

  private *addServerWork(): Work<NodeId | string> {
    const id = Math.max(...this.nodeMap.keys()) + 1;
    if (id > NODES_MAX) return `the cluster already has ${NODES_MAX} nodes`;
    const refused = yield* this.atLeader({ kind: 'config-change', change: { type: 'add-learner', node: id } });
    if (refused !== undefined) return refused;
    const node = new SimNode(id, []);
    this.nodeMap.set(id, node);
    yield* this.boot(node);
    return id;
  }

  /** Give the leader an input; returns why it did nothing, if it did nothing. */
  private *atLeader(input: ReplicaInput): Work<string | undefined> {
    const leader = this.leader();
    if (leader === null) return 'there is no leader';
    return yield* this.refusal(this.node(leader), input);
  }

  private *refusal(node: SimNode, input: ReplicaInput): Work<string | undefined> {
    if (!node.up) return `S${node.id} is down`;
    return (yield* this.input(node, input)).refused;
  }

  private *setConfigWork<K extends keyof SimConfig>(key: K, value: SimConfig[K]): Work {
    this.config = { ...this.config, [key]: value };
    this.network.settings = this.linkSettings();
    for (const node of this.nodeMap.values()) {
      if (node.up) yield* this.input(node, { kind: 'options', options: this.replicaOptions(node.id) });
    }
  }

  private *clockWork(id: NodeId, rate: number): Work {
    if (!(rate > 0)) throw new Error(`clock rate must be positive, got ${rate}`);
    const node = this.node(id);
    node.clock = { rate, globalAtOrigin: this.now, localAtOrigin: this.localTime(node) };
    node.version++;
    if (!node.up) return;
    node.timerAt = Infinity; // deadlines map to other real times now
    yield* this.input(node, { kind: 'wake' });
  }

  private *submitWork(
    target: NodeId,
    op: ClientOp,
    command: ServiceCommand,
    onDone?: (result: unknown, index: number) => void,
    options: RequestOptions = {},
  ): Work<ClientSubmit> {
    const request = this.nextRequestId++;
    const node = this.node(target);
    this.requests.set(request, { node: target, op, ...(onDone ? { onDone } : {}), ...(options.onFail ? { onFail: options.onFail } : {}) });
    if (!node.up) return this.settle(target, { outcome: 'rejected', request, op, reason: 'node-down', leader: NONE });
    const input: ReplicaInput = { kind: 'propose', request, op, command, ...(options.session ? { session: options.session } : {}) };
    const output = yield* this.input(node, input);
    if (output.index === undefined) return { ok: false, request, reason: output.refused ?? 'refused', leader: output.view.leader };
    return { ok: true, request, index: output.index };
  }

  private *readWork(target: NodeId, key: string, onDone?: (result: unknown, index: number) => void, options: RequestOptions = {}): Work<ClientSubmit> {
    if (this.config.readMode === 'log') return yield* this.submitWork(target, 'get', { op: 'get', key }, onDone, options);
    const request = this.nextRequestId++;
    const node = this.node(target);
    this.requests.set(request, {
      node: target,
      op: 'get',
      read: { key, startedAt: this.now, mustReach: this.completedWriteIndex },
      ...(onDone ? { onDone } : {}),
      ...(options.onFail ? { onFail: options.onFail } : {}),
    });
    if (!node.up) return this.settle(target, { outcome: 'rejected', request, op: 'get', reason: 'node-down', leader: NONE });
    yield* this.input(node, { kind: 'read', request, key });
    return { ok: true, request, index: 0 };
  }

  /** A request's end: trace it, check a read against the writes that completed before it began, tell the client. */
  private settle(node: NodeId, outcome: ClientOutcome): ClientSubmit {
    const { request, op } = outcome;
    const pending = this.requests.get(request);
    this.requests.delete(request);
    if (outcome.outcome === 'done') {
      const read = pending?.read;
      if (read && outcome.index < read.mustReach) {
        // Linearizability: the read began after a write at index mustReach completed, so it must see it.
        this.checker?.reportClientViolation(
          node,
          'StaleRead',
          `a read of ${read.key} through S${node} began at t=${formatMs(read.startedAt)}ms after a write at index ${read.mustReach} had completed, but was answered at index ${outcome.index}`,
          this.now,
        );
      }
      if (!read && op !== 'get') this.completedWriteIndex = Math.max(this.completedWriteIndex, outcome.index);
      this.emit(node, { type: 'client', request, op, outcome: 'done', index: outcome.index, result: outcome.result });
      pending?.onDone?.(outcome.result, outcome.index);
      return { ok: true, request, index: outcome.index };
    }
    const { reason, leader } = outcome;
    if (outcome.outcome === 'lost') this.emit(node, { type: 'client', request, op, outcome: 'lost', reason: outcome.reason });
    else {
      const refused = outcome.reason;
      this.emit(node, leader === NONE ? { type: 'client', request, op, outcome: 'rejected', reason: refused } : { type: 'client', request, op, outcome: 'rejected', reason: refused, leader });
    }
    pending?.onFail?.({ outcome: outcome.outcome, reason, leader });
    return { ok: false, request, reason, leader };
  }

  private localTime(node: SimNode): number {
    return localTimeAt(node.clock, this.now);
  }

  /** The virtual millisecond at which node's clock reads `local`. */
  globalTime(node: SimNode, local: number): number {
    return globalTimeOf(node.clock, local, this.timeStepMs());
  }

  // ---- Scenario actions -------------------------------------------------------------------------------------

  private *runAction(action: ScenarioAction): Work {
    const { atMs: _atMs, do: name, ...detail } = action;
    this.actionRequest = undefined;
    const skipped = yield* this.applyAction(action);
    const request = this.actionRequest;
    this.emit(0, { type: 'action', action: name, detail, ...(request === undefined ? {} : { request }), ...(skipped === undefined ? {} : { skipped }) });
  }

  /** Carry out one action; returns why it was skipped, or undefined when it ran. */
  private *applyAction(action: ScenarioAction): Work<string | undefined> {
    const resolve = (ref: NodeRef | undefined): NodeId | string => {
      if (ref === undefined || ref === 'leader') return this.leader() ?? 'there is no leader';
      return this.nodeMap.has(ref) ? ref : `there is no S${ref}`;
    };
    const target = NODE_ACTIONS.has(action.do) ? resolve('node' in action ? action.node : undefined) : 0;
    if (typeof target === 'string') return target;
    const session = 'session' in action && action.session ? { session: action.session } : {};
    const request = function* (submitted: Work<ClientSubmit>, sim: Simulation): Work<string | undefined> {
      const result = yield* submitted;
      sim.actionRequest = result.request;
      return result.ok ? undefined : `S${sim.leader() ?? '?'} leads; the request was refused: ${result.reason}`;
    };
    switch (action.do) {
      case 'crash':
        return yield* this.crashWork(target);
      case 'restart':
        return yield* this.restartWork(target);
      case 'timeout':
        return yield* this.refusal(this.node(target), { kind: 'timeout' });
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
        yield* this.setConfigWork(action.key, action.value);
        return undefined;
      case 'put':
        return yield* request(this.submitWork(target, 'put', { op: 'put', key: action.key, value: action.value }, undefined, session), this);
      case 'get':
        return yield* request(this.readWork(target, action.key), this);
      case 'delete':
        return yield* request(this.submitWork(target, 'delete', { op: 'delete', key: action.key }, undefined, session), this);
      case 'cas':
        return yield* request(this.submitWork(target, 'cas', { op: 'cas', key: action.key, from: action.from, to: action.to }, undefined, session), this);
      case 'transfer':
        return yield* this.atLeader({ kind: 'transfer', to: action.to });
      case 'enqueue':
        return yield* request(this.submitWork(target, 'enqueue', { op: 'enqueue', queue: action.queue, payload: action.payload as JsonValue }, undefined, session), this);
      case 'claim':
        return yield* request(
          this.submitWork(target, 'claim', { op: 'claim', queue: action.queue, worker: action.worker, leaseMs: action.leaseMs }, undefined, session),
          this,
        );
      case 'ack':
      case 'nack':
        return yield* request(this.submitWork(target, action.do, { op: action.do, queue: action.queue, task: action.task }, undefined, session), this);
      case 'snapshot':
        return yield* this.refusal(this.node(target), { kind: 'snapshot' });
      case 'add-node': {
        const added = yield* this.addServerWork();
        return typeof added === 'string' ? added : undefined;
      }
      case 'remove-node':
        return yield* this.atLeader({ kind: 'config-change', change: { type: 'remove', node: target } });
      case 'clock':
        yield* this.clockWork(target, action.rate);
        return undefined;
      case 'drop':
        if (action.message >= this.nextMessageId) return `message ${action.message} has not been sent`;
        this.droppedByUser.add(action.message);
        return undefined;
    }
  }

  // ---- The host loop ----------------------------------------------------------------------------------------

  private *boot(node: SimNode): Work {
    const stored = node.storage.load();
    const boot: ReplicaBoot = {
      options: this.replicaOptions(node.id),
      stored,
      randomSeed: this.randomSeed(node),
      nowMs: this.localTime(node),
    };
    const output = (yield { kind: 'boot', node: node.id, boot })!;
    this.checker?.onRestart(node.id, stored.snapshot?.index ?? 0);
    this.absorb(node, output);
  }

  /** A fresh stream per incarnation: a restarted worker cannot resume its predecessor's draws. */
  private randomSeed(node: SimNode): number {
    const stream = this.root.fork(node.id);
    return node.incarnation === 0 ? stream.seed : stream.fork(node.incarnation).seed;
  }

  /** Give a running node an input and carry out what it asks. */
  private *input(node: SimNode, input: ReplicaInput, event?: number): Work<ReplicaOutput> {
    const call: HostCall = { kind: 'input', node: node.id, input, nowMs: this.localTime(node), ...(event === undefined ? {} : { event }) };
    const output = (yield call)!;
    this.absorb(node, output);
    return output;
  }

  /** Carry out a node's effects in order — persist, send, trace, check — then arm its timer. */
  private absorb(node: SimNode, output: ReplicaOutput): void {
    const id = node.id;
    for (const effect of output.effects) {
      switch (effect.kind) {
        case 'event':
          this.emit(id, effect.body);
          break;
        case 'persist':
          node.storage.persist(effect);
          this.occupyDisk(node);
          break;
        case 'send':
          if (node.diskBusyUntil > this.now && ANSWERS.has(effect.message.type)) this.queue.push(node.diskBusyUntil, { kind: 'depart', node: id, incarnation: node.incarnation, message: effect.message });
          else this.send(effect.message);
          break;
        case 'restore':
          this.checker?.onRestore(id, effect.index);
          break;
        case 'apply':
          this.emit(id, { type: 'apply', firstIndex: effect.first, lastIndex: effect.last });
          if (this.checker) for (let i = effect.first; i <= effect.last; i++) this.checker.onApply(id, node.storage.entryAt(i)!, this.now);
          break;
        case 'client':
          this.settle(id, effect.client);
          break;
        case 'observe':
          this.checker?.observe({ id, raft: this.observed(node, effect.view) }, this.now);
          break;
      }
    }
    node.view = output.view;
    node.status = output.status ?? null;
    node.version++;
    // A deadline already past fires now; timerAt holds when the event really fires, or fireTimer would take
    // it for superseded and the node would never be ticked again.
    const at = Math.max(this.globalTime(node, output.deadlineMs), this.now);
    if (at < node.timerAt) {
      node.timerAt = at;
      this.queue.push(at, { kind: 'timer', node: id, incarnation: node.incarnation });
    }
    this.checker?.observe({ id, raft: this.observed(node, output.view) }, this.now);
  }

  /** The checker reads the node's log from its stable storage: the host persisted every entry it holds. */
  private observed(node: SimNode, view: NodeView): ObservedState {
    return { ...view, log: node.storage };
  }

  tuningValue<K extends keyof RaftTuning>(key: K): RaftTuning[K] {
    return this.tuning[key] ?? DEFAULT_RAFT_OPTIONS[key];
  }

  private replicaOptions(id: NodeId): ReplicaOptions {
    return { raft: this.raftOptions(id), snapshotEveryEntries: this.config.snapshotEveryEntries, detailed: this.detailedStatus };
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
      snapshotChunkBytes: c.snapshotChunkBytes,
      snapshotChunksInflightMax: this.tuningValue('snapshotChunksInflightMax'),
      unsafe,
      timerStepMs: this.timeStepMs(),
    };
  }

  private linkSettings() {
    const c = this.config;
    return { latencyMs: c.latencyMs, lossRatio: c.lossRatio, duplicateRatio: c.duplicateRatio, timeStepMs: this.timeStepMs() };
  }

  private *deliver(id: number, message: Message): Work {
    const target = this.nodeMap.get(message.to);
    if (this.droppedByUser.delete(id)) {
      this.emit(message.to, { type: 'drop', id, messageType: message.type, from: message.from, to: message.to, reason: 'user' });
      return;
    }
    if (this.network.isCut(message.from, message.to)) {
      this.emit(message.to, { type: 'drop', id, messageType: message.type, from: message.from, to: message.to, reason: 'link-down' });
      return;
    }
    if (!target?.up) {
      this.emit(message.to, { type: 'drop', id, messageType: message.type, from: message.from, to: message.to, reason: 'node-down' });
      return;
    }
    this.emit(message.to, { type: 'deliver', id, messageType: message.type, from: message.from });
    yield* this.input(target, { kind: 'message', message }, id);
  }

  /**
   * A write takes diskLatencyMs after the writes before it. The storage holds it at once: a crash before it is
   * done then looks like a crash after the write and before the sends that waited for it, which can happen.
   */
  private occupyDisk(node: SimNode): void {
    const [min, max] = this.config.diskLatencyMs;
    if (max === 0) return;
    node.diskBusyUntil = Math.max(node.diskBusyUntil, this.now) + timeBetween(this.diskRandom, min, max, this.timeStepMs());
  }

  /** A message held for the disk leaves now, unless its sender crashed meanwhile. */
  private *depart(id: NodeId, incarnation: number, message: Message): Work {
    const node = this.node(id);
    if (node.up && node.incarnation === incarnation) this.send(message);
  }

  private timeStepMs(): number {
    return this.config.subMillisecond ? FINE_TIME_STEP_MS : 1;
  }

  private *fireTimer(id: NodeId, incarnation: number, at: number): Work {
    const node = this.node(id);
    if (!node.up || node.incarnation !== incarnation || node.timerAt !== at) return; // superseded
    node.timerAt = Infinity;
    yield* this.input(node, { kind: 'tick' });
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
