// The lessons shipped in lessons/*.json, read and put in curriculum order: bundled into the page by Vite, and
// read the same way by the tests. A file that does not read is a problem to report, not a page that fails.
import { parseScenarioText, ScenarioError } from '../sim/scenario.ts';
import type { LessonScenario } from './lesson-plan.ts';

const FILES = import.meta.glob('../../lessons/*.json', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

export interface ShippedLessons {
  readonly lessons: readonly LessonScenario[];
  /** One sentence per file that could not be read. */
  readonly problems: readonly string[];
}

export function readShippedLessons(files: Readonly<Record<string, string>> = FILES): ShippedLessons {
  const lessons: LessonScenario[] = [];
  const problems: string[] = [];
  for (const [path, text] of Object.entries(files)) {
    const name = path.split('/').pop()!;
    try {
      const scenario = parseScenarioText(text);
      if (scenario.lesson) lessons.push(scenario as LessonScenario);
      else problems.push(`${name}: lesson: expected a lesson block, got nothing`);
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      problems.push(`${name}: ${error.message}`);
    }
  }
  lessons.sort((a, b) => a.lesson.order - b.lesson.order);
  return { lessons, problems };
}

export const SHIPPED_LESSONS = readShippedLessons();
