// The lesson player (SPEC §8): plays a lesson's steps on the page's live cluster. The lesson is planned headless
// first (src/lessons/lesson-plan.ts), so the page knows where each step ends: it plays the clock at the lesson's
// pace to that moment and pauses there, waits for a choice or for the learner's action where the step asks, and
// judges the step's claims on the live cluster, which must agree with the plan. Going back, or opening
// `?lesson=ID&step=N`, replays the run at once to that step's start.
import { create } from 'zustand';
import type { NodeId } from '../core/types.ts';
import { describeLearnerAction, judgeStep, learnerActionMatches, planLesson, scenarioAtStep, type LessonPlan, type LessonScenario, type StepOutcome } from '../lessons/lesson-plan.ts';
import { simulationFacts } from '../lessons/claims.ts';
import { SHIPPED_LESSONS } from '../lessons/shipped.ts';
import { learnerAction, type LessonPanel, type LessonShow, type LessonStep } from '../sim/lesson-format.ts';
import { tasksEver } from '../machines/task-queues.ts';
import type { Violation } from '../sim/safety-checker.ts';
import type { Action } from './live-cluster.ts';
import { loadProgress, recordAnswer, recordDone, saveProgress, type Progress } from './lesson-progress.ts';
import { DEFAULT_SPEED, liveCluster, setActionGate, usePlayground } from './store.ts';

/**
 * Where the learner is in a step: `choosing` an answer to its question, `waiting` for their action, `playing`
 * the run to the step's end, or `ended` there (its verdict shown, Next goes on). After the last step of a
 * challenge: `challenge` (the learner acts freely) until the checker reports a goal, `solved`.
 */
export type StepPhase = 'starting' | 'choosing' | 'waiting' | 'playing' | 'ended' | 'challenge' | 'solved';

export interface ActiveLesson {
  readonly file: LessonScenario;
  readonly plan: LessonPlan;
  /** 0-based. */
  readonly step: number;
  readonly phase: StepPhase;
  /** The choice made on this step's question. */
  readonly chosen: number | null;
  /** The step's claims judged on the live cluster where it ended. */
  readonly outcome: Pick<StepOutcome, 'check' | 'choices' | 'answer'> | null;
  /** Set when the live cluster did not end the step as the plan did (a bug, said plainly). */
  readonly mismatch: string | null;
  /** The violation that solved the challenge. */
  readonly solvedBy: Violation | null;
}

export interface LessonState {
  readonly active: ActiveLesson | null;
  readonly progress: Progress;
  /**
   * Opens a shipped lesson at a step (0-based), at the lesson's pace or at `speed`; a sentence says why when it
   * cannot. The pace stays as the learner sets it from then on.
   */
  open(id: string, step?: number, speed?: number): Promise<void>;
  openFile(file: LessonScenario, step?: number, speed?: number): Promise<void>;
  next(): Promise<void>;
  back(): Promise<void>;
  restart(): Promise<void>;
  choose(choice: number): void;
  /** After the last step of a challenge: the learner may do anything now, paused where the steps ended. */
  startChallenge(): void;
  leave(): void;
}

export function stepOf(active: ActiveLesson): LessonStep {
  return active.file.lesson.steps[active.step]!;
}

/** Counts the player's launches of a step: only the latest goes on once its run has started. */
let openings = 0;

export const useLesson = create<LessonState>()((set, get) => {
  const update = (change: Partial<ActiveLesson>) => {
    const active = get().active;
    if (active) set({ active: { ...active, ...change } });
  };

  /** The cluster this player launched: another one (Reset, Import, a shared link) ends the lesson. */
  let launched: ReturnType<typeof liveCluster> = null;

  /** Replay the run at once to the start of `step`, paused, and begin the step. */
  const goTo = async (file: LessonScenario, plan: LessonPlan, step: number) => {
    const mine = ++openings;
    set({ active: { file, plan, step, phase: 'starting', chosen: null, outcome: null, mismatch: null, solvedBy: null } });
    writeLocation(file.lesson.id, step);
    const store = usePlayground.getState();
    const at = scenarioAtStep(file, plan, step);
    await store.start({ seed: file.seed, nodes: file.nodes, scenario: at, paused: true, fastForwardTo: plan.steps[step]!.startMs });
    if (mine !== openings || !get().active) return;
    launched = liveCluster();
    begin();
  };

  const begin = () => {
    const active = get().active;
    if (!active) return;
    const step = stepOf(active);
    if ('ask' in step) update({ phase: 'choosing' });
    else if (learnerAction(step)) update({ phase: 'waiting' });
    else play();
  };

  /** Run the clock at the lesson's pace to the step's end; it pauses there, and the subscription below ends the step. */
  const play = () => {
    const active = get().active;
    if (!active) return;
    const end = active.plan.steps[active.step]!.endMs;
    update({ phase: 'playing' });
    if ((liveCluster()?.nowMs ?? 0) >= end) {
      void finish();
      return;
    }
    usePlayground.setState({ stopAtMs: end });
    usePlayground.getState().setPaused(false);
  };

  /** The step has ended on the live cluster: judge its claims there and compare with the plan. */
  const finish = async () => {
    const active = get().active;
    const current = liveCluster();
    if (!active || !current || active.phase === 'ended') return;
    const planned = active.plan.steps[active.step]!;
    update({ phase: 'ended' });
    await current.refreshMachines();
    if (get().active?.step !== active.step || liveCluster() !== current) return;
    const machines = current.machineViews;
    const up = (node: NodeId) => current.sim.node(node).up;
    const facts = simulationFacts(current.sim, current.timeline.calls, {
      value(node, key) {
        if (!up(node)) return undefined;
        const entry = machines[node]?.kv.find(([k]) => k === key);
        return entry ? entry[1] : null;
      },
      tasks(node, queue) {
        if (!up(node)) return undefined;
        const lanes = machines[node]?.queues.find((q) => q.queue === queue);
        return lanes ? tasksEver(lanes.counts) : 0;
      },
    });
    const outcome = judgeStep(stepOf(active), facts);
    const mismatch =
      current.nowMs !== planned.endMs
        ? `the run went past the step's end (${current.nowMs} ms, not ${planned.endMs} ms): press Start over`
        : current.sim.trace.traceHash() !== planned.traceHash || outcome.answer !== planned.answer || outcome.check?.holds !== planned.check?.holds
          ? "the page's run does not end this step as the lesson's plan does"
          : null;
    update({ outcome, mismatch });
    let progress = get().progress;
    if (active.chosen !== null && outcome.answer !== undefined) progress = recordAnswer(progress, active.file.lesson.id, active.step, active.chosen, active.chosen === outcome.answer);
    if (active.step === active.file.lesson.steps.length - 1 && !active.file.lesson.challenge) progress = recordDone(progress, active.file.lesson.id);
    if (progress !== get().progress) {
      saveProgress(progress);
      set({ progress });
    }
  };

  setActionGate({
    admit(action: Action) {
      const active = get().active;
      if (!active || liveCluster() !== launched || active.phase === 'challenge' || active.phase === 'solved') return action;
      const step = stepOf(active);
      const expected = learnerAction(step);
      if (active.phase !== 'waiting' || !expected) {
        return 'The lesson plays its own run: act when a step asks you to, or press Leave to play freely.';
      }
      if (usePlayground.getState().scrubMs !== null) return 'This step waits for you now: drag History back to its end first.';
      if (!learnerActionMatches(expected, action, liveCluster()?.sim.leader() ?? null)) return `This step waits for you to ${describeLearnerAction(expected)}.`;
      return expected; // as the plan did it: the same action, so the same trace
    },
    after() {
      const active = get().active;
      if (active?.phase === 'waiting') void finish();
    },
  });

  const solved = (violation: Violation) => {
    const active = get().active;
    if (!active) return;
    update({ phase: 'solved', solvedBy: violation });
    usePlayground.getState().setPaused(true);
    const progress = recordDone(get().progress, active.file.lesson.id);
    saveProgress(progress);
    set({ progress });
  };

  // A step that plays ends when the clock has stopped on its end and the events have caught up with it.
  usePlayground.subscribe((state) => {
    const active = get().active;
    if (!active) return;
    if (state.status === 'running' && launched !== null && liveCluster() !== launched && active.phase !== 'starting') {
      get().leave(); // Reset, Import or a shared link started another run
      return;
    }
    if (active.phase === 'challenge') {
      const goal = active.file.lesson.challenge?.goal ?? [];
      const broken = state.view?.violations.find((v) => goal.includes(v.invariant));
      if (broken) solved(broken);
      return;
    }
    if (active.phase !== 'playing' || !state.paused || state.scrubMs !== null) return;
    const end = active.plan.steps[active.step]!.endMs;
    if ((liveCluster()?.nowMs ?? 0) >= end && state.clockMs >= end) void finish();
  });

  return {
    active: null,
    progress: loadProgress(),

    async open(id, step = 0, speed) {
      const file = SHIPPED_LESSONS.lessons.find((lesson) => lesson.lesson.id === id);
      if (!file) {
        usePlayground.getState().notify(`There is no lesson "${id}": choose one from Lessons.`);
        return;
      }
      await get().openFile(file, step, speed);
    },

    async openFile(file, step = 0, speed) {
      const plan = planLesson(file);
      if (plan.problems.length > 0) {
        const problem = plan.problems[0]!;
        usePlayground.getState().notify(`The lesson "${file.lesson.title}" does not hold at step ${problem.step + 1}: ${problem.message}.`);
        return;
      }
      const last = file.lesson.steps.length - 1;
      usePlayground.getState().setSpeed(speed ?? file.lesson.speed ?? DEFAULT_SPEED);
      await goTo(file, plan, Math.max(0, Math.min(last, step)));
    },

    async next() {
      const active = get().active;
      if (!active || active.step >= active.file.lesson.steps.length - 1) return;
      const end = active.plan.steps[active.step]!.endMs;
      const current = liveCluster();
      // Straight on when the run stands where this step ended; else replay to the next step's start.
      if (active.phase === 'ended' && current === launched && current?.nowMs === end && usePlayground.getState().scrubMs === null) {
        set({ active: { ...active, step: active.step + 1, phase: 'starting', chosen: null, outcome: null, mismatch: null, solvedBy: null } });
        writeLocation(active.file.lesson.id, active.step + 1);
        begin();
      } else {
        await goTo(active.file, active.plan, active.step + 1);
      }
    },

    async back() {
      const active = get().active;
      if (active) await goTo(active.file, active.plan, Math.max(0, active.step - 1));
    },

    async restart() {
      const active = get().active;
      if (active) await goTo(active.file, active.plan, 0);
    },

    choose(choice) {
      const active = get().active;
      if (!active || active.phase !== 'choosing') return;
      const step = stepOf(active);
      if (!('ask' in step) || choice < 0 || choice >= step.choices.length) return;
      update({ chosen: choice });
      if (learnerAction(step)) update({ phase: 'waiting' });
      else play();
    },

    startChallenge() {
      const active = get().active;
      if (!active?.file.lesson.challenge || active.phase !== 'ended' || active.step !== active.file.lesson.steps.length - 1) return;
      update({ phase: 'challenge' });
      usePlayground.setState({ stopAtMs: null });
    },

    leave() {
      openings++;
      launched = null;
      set({ active: null });
      usePlayground.setState({ stopAtMs: null });
      writeLocation(null, 0);
    },
  };
});

/** Keeps `?lesson=ID&step=N` in the address bar, so that a reload or a shared link opens the same step. */
function writeLocation(id: string | null, step: number): void {
  if (typeof history === 'undefined') return;
  const url = new URL(location.href);
  if (id === null) {
    url.searchParams.delete('lesson');
    url.searchParams.delete('step');
  } else {
    url.searchParams.set('lesson', id);
    url.searchParams.set('step', String(step + 1));
    url.hash = '';
  }
  history.replaceState(null, '', url);
}

/** What the lesson's current step points at (SPEC §8 `show`), or null outside a lesson. */
export function useLessonShow(): LessonShow | null {
  return useLesson((s) => (s.active ? (stepOf(s.active).show ?? null) : null));
}

/** Whether the step points at this panel. */
export function usePointedPanel(panel: LessonPanel): boolean {
  return useLesson((s) => s.active !== null && stepOf(s.active).show?.panel === panel);
}
