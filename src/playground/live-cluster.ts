// The playground's running cluster: the simulation drives time, the network and storage on the page, and
// each node runs in its own Web Worker (WorkerHost). Every user action is scheduled as a scenario action at a
// virtual time, so a run exports as a scenario file that `raft-playground sim` replays to the same trace.
import type { Entry, Message, NodeId, Role } from '../core/types.ts';
import type { LinkState } from '../sim/network.ts';
import { DEFAULT_SIM_CONFIG, type ActionBody, type Scenario, type ScenarioAction, type SimConfig } from '../sim/scenario.ts';
import type { Violation } from '../sim/safety-checker.ts';
import { Simulation, type SimResult } from '../sim/simulation.ts';
import type { DropReason, TraceEvent } from '../sim/trace.ts';
import type { MachineView } from '../worker/node.worker.ts';
import { Timeline } from '../sim/timeline.ts';
import { WorkerHost } from './worker-host.ts';

/** How many of each node's latest log entries the view carries. */
export const LOG_COLUMNS = 48;
/** How long a lost message stays on screen, fading, in virtual ms. */
const DYING_MS = 40;
/** Views kept for the scrubber, and how many go at once when it is full (the oldest). */
const HISTORY_MAX = 20_000;
const HISTORY_TRIM = 1_000;
/** The run's timeline is kept this much further back than the views: the space-time diagram's widest window. */
const TIMELINE_MARGIN_MS = 20_000;

/** A scenario action without its time: what the page's controls do now. */
export type Action = ActionBody;

export interface LogCell {
  readonly index: number;
  readonly term: number;
  readonly type: 'command' | 'noop' | 'config';
  /** A short label: the command (`put x=1`), `no-op`, or the configuration change. */
  readonly label: string;
}

export interface LiveNode {
  readonly id: NodeId;
  readonly status: 'up' | 'down';
  readonly role: Role;
  /** Persistent state (Figure 2): what survives a crash. */
  readonly term: number;
  readonly votedFor: NodeId;
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  readonly lastIndex: number;
  /** The latest stored entries (up to LOG_COLUMNS). */
  readonly log: readonly LogCell[];
  /** Volatile state: gone while the node is down. */
  readonly leader: NodeId;
  readonly commitIndex: number;
  readonly lastApplied: number;
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  /** When its election timer fires, in virtual ms (null for a leader or a down node), and its length. */
  readonly electionDeadlineMs: number | null;
  readonly electionTimeoutMs: number;
  readonly votesGranted: readonly NodeId[];
  /** A leader's view of each follower (nextIndex, matchIndex), §5.3. */
  readonly progress: readonly { readonly id: NodeId; readonly next: number; readonly match: number; readonly state: string }[];
  readonly clockRate: number;
}

export interface LiveMessage {
  readonly id: number;
  readonly message: Message;
  readonly sentAt: number;
  readonly deliverAt: number;
  /** When and why it was lost, if it was. */
  readonly dropped?: { readonly at: number; readonly reason: DropReason };
}

export interface LiveLink {
  readonly a: NodeId;
  readonly b: NodeId;
  readonly state: LinkState;
}

/** Everything the page draws at one moment: the store keeps a history of these for the scrubber. */
export interface LiveView {
  readonly nowMs: number;
  readonly nodes: readonly LiveNode[];
  readonly links: readonly LiveLink[];
  readonly messages: readonly LiveMessage[];
  readonly leader: NodeId | null;
  readonly violations: readonly Violation[];
  /** Each running node's state machine, as last fetched from its worker. */
  readonly machines: Readonly<Record<NodeId, MachineView>>;
}

export interface LiveOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly config?: Partial<SimConfig>;
  /** Actions to replay (an imported scenario, a shared link), each at its time. */
  readonly actions?: readonly ScenarioAction[];
  readonly description?: string;
  readonly onTrace?: (event: TraceEvent) => void;
}

export class LiveCluster {
  readonly sim: Simulation;
  readonly seed: number;
  readonly nodeCount: number;
  readonly initialConfig: SimConfig;
  readonly description: string | undefined;
  private readonly host = new WorkerHost();
  /** Every action of the run so far, scripted or by hand, in time order: the exported scenario's actions. */
  private readonly actionLog: ScenarioAction[] = [];
  private readonly inFlight = new Map<number, LiveMessage>();
  private readonly dying: LiveMessage[] = [];
  private machines: Record<NodeId, MachineView> = {};
  /**
   * The run's views for the scrubber, oldest first: the first, then one for every virtual millisecond at which
   * anything happened. State changes only at events, so the latest view at or before a moment is that moment.
   */
  readonly history: LiveView[] = [];
  /** The whole run over time (the space-time diagram and the client history draw it). */
  readonly timeline: Timeline;
  /** The trace's length when the latest view was kept. */
  private remembered = -1;
  /** What the views drew of each node, reused while the node has not changed (views share it). */
  private readonly drawnNodes = new Map<NodeId, { readonly version: number; readonly config: SimConfig; readonly node: LiveNode }>();
  private drawnLinks: { readonly key: string; readonly links: readonly LiveLink[] } | null = null;
  /** Counts the network's changes (cut or mended links). */
  private networkVersion = 0;
  private drawnViolations: readonly Violation[] = [];
  /** Work runs one event at a time: callers queue up behind each other. */
  private busy: Promise<unknown> = Promise.resolve();
  private disposed = false;

  private constructor(options: LiveOptions) {
    this.seed = options.seed;
    this.nodeCount = options.nodes;
    this.initialConfig = { ...DEFAULT_SIM_CONFIG, ...options.config };
    this.description = options.description;
    this.timeline = new Timeline(Array.from({ length: options.nodes }, (_, i) => i + 1));
    this.sim = new Simulation({
      seed: options.seed,
      nodes: options.nodes,
      config: this.initialConfig,
      remoteHost: true,
      detailedStatus: true,
      onMillisecondDone: () => this.remember(),
      onTrace: (event) => {
        this.track(event);
        options.onTrace?.(event);
      },
    });
  }

  /** Boot every node in its worker and schedule the given actions. */
  static async start(options: LiveOptions): Promise<LiveCluster> {
    const cluster = new LiveCluster(options);
    try {
      await cluster.host.run(cluster.sim.start());
    } catch (error) {
      cluster.dispose(); // no worker outlives a start that failed
      throw error;
    }
    for (const action of options.actions ?? []) cluster.schedule(action);
    cluster.remember();
    return cluster;
  }

  get nowMs(): number {
    return this.sim.now;
  }

  /**
   * Run every event due at or before `ms`, then set the clock there. Past `wallDeadline` (by `now()`) it stops
   * early and returns false, but only between milliseconds: whenever it returns, every event at or before the
   * clock has run, so the run so far is exactly what a scenario ending at the clock replays.
   */
  advanceTo(ms: number, wallDeadline = Infinity, now: () => number = () => 0): Promise<boolean> {
    return this.exclusive(() => this.runTo(ms, wallDeadline, now));
  }

  /**
   * advanceTo's work; only inside `exclusive`. A lookahead window at a time where the simulation allows one,
   * every node working out its share in its worker at once; otherwise one event at a time.
   */
  private async runTo(ms: number, wallDeadline = Infinity, now: () => number = () => 0): Promise<boolean> {
    const target = Math.floor(ms);
    while (this.sim.nextEventAt() <= target) {
      if (this.disposed) return false;
      if (now() > wallDeadline && this.sim.nextEventAt() > Math.ceil(this.sim.now)) {
        // Only between milliseconds, and at one (a sub-millisecond clock's events may have stopped inside it).
        if (Math.ceil(this.sim.now) > this.sim.now) this.sim.runUntil(Math.ceil(this.sim.now));
        return false;
      }
      const window = this.sim.lookahead(target);
      if (window) await this.host.runWindow(this.sim, window);
      else await this.host.run(this.sim.nextWork()!);
    }
    if (target > this.sim.now) this.sim.runUntil(target);
    return true;
  }

  /**
   * Do `action` now, or just after `shownMs` (the clock the page shows, which the events may not have reached
   * yet): it is scheduled one millisecond ahead, before anything else at that millisecond, and run at once. A
   * file that schedules it at that time replays it in the same place.
   */
  act(action: Action, shownMs = 0): Promise<void> {
    // Inside `exclusive`: between two runs of events.
    return this.exclusive(async () => {
      const atMs = Math.floor(Math.max(this.sim.now, shownMs)) + 1; // a scenario's times are whole milliseconds
      this.schedule({ ...action, atMs } as ScenarioAction);
      await this.runTo(atMs);
    });
  }

  private schedule(action: ScenarioAction): void {
    this.actionLog.push(action);
    this.sim.schedule(action);
  }

  /**
   * The run so far as a scenario file: replaying it gives the same trace up to `runUntilMs`. `untilMs` may be
   * ahead of the events, at a moment they will reach (the clock of a paused page).
   */
  scenario(untilMs: number = this.sim.now): Scenario {
    const end = Math.max(this.sim.now, untilMs);
    return {
      version: 1,
      ...(this.description ? { description: this.description } : {}),
      seed: this.seed,
      nodes: this.nodeCount,
      config: this.initialConfig,
      actions: this.actionLog.filter((a) => a.atMs <= end),
      runUntilMs: end,
    };
  }

  /** Fetch each running node's state machine from its worker (between events, so it cannot race one). */
  refreshMachines(): Promise<void> {
    return this.exclusive(async () => {
      const machines: Record<NodeId, MachineView> = {};
      for (const node of this.sim.nodes) {
        if (!node.up) continue;
        const machine = await this.host.machine(node.id);
        if (machine) machines[node.id] = machine;
      }
      this.machines = machines;
    });
  }

  /** SPEC §4's result, with each node's machine hash from its worker. */
  async result(): Promise<SimResult> {
    await this.refreshMachines();
    const hashes = new Map(Object.entries(this.machines).map(([id, m]) => [Number(id), m.hash]));
    return this.sim.result(hashes);
  }

  /** The state machines as last fetched (a new object after each fetch). */
  get machineViews(): Readonly<Record<NodeId, MachineView>> {
    return this.machines;
  }

  view(): LiveView {
    const now = this.sim.now;
    while (this.dying.length > 0 && this.dying[0]!.dropped!.at + DYING_MS < now) this.dying.shift();
    if (this.drawnViolations.length !== this.sim.violations.length) this.drawnViolations = [...this.sim.violations];
    return {
      nowMs: now,
      nodes: this.sim.nodes.map((node) => this.drawNode(node)),
      links: this.links(),
      messages: [...this.inFlight.values(), ...this.dying],
      leader: this.sim.leader(),
      violations: this.drawnViolations,
      machines: this.machines,
    };
  }

  /** Keep the view of this moment in the history, if anything happened since the latest one kept; returns it. */
  remember(): LiveView | null {
    if (this.sim.trace.count === this.remembered) return null;
    this.remembered = this.sim.trace.count;
    const view = this.view();
    const history = this.history;
    if (history.length > 0 && history[history.length - 1]!.nowMs === view.nowMs) history[history.length - 1] = view;
    else {
      if (history.length >= HISTORY_MAX) {
        history.splice(0, HISTORY_TRIM);
        // The scrubber reaches no earlier; the space-time diagram's widest window may, at the earliest moment kept.
        this.timeline.forgetBefore(history[0]!.nowMs - TIMELINE_MARGIN_MS);
      }
      history.push(view);
    }
    return view;
  }

  private drawNode(node: Simulation['nodes'][number]): LiveNode {
    const drawn = this.drawnNodes.get(node.id);
    if (drawn && drawn.version === node.version && drawn.config === this.sim.config) return drawn.node;
    const live = liveNode(node, this.sim);
    this.drawnNodes.set(node.id, { version: node.version, config: this.sim.config, node: live });
    return live;
  }

  dispose(): void {
    this.disposed = true;
    this.host.stopAll();
  }

  private links(): readonly LiveLink[] {
    const ids = this.sim.nodes.map((n) => n.id).sort((x, y) => x - y);
    const key = `${this.networkVersion}:${ids.length}`;
    if (this.drawnLinks?.key === key) return this.drawnLinks.links;
    const links: LiveLink[] = [];
    for (const [i, a] of ids.entries()) {
      for (const b of ids.slice(i + 1)) links.push({ a, b, state: this.sim.network.linkState(a, b) });
    }
    this.drawnLinks = { key, links };
    return links;
  }

  private track(event: TraceEvent): void {
    this.timeline.record(event);
    switch (event.type) {
      case 'send':
        if (event.deliverAt > event.t) this.inFlight.set(event.id, { id: event.id, message: event.message, sentAt: event.t, deliverAt: event.deliverAt });
        break;
      case 'deliver':
        this.inFlight.delete(event.id);
        break;
      case 'network':
        this.networkVersion++;
        break;
      case 'drop': {
        const message = this.inFlight.get(event.id);
        this.inFlight.delete(event.id);
        if (message) this.dying.push({ ...message, dropped: { at: event.t, reason: event.reason } });
        break;
      }
      default:
        break;
    }
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.busy.then(fn, fn);
    this.busy = run.catch(() => undefined);
    return run;
  }
}

/** Entries are immutable: each is drawn (its label parsed) once. */
const drawnCells = new WeakMap<Entry, LogCell>();

function liveNode(node: Simulation['nodes'][number], sim: Simulation): LiveNode {
  const storage = node.storage;
  const view = node.view;
  const status = node.status;
  const log: LogCell[] = [];
  for (let index = Math.max(storage.snapshotIndex + 1, storage.lastIndex() - LOG_COLUMNS + 1); index <= storage.lastIndex(); index++) {
    const entry = storage.entryAt(index)!;
    let cell = drawnCells.get(entry);
    if (!cell) drawnCells.set(entry, (cell = { index, term: entry.term, type: entry.type, label: entryLabel(entry.type, entry.data) }));
    log.push(cell);
  }
  return {
    id: node.id,
    status: view ? 'up' : 'down',
    role: view?.role ?? 'follower',
    term: view?.term ?? storage.hardState.term,
    votedFor: view?.votedFor ?? storage.hardState.votedFor,
    snapshotIndex: storage.snapshotIndex,
    snapshotTerm: storage.snapshotTerm,
    lastIndex: storage.lastIndex(),
    log,
    leader: view?.leader ?? 0,
    commitIndex: view?.commit ?? 0,
    lastApplied: view?.lastApplied ?? 0,
    voters: view?.config.voters ?? [],
    learners: view?.config.learners ?? [],
    electionDeadlineMs: status && view?.role !== 'leader' ? sim.globalTime(node, status.electionDeadlineMs) : null,
    electionTimeoutMs: status?.electionTimeoutMs ?? sim.config.electionTimeoutMs[1],
    votesGranted: status?.votesGranted ?? [],
    progress: view?.role === 'leader' ? (status?.progress ?? []).map(({ id, next, match, state }) => ({ id, next, match, state })) : [],
    clockRate: node.clock.rate,
  };
}

/** A few words for a log cell. */
export function entryLabel(type: LogCell['type'], data: string): string {
  if (type === 'noop') return 'no-op';
  try {
    const parsed = JSON.parse(data) as { command?: Record<string, unknown>; voters?: number[]; learners?: number[] };
    if (type === 'config') {
      const learners = parsed.learners?.length ? ` + learners ${parsed.learners.map((id) => `S${id}`).join(' ')}` : '';
      return `voters ${(parsed.voters ?? []).map((id) => `S${id}`).join(' ')}${learners}`;
    }
    const c = parsed.command ?? {};
    switch (c['op']) {
      case 'put':
        return `put ${String(c['key'])}=${String(c['value'])}`;
      case 'cas':
        return `cas ${String(c['key'])} ${String(c['from'])}→${String(c['to'])}`;
      case 'delete':
      case 'get':
        return `${c['op']} ${String(c['key'])}`;
      case 'enqueue':
        return `enqueue ${String(c['queue'])}`;
      case 'claim':
        return `claim ${String(c['queue'])}`;
      case 'ack':
      case 'nack':
        return `${c['op']} #${String(c['task'])}`;
      default:
        return String(c['op'] ?? 'command');
    }
  } catch {
    return type;
  }
}
