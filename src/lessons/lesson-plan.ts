// Plays a lesson headless (SPEC §8): each step runs until its `until`, the learner's actions are done for them,
// and every claim is judged where its step ends. The result is the lesson's plan: where each step starts and
// ends, what each question's answer turned out to be, and any claim that did not hold. The page plays the same
// steps on its live cluster and stops where the plan says, so that what it reveals is what the plan found.
import type { EventMatch, Lesson, LessonStep } from '../sim/lesson-format.ts';
import { createScenarioSimulation } from '../sim/run-scenario.ts';
import { Timeline } from '../sim/timeline.ts';
import type { NodeId } from '../core/types.ts';
import type { ActionBody, Scenario, ScenarioAction } from '../sim/scenario.ts';
import type { Simulation } from '../sim/simulation.ts';
import type { TraceEvent } from '../sim/trace.ts';
import { judge, matchesEvent, simulationFacts, type ClusterFacts, type Verdict } from './claims.ts';

export type LessonScenario = Scenario & { readonly lesson: Lesson };

export interface StepOutcome {
  /** The virtual ms the step starts and ends at: every event up to and including `endMs` has run by its end. */
  readonly startMs: number;
  readonly endMs: number;
  /** The run's trace hash where the step ends: the page's run must have the same. */
  readonly traceHash: string;
  /** For a step that waits for the learner: the action as done, one millisecond after the step starts. */
  readonly action?: ScenarioAction;
  readonly check?: Verdict;
  /** For an `ask`: each choice's verdict, and the one that held (when exactly one did). */
  readonly choices?: readonly Verdict[];
  readonly answer?: number;
}

export interface LessonProblem {
  /** 0-based. */
  readonly step: number;
  readonly message: string;
}

export interface LessonPlan {
  /** One per step reached: a step whose `until` never came ends the plan. */
  readonly steps: readonly StepOutcome[];
  /** For a challenge: what its solution broke, and when. */
  readonly challenge?: { readonly invariant: string; readonly atMs: number };
  /** A problem at step `steps.length` is the challenge's. */
  readonly problems: readonly LessonProblem[];
}

export function planLesson(scenario: LessonScenario): LessonPlan {
  let waiting: ((event: TraceEvent) => boolean) | null = null;
  let matched = false;
  const timeline = new Timeline(Array.from({ length: scenario.nodes }, (_, i) => i + 1));
  const sim = createScenarioSimulation(scenario, {
    checkSafety: true,
    onTrace: (event) => {
      timeline.record(event);
      if (waiting && !matched && waiting(event)) matched = true;
    },
  });
  const steps: StepOutcome[] = [];
  const problems: LessonProblem[] = [];
  for (const [index, step] of scenario.lesson.steps.entries()) {
    const startMs = sim.now;
    const problem = (message: string) => problems.push({ step: index, message });
    let action: ScenarioAction | undefined;
    const until = step.until;
    if (until && 'event' in until) {
      const match = until as EventMatch;
      waiting = (event) => matchesEvent(match, event);
      matched = false;
      sim.runUntil(scenario.runUntilMs, () => matched);
      waiting = null;
      if (!matched) {
        problem(`no ${describeMatch(match)} happened by runUntilMs (${scenario.runUntilMs} ms)`);
        break;
      }
      sim.runUntil(sim.now); // the rest of that millisecond, as the page pauses on whole milliseconds
    } else if (until && 'user' in until) {
      action = actNow(sim, until.user);
    } else if (until) {
      const { atMs } = until as { readonly atMs: number };
      if (atMs < startMs) {
        problem(`until.atMs ${atMs} is before the step starts (${startMs} ms)`);
        break;
      }
      sim.runUntil(atMs);
    }
    steps.push({ startMs, endMs: sim.now, traceHash: sim.trace.traceHash(), ...(action ? { action } : {}), ...judgeStep(step, simulationFacts(sim, timeline.calls), problem) });
  }
  const challenge = scenario.lesson.challenge;
  if (!challenge || problems.length > 0) return { steps, problems };
  const problem = (message: string) => problems.push({ step: scenario.lesson.steps.length, message });
  const early = sim.violations.find((v) => challenge.goal.includes(v.invariant));
  if (early) {
    problem(`the checker reports ${early.invariant} before the challenge starts, so there is nothing left to find`);
    return { steps, problems };
  }
  // As the page does them, paused: an action one millisecond on, a wait at once (+1 s).
  for (const move of challenge.solution) {
    if ('waitMs' in move) {
      sim.runUntil(sim.now + move.waitMs);
    } else {
      actNow(sim, move);
    }
  }
  const broken = sim.violations.find((v) => challenge.goal.includes(v.invariant));
  if (!broken) {
    problem(`its solution does not make the checker report ${challenge.goal.join(' or ')} (by ${sim.now} ms)`);
    return { steps, problems };
  }
  return { steps, problems, challenge: { invariant: broken.invariant, atMs: broken.t } };
}

/** The learner's action as the page does it, paused: one millisecond after the moment it stands on. */
function actNow(sim: Simulation, body: ActionBody): ScenarioAction {
  const action = { ...body, atMs: sim.now + 1 } as ScenarioAction;
  sim.schedule(action);
  sim.runUntil(action.atMs);
  return action;
}

/** The step's claims and, for a question, its choices, judged where it ends. */
export function judgeStep(step: LessonStep, facts: ClusterFacts, problem: (message: string) => void = () => undefined): Pick<StepOutcome, 'check' | 'choices' | 'answer'> {
  const outcome: { check?: Verdict; choices?: Verdict[]; answer?: number } = {};
  if (step.check) {
    outcome.check = judge(step.check, facts);
    if (!outcome.check.holds) problem(`its check does not hold: ${outcome.check.failures.join('; ')}`);
  }
  if ('ask' in step) {
    outcome.choices = step.choices.map((choice) => judge(choice.check, facts));
    const held = outcome.choices.flatMap((verdict, i) => (verdict.holds ? [i] : []));
    if (held.length === 1) outcome.answer = held[0]!;
    else {
      const which = held.length === 0 ? 'none of its choices holds' : `${held.length} of its choices hold (${held.map((i) => `"${step.choices[i]!.text}"`).join(', ')})`;
      problem(`exactly one choice must hold when it ends, but ${which}`);
    }
  }
  return outcome;
}

/** The lesson's run up to the start of step `index`: its file's actions, the learner's so far, paused there. */
export function scenarioAtStep(scenario: LessonScenario, plan: LessonPlan, index: number): LessonScenario {
  const reached = plan.steps[index];
  if (!reached) throw new Error(`step ${index + 1} is not in the plan (it has ${plan.steps.length})`);
  const learner = plan.steps.slice(0, index).flatMap((step) => (step.action ? [step.action] : []));
  const actions = [...scenario.actions, ...learner].sort((a, b) => a.atMs - b.atMs);
  return { ...scenario, actions, runUntilMs: Math.max(1, reached.startMs) };
}

function describeMatch(match: Record<string, unknown>): string {
  const fields = Object.entries(match)
    .filter(([key]) => key !== 'event')
    .map(([key, value]) => `${key} ${JSON.stringify(value)}`);
  return `${String(match['event'])} event${fields.length > 0 ? ` with ${fields.join(', ')}` : ''}`;
}

const CLIENT_ACTIONS: ReadonlySet<string> = new Set(['put', 'get', 'delete', 'cas', 'enqueue', 'claim', 'ack', 'nack']);

/**
 * Whether the learner's action is the one a step waits for: every field the step gives, alike. "leader" stands
 * for whichever node leads now; a partition's groups may come in any order; a client request the step sends to
 * the leader (no `node`) must go to the leader.
 */
export function learnerActionMatches(expected: ActionBody, actual: ActionBody, leader: NodeId | null): boolean {
  if (expected.do !== actual.do) return false;
  const given = actual as Record<string, unknown>;
  const sameNode = (want: unknown, got: unknown) => (want === 'leader' ? got === 'leader' || (leader !== null && got === leader) : got === want || (got === 'leader' && want === leader));
  for (const [key, want] of Object.entries(expected)) {
    if (key === 'do') continue;
    const got = given[key];
    if (key === 'groups') {
      if (!sameGroups(want as number[][], got)) return false;
    } else if (key === 'node' || key === 'to') {
      if (!sameNode(want, got)) return false;
    } else if (JSON.stringify(want) !== JSON.stringify(got)) {
      return false;
    }
  }
  if (CLIENT_ACTIONS.has(expected.do) && !('node' in expected) && given['node'] !== undefined && !sameNode('leader', given['node'])) return false;
  return true;
}

function sameGroups(want: readonly (readonly number[])[], got: unknown): boolean {
  if (!Array.isArray(got) || got.length !== want.length) return false;
  const key = (groups: readonly (readonly number[])[]) => groups.map((group) => [...group].sort((a, b) => a - b).join(',')).sort().join('|');
  return key(want) === key(got as number[][]);
}

/** The learner's action in words, for a step that waits for it. */
export function describeLearnerAction(action: ActionBody): string {
  const node = (ref: unknown) => (ref === 'leader' ? 'the leader' : `S${String(ref)}`);
  switch (action.do) {
    case 'crash':
      return `crash ${node(action.node)}`;
    case 'restart':
      return `restart ${node(action.node)}`;
    case 'timeout':
      return `make ${node(action.node)} time out`;
    case 'put':
      return `put ${action.key} = ${action.value}`;
    case 'get':
      return `get ${action.key}`;
    case 'snapshot':
      return `make ${node(action.node)} take a snapshot`;
    case 'transfer':
      return `transfer leadership to ${node(action.to)}`;
    case 'partition':
      return `partition the cluster into ${action.groups.map((group) => `{${group.map((id) => `S${id}`).join(' ')}}`).join(' and ')}`;
    case 'heal':
      return 'heal the network';
    case 'add-node':
      return 'add a server';
    case 'remove-node':
      return `remove ${node(action.node)}`;
    default:
      return action.do;
  }
}
