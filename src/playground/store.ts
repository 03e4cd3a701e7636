// The playground's state (zustand): the running cluster, the view drawn from it, the clock's pace, the
// narration, the selection, and a history of views for the scrubber. The page owns virtual time: a frame loop
// moves the clock by the wall time elapsed × speed and runs the events due.
import { create } from 'zustand';
import type { NodeId } from '../core/types.ts';
import { explainEvent } from '../sim/explain.ts';
import { formatScenario, parseScenarioText, type Scenario, type SimConfig } from '../sim/scenario.ts';
import type { Timeline } from '../sim/timeline.ts';
import type { TraceEvent } from '../sim/trace.ts';
import { AttachedCluster } from './attached-cluster.ts';
import { LiveCluster, type Action, type LiveLink, type LiveNode, type LiveView } from './live-cluster.ts';

/** Speeds on a log scale, 1/1000× to 10× real time (the Speed control steps through them). */
export const SPEEDS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10] as const;
/** Slow enough to follow an election: a 150–300 ms timeout takes 3–6 seconds. */
export const DEFAULT_SPEED = 0.05;
const NARRATION_MAX = 300;
/** Wall time the clock's pump runs events in a frame: the rest of the frame is for drawing. */
const PUMP_SLICE_MS = 10;
/** How far, in wall ms, the clock shown may run ahead of the events before it waits for them. */
const LAG_WALL_MS = 50;

const nextFrame = () => new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));
/** A Step looks this many moments ahead for one the trace records (a live cluster always has one soon). */
const STEP_MOMENTS_MAX = 10_000;
/** How often (wall ms) the state machines are fetched from the workers. */
const MACHINE_REFRESH_MS = 250;
/**
 * At this pace and faster, the text panels (log grid, narration, inspector, machines, controls) redraw at most every
 * PANEL_REFRESH_MS of wall time, while the ring moves every frame: at 1× a busy cluster changes every frame,
 * faster than anyone reads, and redrawing every panel each frame cost the clock its pace. Slower, or stopped,
 * they redraw with the ring.
 */
const PANEL_THROTTLE_SPEED = 0.5;
const PANEL_REFRESH_MS = 100;

export interface Narration {
  /** Numbers the sentences of a run, for stable keys. */
  readonly seq: number;
  readonly t: number;
  readonly node: NodeId;
  readonly text: string;
}

export type Selection = { readonly kind: 'node'; readonly id: NodeId } | { readonly kind: 'message'; readonly id: number } | null;

export interface StartOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly config?: Partial<SimConfig>;
  /** A scenario to replay: its actions run at their times and the clock pauses at its runUntilMs. */
  readonly scenario?: Scenario;
  readonly paused?: boolean;
  /**
   * Run the scenario at once up to this virtual ms and stop there (a lesson's step), rather than play it at the
   * chosen pace to its runUntilMs.
   */
  readonly fastForwardTo?: number;
}

/**
 * A say on the learner's actions (a lesson's): `admit` returns the action to run (the same, or the form the
 * lesson recorded it in, so that the run stays the lesson's), or a sentence that refuses it, shown as the
 * notice. `after` hears of each action done, once the cluster has run it.
 */
export interface ActionGate {
  admit(action: Action): Action | string;
  after(action: Action): void;
}

let gate: ActionGate | null = null;

export function setActionGate(next: ActionGate | null): void {
  gate = next;
}

export interface PlaygroundState {
  readonly status: 'starting' | 'running' | 'error';
  readonly error: string | null;
  readonly view: LiveView | null;
  /** The view the text panels draw: `view`, at most PANEL_REFRESH_MS behind it while the clock runs fast. */
  readonly panelView: LiveView | null;
  /**
   * The clock shown, in virtual ms: fractional, so messages glide between events. It leads and the events
   * follow: the cluster runs every event up to the clock shown, and never past it.
   */
  readonly clockMs: number;
  readonly speed: number;
  readonly paused: boolean;
  /** Pause when the clock reaches this (a replayed scenario's runUntilMs). */
  readonly stopAtMs: number | null;
  /** When scrubbed into the past: the moment shown (a whole millisecond). */
  readonly scrubMs: number | null;
  /** The cluster's views for the scrubber (LiveCluster.history). */
  readonly history: readonly LiveView[];
  readonly narration: readonly Narration[];
  readonly selection: Selection;
  readonly seed: number;
  readonly nodes: number;
  /** The settings in force now (the initial ones plus every `set` since). */
  readonly config: SimConfig | null;
  /** A short message for the user (an import error, "link copied"). */
  readonly notice: string | null;
  /** What the scenario being replayed shows (a lesson's one line), if it says. */
  readonly description: string | null;
  /** Attached to a real cluster (SPEC §9): its control server's address; the clock is wall time. */
  readonly real: string | null;

  start(options: StartOptions): Promise<void>;
  act(action: Action): Promise<void>;
  setSpeed(speed: number): void;
  setPaused(paused: boolean): void;
  /** Pause, and run up to the next moment anything happens. */
  step(): Promise<void>;
  /** Run `ms` of virtual time at once from the clock shown, as fast as the workers go. */
  fastForward(ms: number): Promise<void>;
  scrubTo(ms: number | null): void;
  select(selection: Selection): void;
  exportScenario(): string;
  /** Paused: wait until the events have reached the clock shown (what an export of now replays to). */
  settle(): Promise<void>;
  importScenario(text: string): Promise<void>;
  notify(notice: string | null): void;
  /** Draw the real cluster whose `cluster --ui` control server is at `base` (SPEC §9). */
  attach(base: string, token: string): Promise<void>;
}

let cluster: LiveCluster | null = null;
let frame = 0;
let lastMachineRefresh = 0;

/** The real cluster the page is attached to, if it is (then there is no simulated one). */
let attached: AttachedCluster | null = null;

/** The cluster behind the store (for tests and automation). */
export function liveCluster(): LiveCluster | null {
  return cluster;
}

/** The run's timeline, simulated or real: what the space-time diagram and the client history draw. */
export function currentTimeline(): { readonly timeline: Timeline; readonly key: string } | null {
  const timeline = cluster?.timeline ?? attached?.timeline;
  if (timeline) return { timeline, key: String(timeline.serial) };
  return null;
}

export const usePlayground = create<PlaygroundState>()((set, get) => {
  /** What the last publish showed: nothing new, nothing to draw again. */
  let published = { events: -1, clockMs: -1, machines: null as unknown };

  let panelsPublishedAt = -Infinity;
  let narrationPublishedAt = -Infinity;

  /**
   * Publish the cluster's view, and keep it in the history if anything happened since the latest kept. The
   * panels get it too, and the narration so far, when they are due (`throttle`) or always (a Step, a start).
   */
  const publish = (throttle = false) => {
    if (!cluster) return;
    if (changed()) {
      const view = cluster.remember() ?? cluster.view();
      published = { events: cluster.sim.trace.count, clockMs: get().clockMs, machines: view.machines };
      set({ view, config: cluster.sim.config });
    }
    const state = get();
    const wall = performance.now();
    if (throttle && panelsThrottled(state)) {
      // The panels and the narration take turns, a frame apart: the log grid and the event log redrawn in one
      // frame were more than a frame's work for 9 busy nodes (bench:ui).
      if (wall - panelsPublishedAt >= PANEL_REFRESH_MS) {
        panelsPublishedAt = wall;
        if (state.panelView !== state.view) set({ panelView: state.view });
      } else if (wall - narrationPublishedAt >= PANEL_REFRESH_MS) {
        narrationPublishedAt = wall;
        flushNarration();
      }
      return;
    }
    panelsPublishedAt = narrationPublishedAt = wall;
    if (state.panelView !== state.view) set({ panelView: state.view });
    flushNarration();
  };
  const changed = () =>
    cluster !== null && (cluster.sim.trace.count !== published.events || get().clockMs !== published.clockMs || cluster.machineViews !== published.machines);

  const narrate: Narration[] = [];
  let narrated = 0;
  const flushNarration = () => {
    if (narrate.length === 0) return;
    const all = [...get().narration, ...narrate.splice(0)];
    set({ narration: all.slice(-NARRATION_MAX) });
  };

  const fail = (error: unknown) => set({ status: 'error', error: error instanceof Error ? error.message : String(error) });

  /** The wall time the clock last moved at (null: not yet in this run). */
  let lastWall: number | null = null;

  /**
   * Move the clock shown by the wall time elapsed × speed. The clock leads and the events follow, so what the
   * clock has shown is the past: Pause stops the clock where it is and only the events up to it still run. It
   * runs ahead of the events by at most LAG_WALL_MS of wall time, then waits for them rather than skip any.
   */
  const moveClock = (current: LiveCluster, wall: number) => {
    const elapsed = lastWall === null ? 0 : Math.min(100, wall - lastWall);
    lastWall = wall;
    const state = get();
    if (state.paused || state.scrubMs !== null || state.clockMs - current.nowMs > Math.max(1, LAG_WALL_MS * state.speed)) return;
    let target = state.clockMs + elapsed * state.speed;
    const reachedStop = state.stopAtMs !== null && target >= state.stopAtMs;
    if (reachedStop) target = state.stopAtMs!;
    set({ clockMs: target, ...(reachedStop ? { paused: true, stopAtMs: null } : {}) });
  };

  /**
   * Runs the events up to the clock shown, once a frame, for at most a slice of wall time, then lets the page
   * draw; waiting on the workers leaves the main thread free. Now and then it fetches the state machines.
   */
  const pump = async (current: LiveCluster) => {
    while (cluster === current) {
      const wall = performance.now();
      if (wall - lastMachineRefresh > MACHINE_REFRESH_MS) {
        lastMachineRefresh = wall;
        await current.refreshMachines();
        if (cluster !== current) return;
      }
      const target = get().clockMs;
      if (current.nowMs < Math.floor(target)) await current.advanceTo(target, performance.now() + PUMP_SLICE_MS, () => performance.now());
      if (cluster !== current) return;
      await nextFrame();
    }
  };

  /**
   * Once a frame: move the clock and publish what changed, in one task, so React draws the frame once (each
   * task's store updates render together).
   */
  const draw = (wall: number) => {
    frame = requestAnimationFrame(draw);
    const current = cluster;
    if (!current) return;
    try {
      moveClock(current, wall);
      publish(true);
    } catch (error) {
      if (cluster === current) fail(error);
    }
  };

  /** Numbers the launches: a start that finishes after a newer one began is thrown away. */
  let launches = 0;

  /**
   * Stop the run showing, simulated or real, and clear what the page drew of it, for a new one; returns the new
   * launch's number.
   */
  const stopRunning = (): number => {
    const mine = ++launches;
    cancelAnimationFrame(frame);
    cluster?.dispose();
    cluster = null;
    attached?.dispose();
    attached = null;
    lastWall = null;
    narrate.length = 0;
    set({ status: 'starting', error: null, view: null, panelView: null, history: [], narration: [], selection: null, scrubMs: null, clockMs: 0 });
    return mine;
  };

  /** Narrate each trace event of launch `mine`, unless a newer launch began since. */
  const narrateFor = (mine: number) => (event: TraceEvent) => {
    if (launches !== mine) return;
    const text = explainEvent(event);
    if (text !== null) narrate.push({ seq: narrated++, t: event.t, node: event.node, text });
  };

  const launch = async (options: StartOptions, fastForwardTo?: number) => {
    const mine = stopRunning();
    const scenario = options.scenario;
    set({
      seed: scenario?.seed ?? options.seed,
      nodes: scenario?.nodes ?? options.nodes,
      description: scenario?.description ?? null,
      real: null,
      paused: options.paused ?? false,
      stopAtMs: scenario && fastForwardTo === undefined ? scenario.runUntilMs : null,
    });
    try {
      const started = await LiveCluster.start({
        seed: scenario?.seed ?? options.seed,
        nodes: scenario?.nodes ?? options.nodes,
        config: scenario?.config ?? options.config ?? {},
        actions: scenario?.actions ?? [],
        ...(scenario?.description ? { description: scenario.description } : {}),
        onTrace: narrateFor(mine),
      });
      if (launches !== mine) {
        started.dispose();
        return;
      }
      cluster = started;
      set({ history: started.history });
      if (fastForwardTo !== undefined) {
        await started.advanceTo(fastForwardTo);
        if (cluster !== started) return;
        set({ clockMs: fastForwardTo });
      }
      set({ status: 'running' });
      await started.refreshMachines();
      if (cluster !== started) return;
      publish();
      frame = requestAnimationFrame(draw);
      pump(started).catch((error: unknown) => {
        if (cluster === started) fail(error);
      });
    } catch (error) {
      if (launches === mine) fail(error);
    }
  };

  /**
   * Actions, Steps and +1 s run one after another, in the order pressed, each from where the one before left the
   * run: a Step pressed right after a crash counts from the crash, and two quick Steps are two moments.
   */
  let turns: Promise<void> = Promise.resolve();
  const inTurn = (work: () => Promise<void>): Promise<void> => {
    const done = turns.then(work);
    turns = done.catch(() => undefined);
    return done;
  };

  const actNow = async (asked: Action) => {
    if (attached) {
      set({ notice: await attached.act(asked) });
      return;
    }
    if (!cluster) return;
    const action = gate ? gate.admit(asked) : asked;
    if (typeof action === 'string') {
      set({ notice: action });
      return;
    }
    const state = get();
    if (state.scrubMs !== null && state.scrubMs < cluster.nowMs) {
      // Acting in the past forks the run: replay it up to the moment shown, then act there.
      const moment = state.scrubMs;
      const past = cluster.scenario();
      const forked: Scenario = { ...past, actions: past.actions.filter((a) => a.atMs <= moment), runUntilMs: moment };
      await launch({ seed: past.seed, nodes: past.nodes, scenario: forked, paused: state.paused }, moment);
    }
    const live = cluster as LiveCluster | null;
    if (!live) return;
    await live.act(action, get().clockMs);
    set({ clockMs: Math.max(get().clockMs, live.nowMs), scrubMs: null }); // the next frame draws it
    if (cluster === live) gate?.after(action);
  };

  return {
    status: 'starting',
    error: null,
    view: null,
    panelView: null,
    clockMs: 0,
    speed: DEFAULT_SPEED,
    paused: false,
    stopAtMs: null,
    scrubMs: null,
    history: [],
    narration: [],
    selection: null,
    seed: 1,
    nodes: 5,
    config: null,
    notice: null,
    description: null,
    real: null,

    start: (options) => launch(options, options.fastForwardTo),

    async attach(base, token) {
      const mine = stopRunning();
      set({ paused: false, stopAtMs: null, real: base, description: null });
      try {
        const connected = await AttachedCluster.connect(base, token, narrateFor(mine), (problem) => set({ notice: problem }));
        if (launches !== mine) return connected.dispose();
        attached = connected;
        set({ status: 'running', nodes: connected.nodeCount });
        // Once a frame: the wall clock, the view as the stream left it, the narration a panel refresh apart.
        const drawReal = () => {
          frame = requestAnimationFrame(drawReal);
          if (attached !== connected) return;
          const view = connected.view();
          set({ view, clockMs: view.nowMs });
          const wall = performance.now();
          if (wall - panelsPublishedAt >= PANEL_REFRESH_MS) {
            panelsPublishedAt = wall;
            set({ panelView: view });
            flushNarration();
          }
        };
        frame = requestAnimationFrame(drawReal);
      } catch (error) {
        if (launches === mine) fail(error);
      }
    },

    act(asked) {
      return inTurn(() => actNow(asked));
    },

    setSpeed: (speed) => set({ speed }),
    setPaused: (paused) => {
      // On a whole millisecond: the clock stops on the moment it shows, and the events run up to it.
      set({ paused, ...(paused ? { clockMs: Math.floor(get().clockMs) } : { scrubMs: null }) });
    },

    step: () => inTurn(async () => {
      const current = cluster;
      if (!current) return;
      get().setPaused(true);
      set({ scrubMs: null });
      await current.advanceTo(get().clockMs); // the events up to the clock shown, if they are behind it
      // The next moment something happens that the trace records: a timer that only re-arms itself (a follower
      // that heard from its leader since it was set) is not one, and a Step that showed nothing would puzzle.
      const before = current.sim.trace.count;
      let reached = get().clockMs;
      for (let moments = 0; moments < STEP_MOMENTS_MAX && current.sim.trace.count === before; moments++) {
        const next = Math.ceil(current.sim.nextEventAt()); // the page's clock is whole milliseconds
        if (cluster !== current || next === Infinity) break;
        await current.advanceTo(next);
        reached = next;
      }
      if (cluster !== current) return;
      // The clock and the view move together, once the moment's events have run: what a Step shows is whole.
      set({ clockMs: reached });
      publish();
    }),

    fastForward: (ms) => inTurn(async () => {
      const current = cluster;
      if (!current) return;
      const target = Math.floor(shownClock(get())) + ms;
      set({ scrubMs: null });
      await current.advanceTo(target);
      if (cluster !== current) return;
      set({ clockMs: Math.max(get().clockMs, target) }); // with the view, as a Step does
      publish();
    }),

    scrubTo(ms) {
      if (ms === null || !cluster || ms >= cluster.nowMs) {
        set({ scrubMs: null, ...(ms !== null ? { paused: true } : {}) });
        return;
      }
      cluster.remember(); // the latest moment too
      set({ scrubMs: Math.max(cluster.history[0]?.nowMs ?? 0, Math.floor(ms)), paused: true });
    },
    select: (selection) => set({ selection }),

    exportScenario() {
      if (attached) return attached.exportRecord(); // a record of what happened, not a scenario
      if (!cluster) throw new Error('the cluster has not started');
      return formatScenario(cluster.scenario(pausedAt(get()) ?? cluster.nowMs));
    },

    async settle() {
      const at = pausedAt(get());
      if (cluster && at !== null) await cluster.advanceTo(at);
    },

    async importScenario(text) {
      let scenario: Scenario;
      try {
        scenario = parseScenarioText(text);
      } catch (error) {
        set({ notice: `Import failed: ${error instanceof Error ? error.message : String(error)}` });
        return;
      }
      set({ notice: null });
      await launch({ seed: scenario.seed, nodes: scenario.nodes, scenario, paused: false });
    },

    notify: (notice) => set({ notice }),
  };
});

/** Paused on the present, the clock shown: the run is up to there, its events there run even if not yet. */
function pausedAt(state: PlaygroundState): number | null {
  return state.paused && state.scrubMs === null ? Math.floor(state.clockMs) : null;
}

/** The view at the moment shown: from the history when scrubbed (the latest kept at or before it), or the live one. */
export function shownView(state: PlaygroundState): LiveView | null {
  if (state.scrubMs === null) return state.view;
  const { history } = state;
  let low = 0;
  let high = history.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (history[mid]!.nowMs <= state.scrubMs) low = mid;
    else high = mid - 1;
  }
  return history[low] ?? state.view;
}

/** Whether the clock runs too fast to read the panels as they change: they redraw less often, and hold less. */
export function panelsThrottled(state: PlaygroundState): boolean {
  return !state.paused && state.scrubMs === null && state.speed >= PANEL_THROTTLE_SPEED;
}

/** The view the text panels draw at the moment shown: from the history when scrubbed, else the panels' view. */
export function shownPanelView(state: PlaygroundState): LiveView | null {
  return state.scrubMs === null ? state.panelView : shownView(state);
}

/** What the controls read from a view: which nodes there are, their status and role, the leader, the cut links. */
export interface ClusterSummary {
  readonly nodes: readonly Pick<LiveNode, 'id' | 'status' | 'role'>[];
  readonly leader: NodeId | null;
  /** The links that are not up. */
  readonly links: readonly Pick<LiveLink, 'state'>[];
}

let summaryShown: { readonly key: string; readonly summary: ClusterSummary } | null = null;

/**
 * The summary of the view shown, the same object for as long as it says the same: the controls redraw when a
 * button's state could change, not every frame (React sets a form input's attributes again on every render).
 */
export function shownSummary(state: PlaygroundState): ClusterSummary | null {
  const view = shownPanelView(state);
  if (!view) return null;
  const cut = view.links.filter((link) => link.state !== 'up');
  const key = `${view.leader}|${view.nodes.map((n) => `${n.id}:${n.status}:${n.role}`).join(',')}|${cut.map((link) => link.state).join(',')}`;
  if (summaryShown?.key !== key) {
    summaryShown = {
      key,
      summary: { nodes: view.nodes.map(({ id, status, role }) => ({ id, status, role })), leader: view.leader, links: cut.map(({ state }) => ({ state })) },
    };
  }
  return summaryShown.summary;
}

/** The clock shown: the scrubbed moment, or the live clock. */
export function shownClock(state: PlaygroundState): number {
  return state.scrubMs ?? state.clockMs;
}
