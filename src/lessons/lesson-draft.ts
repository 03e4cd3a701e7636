// A lesson made in the page (SPEC §8): a teacher plays a run, pauses where a step should end and writes its
// words; each cut becomes a step that plays to that moment, with the claims the teacher ticks (who leads) or a
// question (who leads now?) whose answer the run decides. The file it gives is a lesson `lesson --check`
// accepts: it is checked here the same way before it is offered.
import type { NodeId } from '../core/types.ts';
import type { LessonStep } from '../sim/lesson-format.ts';
import { parseScenario, type Scenario } from '../sim/scenario.ts';
import { planLesson, type LessonScenario } from './lesson-plan.ts';

export interface DraftStep {
  /** The virtual ms the step ends at. */
  readonly atMs: number;
  readonly words: string;
  /** Claim that this node leads there (null: that nobody does); undefined: no claim. */
  readonly claimLeader?: NodeId | null;
  /** Make the step a question, "Who leads now?", the words becoming its reason. */
  readonly askWhoLeads?: boolean;
}

export interface DraftMeta {
  readonly id: string;
  readonly title: string;
  readonly paper: string;
  /** The pace it was made at, which it plays at (at most 1). */
  readonly speed?: number;
}

/** Where a teacher's lessons go in the list: after the shipped ones. */
const DRAFT_ORDER = 900;

/**
 * The lesson file for a run and its cuts: the run's seed, settings and actions (played as the file's own), a
 * step per cut. Throws a ScenarioError naming what is wrong, or an Error when a claim does not hold.
 */
export function lessonFromDraft(run: Scenario, meta: DraftMeta, cuts: readonly DraftStep[]): LessonScenario {
  if (cuts.length === 0) throw new Error('cut at least one step: pause where a step should end, write its words, press Cut a step here');
  const ids = Array.from({ length: run.nodes + run.actions.filter((a) => a.do === 'add-node').length }, (_, i) => i + 1);
  const steps: LessonStep[] = cuts.map((cut): LessonStep => {
    const until = { atMs: cut.atMs };
    if (cut.askWhoLeads) {
      return {
        ask: 'Who leads at this moment?',
        choices: [...ids.map((id) => ({ text: `S${id}`, check: { leader: id } })), { text: 'Nobody', check: { leader: null } }],
        why: cut.words.trim() === '' ? 'The run shows it.' : cut.words.trim(),
        until,
      };
    }
    return { say: cut.words.trim(), until, ...(cut.claimLeader !== undefined ? { check: { leader: cut.claimLeader } } : {}) };
  });
  const last = cuts[cuts.length - 1]!.atMs;
  const file = parseScenario({
    ...run,
    actions: run.actions.filter((action) => action.atMs <= last),
    runUntilMs: Math.max(1, last),
    lesson: { id: meta.id, title: meta.title, paper: meta.paper, order: DRAFT_ORDER, ...(meta.speed !== undefined ? { speed: Math.min(1, meta.speed) } : {}), steps },
  }) as LessonScenario;
  const plan = planLesson(file);
  if (plan.problems.length > 0) {
    const problem = plan.problems[0]!;
    throw new Error(`step ${problem.step + 1}: ${problem.message}`);
  }
  return file;
}
