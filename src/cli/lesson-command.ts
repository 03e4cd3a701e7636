// `raft-playground lesson --check FILE…` (SPEC §8): plays each lesson headless, doing the learner's actions,
// and fails, naming the file and the step, when a claim does not hold or a question has not exactly one answer.
import { readFileSync } from 'node:fs';
import { planLesson, type LessonScenario } from '../lessons/lesson-plan.ts';
import { parseScenarioText, ScenarioError } from '../sim/scenario.ts';
import { UsageError } from './args.ts';
import type { Command } from './main.ts';

export const lessonCommand: Command = {
  summary: 'Check lesson files: play each headless and prove every claim and answer (--check FILE…).',
  async run(argv) {
    const [flag, ...files] = argv;
    if (flag !== '--check') throw new UsageError(flag === undefined ? 'Expected --check and one or more lesson files.' : `Expected --check first, got '${flag}'.`);
    if (files.length === 0) throw new UsageError('--check needs one or more lesson files.');
    const flagged = files.find((file) => file.startsWith('--'));
    if (flagged) throw new UsageError(`Unknown flag ${flagged}; lesson takes --check and files.`);
    let failed = 0;
    for (const file of files) {
      const report = checkLessonFile(file);
      process[report.ok ? 'stdout' : 'stderr'].write(`${report.lines.join('\n')}\n`);
      if (!report.ok) failed++;
    }
    if (files.length > 1) process.stdout.write(`${files.length - failed} of ${files.length} lessons hold.\n`);
    return failed === 0 ? 0 : 1;
  },
};

/** One file's verdict, in lines: the first names the file. */
export function checkLessonFile(file: string): { ok: boolean; lines: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return { ok: false, lines: [`${file}: cannot read it: ${(error as Error).message}`] };
  }
  let scenario;
  try {
    scenario = parseScenarioText(text);
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    return { ok: false, lines: [`${file}: ${error.message}`] };
  }
  if (!scenario.lesson) return { ok: false, lines: [`${file}: lesson: expected a lesson block (SPEC §8), got nothing`] };
  const lesson = scenario.lesson;
  const plan = planLesson(scenario as LessonScenario);
  if (plan.problems.length > 0) {
    return {
      ok: false,
      lines: plan.problems.map((problem) => {
        const step = lesson.steps[problem.step];
        if (!step) return `${file}: the challenge: ${problem.message}`;
        const words = 'say' in step ? step.say : step.ask;
        return `${file}: step ${problem.step + 1} ("${words.length > 60 ? `${words.slice(0, 57)}...` : words}"): ${problem.message}`;
      }),
    };
  }
  const answers = plan.steps.flatMap((outcome, i) => {
    const step = lesson.steps[i]!;
    return 'ask' in step && outcome.answer !== undefined ? [`step ${i + 1}: "${step.choices[outcome.answer]!.text}"`] : [];
  });
  const end = plan.steps.at(-1)?.endMs ?? 0;
  return {
    ok: true,
    lines: [
      `${file}: ${lesson.id} holds: ${lesson.steps.length} steps to ${end} ms; answers ${answers.length > 0 ? answers.join(', ') : 'none'}` +
        (plan.challenge ? `; its challenge's solution breaks ${plan.challenge.invariant} at ${plan.challenge.atMs} ms` : ''),
    ],
  };
}
