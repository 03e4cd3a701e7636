// Lessons (SPEC §8): the lesson block reads with errors that name the path, claims are judged as written,
// the headless plan ends each step where the page will pause, and every shipped lesson is a real lesson.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createScenarioSimulation } from '../sim/run-scenario.ts';
import { formatScenario, parseScenario, parseScenarioText } from '../sim/scenario.ts';
import type { TraceEvent } from '../sim/trace.ts';
import { judge, matchesEvent, type ClusterFacts, type NodeFacts } from './claims.ts';
import { lessonFromDraft } from './lesson-draft.ts';
import { learnerActionMatches, planLesson, scenarioAtStep, type LessonScenario } from './lesson-plan.ts';
import { SHIPPED_LESSONS } from './shipped.ts';

const election = parseScenarioText(readFileSync(join(import.meta.dirname, '..', '..', 'lessons', '02-election.json'), 'utf8')) as LessonScenario;

/** The election lesson with its lesson block replaced. */
function withLesson(lesson: unknown): unknown {
  return { version: 1, seed: 42, nodes: 3, actions: [], runUntilMs: 5000, lesson };
}

const BASE = { id: 'demo', title: 'Demo', paper: '§5.2', order: 1 };

describe('the lesson block', () => {
  it('reads back what formatScenario writes', () => {
    const text = formatScenario(election);
    expect(parseScenarioText(text)).toEqual(election);
    expect(text).toContain('    "steps": [\n      { "say": ');
  });

  it.each([
    [{ ...BASE, steps: [{ say: 'a', ask: 'b' }] }, 'lesson.steps[0]: expected either "say" or "ask", got both'],
    [{ ...BASE, steps: [{ ask: 'Who?', choices: [{ text: 'S1', check: { leader: 1 } }, { text: 'S2', check: { leader: 2 } }] }] }, 'lesson.steps[0].why: expected a non-empty string'],
    [{ ...BASE, steps: [{ say: 'a', why: 'because' }] }, 'lesson.steps[0].why: expected only with "ask", got it with "say"'],
    [{ ...BASE, steps: [{ say: 'a', until: { atMs: 5, event: 'leader' } }] }, 'lesson.steps[0].until: expected one of "atMs", "event" or "user", got atMs and event'],
    [{ ...BASE, steps: [{ say: 'a', until: { event: 'role', colour: 'red' } }] }, 'lesson.steps[0].until.colour: unknown field (expected one of event, node, reason, term, to)'],
    [{ ...BASE, steps: [{ say: 'a', until: { event: 'role', to: 'king' } }] }, 'lesson.steps[0].until.to: expected one of follower, precandidate, candidate, leader, got "king"'],
    [{ ...BASE, steps: [{ say: 'a', check: { nodes: { '4': { role: 'leader' } } } }] }, 'lesson.steps[0].check.nodes.4: expected a node id 1..3 or "leader" as the key, got "4"'],
    [{ ...BASE, steps: [{ say: 'a', check: { nodes: { '1': { term: { atLeast: 3, atMost: 2 } } } } }] }, 'lesson.steps[0].check.nodes.1.term: expected atLeast <= atMost'],
    [{ ...BASE, steps: [{ say: 'a', check: {} }] }, 'lesson.steps[0].check: expected at least one of leader, nodes, keys, queues, violation, history, got {}'],
    [{ ...BASE, steps: [{ say: 'a', until: { user: { atMs: 5, do: 'crash', node: 1 } } }] }, 'lesson.steps[0].until.user.atMs: unknown field'],
    [{ ...BASE, steps: [{ say: 'a', until: { user: { do: 'crash', node: 7 } } }] }, 'lesson.steps[0].until.user.node: expected 1..3 or "leader", got 7'],
    [{ ...BASE, id: 'Demo' }, 'lesson.id: expected lower-case letters'],
    [{ ...BASE, steps: [{ say: 'a', check: { history: 'fine' } }] }, 'lesson.steps[0].check.history: expected one of linearizable, not-linearizable, got "fine"'],
  ])('refuses a malformed block, naming the path: %#', (lesson, message) => {
    expect(() => parseScenario(withLesson({ steps: [{ say: 'a' }], ...(lesson as object) }))).toThrow(message);
  });

  it('lets a server the learner adds be named from the step that adds it', () => {
    const lesson = { ...BASE, steps: [{ say: 'Add one.', until: { user: { do: 'add-node' } }, check: { nodes: { '4': { status: 'up' } } } }, { say: 'Crash it.', until: { user: { do: 'crash', node: 4 } } }] };
    expect(() => parseScenario(withLesson(lesson))).not.toThrow();
    expect(() => parseScenario(withLesson({ ...lesson, steps: [{ say: 'Too soon.', check: { nodes: { '4': { status: 'up' } } } }, ...lesson.steps] }))).toThrow('lesson.steps[0].check.nodes.4');
  });
});

function facts(nodes: Record<number, Partial<NodeFacts>>, more: Partial<ClusterFacts> = {}): ClusterFacts {
  return {
    leader: null,
    node: (id) => (nodes[id] ? { status: 'up', role: 'follower', term: 1, commitIndex: 0, lastIndex: 0, voters: [1, 2, 3], ...nodes[id] } : null),
    value: () => null,
    tasks: () => 0,
    violations: [],
    history: () => 'linearizable',
    ...more,
  };
}

describe('claims', () => {
  it('hold when every part holds, and say each part that does not', () => {
    const state = facts({ 1: { role: 'leader', term: 3, commitIndex: 4 }, 2: { status: 'down', role: null, commitIndex: null } }, { leader: 1, value: (node, key) => (node === 1 && key === 'x' ? '1' : null) });
    expect(judge({ leader: 1, nodes: { leader: { term: { atLeast: 2 } }, '2': { status: 'down' } }, keys: [{ node: 1, key: 'x', value: '1' }], violation: null }, state)).toEqual({ holds: true, failures: [] });
    expect(judge({ leader: 2, nodes: { '1': { commitIndex: { atMost: 3 }, voters: [1, 2] }, '2': { commitIndex: 0 } }, keys: [{ node: 1, key: 'y', value: '2' }], violation: 'ElectionSafety' }, state).failures).toEqual([
      'the leader is S1, not S2',
      "S1's commitIndex is 4, not at most 3",
      "S1's voters are S1, S2, S3, not S1, S2",
      "S2's commitIndex is unknown (it is down), not 0",
      '"y" on S1 is absent, not "2"',
      'the checker did not report ElectionSafety',
    ]);
    expect(judge({ nodes: { leader: { role: 'leader' } } }, facts({ 1: {} })).failures).toEqual(['there is no leader to make a claim about']);
    expect(judge({ history: 'linearizable' }, facts({}, { history: () => 'not-linearizable' })).failures).toEqual(["the clients' history is not linearizable, where the step says linearizable"]);
  });

  it('match a trace event by type and fields: leader, a role by its new role, numbers by range', () => {
    const role = (roleName: string, term: number): TraceEvent => ({ t: 5, node: 3, type: 'role', role: roleName, term, reason: 'won-election' }) as TraceEvent;
    expect(matchesEvent({ event: 'leader' }, role('leader', 2))).toBe(true);
    expect(matchesEvent({ event: 'leader' }, role('candidate', 2))).toBe(false);
    expect(matchesEvent({ event: 'role', node: 3, to: 'candidate' }, role('candidate', 2))).toBe(true);
    expect(matchesEvent({ event: 'role', node: 2, to: 'candidate' }, role('candidate', 2))).toBe(false);
    expect(matchesEvent({ event: 'leader', term: { atLeast: 3 } }, role('leader', 2))).toBe(false);
    expect(matchesEvent({ event: 'commit', index: { atLeast: 3 } }, { t: 1, node: 1, type: 'commit', index: 4, term: 1 })).toBe(true);
  });

  it("match the learner's action to the step's: the leader by id, groups in any order, requests to the leader", () => {
    expect(learnerActionMatches({ do: 'crash', node: 'leader' }, { do: 'crash', node: 3 }, 3)).toBe(true);
    expect(learnerActionMatches({ do: 'crash', node: 'leader' }, { do: 'crash', node: 2 }, 3)).toBe(false);
    expect(learnerActionMatches({ do: 'partition', groups: [[3], [1, 2, 4, 5]] }, { do: 'partition', groups: [[5, 4, 2, 1], [3]] }, 3)).toBe(true);
    expect(learnerActionMatches({ do: 'put', key: 'x', value: '1' }, { do: 'put', key: 'x', value: '1', node: 'leader' }, 3)).toBe(true);
    expect(learnerActionMatches({ do: 'put', key: 'x', value: '1' }, { do: 'put', key: 'x', value: '1', node: 2 }, 3)).toBe(false);
    expect(learnerActionMatches({ do: 'put', key: 'x', value: '1' }, { do: 'put', key: 'x', value: '2' }, 3)).toBe(false);
    expect(learnerActionMatches({ do: 'crash', node: 1 }, { do: 'restart', node: 1 }, 3)).toBe(false);
  });
});

describe('the plan', () => {
  const plan = planLesson(election);

  it('ends each step where the page pauses: at its event’s millisecond, or one after the step for the learner', () => {
    expect(plan.problems).toEqual([]);
    expect(plan.steps.map((step) => [step.startMs, step.endMs])).toEqual([
      [0, 0],
      [0, 223],
      [223, 248],
      [248, 1000],
      [1000, 1001],
      [1001, plan.steps[5]!.endMs],
    ]);
    expect(plan.steps[4]!.action).toEqual({ do: 'crash', node: 'leader', atMs: 1001 });
    expect(plan.steps[2]!.answer).toBe(0);
  });

  it('replays a step’s start from the file’s actions and the learner’s: the same trace as the plan', () => {
    for (const index of [2, 5]) {
      const atStep = scenarioAtStep(election, plan, index);
      const sim = createScenarioSimulation(atStep);
      sim.runUntil(plan.steps[index]!.startMs);
      expect(sim.trace.traceHash()).toBe(plan.steps[index - 1]!.traceHash);
    }
  });

  it('stops at a step whose event never comes, naming it', () => {
    const never = { ...election, lesson: { ...election.lesson, steps: [{ say: 'Wait.', until: { event: 'snapshot' as const } }] } };
    expect(planLesson(never).problems).toEqual([{ step: 0, message: 'no snapshot event happened by runUntilMs (8000 ms)' }]);
  });
});

describe('the shipped lessons', () => {
  it('are at least 14 lessons, in order, each with several steps, a question and something for the learner to do', () => {
    expect(SHIPPED_LESSONS.problems).toEqual([]);
    const { lessons } = SHIPPED_LESSONS;
    expect(new Set(lessons.map((l) => l.lesson.id)).size).toBe(lessons.length);
    expect(lessons.map((l) => l.lesson.order)).toEqual([...lessons.map((l) => l.lesson.order)].sort((a, b) => a - b));
    expect(lessons.filter((l) => !l.lesson.challenge).length).toBeGreaterThanOrEqual(14);
    for (const { lesson } of lessons) {
      if (lesson.challenge) continue;
      expect(lesson.steps.length, lesson.id).toBeGreaterThanOrEqual(4);
      expect(lesson.steps.some((step) => 'ask' in step), lesson.id).toBe(true);
      expect(lesson.steps.some((step) => step.until !== undefined && 'user' in step.until), lesson.id).toBe(true);
    }
  });
});

describe('the shipped challenges', () => {
  const challenges = SHIPPED_LESSONS.lessons.filter((l) => l.lesson.challenge);

  it('are at least three, one per teaching switch, each solved by its solution', () => {
    expect(challenges.length).toBeGreaterThanOrEqual(3);
    const switches = new Set(challenges.flatMap((c) => Object.entries(c.config).filter(([key, on]) => key.startsWith('unsafe') && on === true).map(([key]) => key)));
    expect([...switches].sort()).toEqual(['unsafeCommitPreviousTerms', 'unsafeForgetVoteOnRestart', 'unsafeSkipVoteRestriction']);
    for (const file of challenges) {
      const plan = planLesson(file);
      expect(plan.problems, file.lesson.id).toEqual([]);
      expect(file.lesson.challenge!.goal).toContain(plan.challenge!.invariant);
    }
  });

  it('are not solved by doing nothing: the checker stays quiet without the solution', () => {
    for (const file of challenges) {
      const idle = { ...file, lesson: { ...file.lesson, challenge: { ...file.lesson.challenge!, solution: [{ waitMs: 3000 }] } } };
      expect(planLesson(idle).problems.map((p) => p.message).join(), file.lesson.id).toContain('its solution does not make the checker report');
    }
  });
});

describe('a lesson made from a run (the page’s Make a lesson)', () => {
  const run = { ...election, lesson: undefined, actions: [{ atMs: 600, do: 'crash' as const, node: 3 }], runUntilMs: 1500 };
  delete (run as { lesson?: unknown }).lesson;

  it('plays to each cut, claims and asks what the run shows, and reads back as a lesson file', () => {
    const file = lessonFromDraft(run, { id: 'made', title: 'Made', paper: '§5.2', speed: 2 }, [
      { atMs: 500, words: 'S3 leads.', claimLeader: 3 },
      { atMs: 1500, words: 'Another server leads now.', askWhoLeads: true },
    ]);
    expect(file.lesson.speed).toBe(1);
    expect(file.actions).toEqual([{ atMs: 600, do: 'crash', node: 3 }]);
    expect(parseScenarioText(formatScenario(file))).toEqual(file);
    const plan = planLesson(file);
    expect(plan.problems).toEqual([]);
    const step = file.lesson.steps[1]!;
    expect('ask' in step && step.choices.map((c) => c.text)).toEqual(['S1', 'S2', 'S3', 'S4', 'S5', 'Nobody']);
  });

  it('refuses a claim the run does not bear out, naming the step', () => {
    expect(() => lessonFromDraft(run, { id: 'made', title: 'Made', paper: '§5.2' }, [{ atMs: 500, words: 'S1 leads.', claimLeader: 1 }])).toThrow(
      'step 1: its check does not hold: the leader is S3, not S1',
    );
    expect(() => lessonFromDraft(run, { id: 'made', title: 'Made', paper: '§5.2' }, [])).toThrow('cut at least one step');
  });
});
