// Every shipped lesson, played through the page as a learner would (SPEC §8): each prediction chosen with the
// choice buttons, each learner action done with the page's own controls, and every step ending where the
// headless plan ends it, with the same answer and the same trace hash (else the page says so and this fails).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { planLesson, type LessonScenario } from '../src/lessons/lesson-plan.ts';
import { learnerAction } from '../src/sim/lesson-format.ts';
import { parseScenarioText, type ActionBody } from '../src/sim/scenario.ts';
import { expect, test } from './fixtures.ts';
import { chooseNode } from './helpers.ts';

const LESSONS_DIR = join(import.meta.dirname, '..', 'lessons');
const lessons = readdirSync(LESSONS_DIR)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => parseScenarioText(readFileSync(join(LESSONS_DIR, name), 'utf8')) as LessonScenario);

/** The node whose id `ref` names, "leader" being the up leader of the highest term on the ring. */
async function nodeId(page: Page, ref: number | 'leader'): Promise<number> {
  if (ref !== 'leader') return ref;
  let best = { id: 0, term: -1 };
  for (const handle of await page.locator('[data-testid^="node-"][data-role="leader"][data-status="up"]').all()) {
    const term = Number(await handle.getAttribute('data-term'));
    if (term > best.term) best = { id: Number((await handle.getAttribute('data-testid'))!.replace('node-', '')), term };
  }
  return best.id;
}

/** Do the action with the controls a learner uses. */
async function doWithControls(page: Page, action: ActionBody): Promise<void> {
  const choose = async (ref: number | 'leader') => chooseNode(page, await nodeId(page, ref));
  const press = (name: string) => page.getByRole('button', { name, exact: true }).click();
  switch (action.do) {
    case 'crash':
    case 'restart':
    case 'snapshot':
      await choose(action.node);
      return press(action.do[0]!.toUpperCase() + action.do.slice(1));
    case 'timeout':
      await choose(action.node);
      return press('Time out');
    case 'transfer':
      await choose(action.to);
      return page.getByRole('button', { name: 'Transfer leadership' }).click();
    case 'partition': {
      const alone = action.groups.find((group) => group.length === 1);
      if (action.groups.length !== 2 || !alone) throw new Error(`the Partition button isolates one node; this lesson asks for ${JSON.stringify(action.groups)}`);
      await choose(alone[0]!);
      return press('Partition');
    }
    case 'heal':
      return press('Heal');
    case 'put':
    case 'get':
      await page.getByRole('textbox', { name: 'Key' }).fill(action.key);
      if (action.do === 'put') await page.getByRole('textbox', { name: 'Value' }).fill(action.value);
      return press(action.do === 'put' ? 'Put' : 'Get');
    case 'add-node':
    case 'remove-node': {
      const settings = page.locator('details.cluster-settings');
      if (!(await settings.evaluate((details: HTMLDetailsElement) => details.open))) await settings.locator('summary').click();
      if (action.do === 'remove-node') await choose(action.node);
      return press(action.do === 'add-node' ? 'Add node' : 'Remove node');
    }
    default:
      throw new Error(`no control for ${action.do} in this test`);
  }
}

for (const [n, file] of lessons.entries()) {
  const { lesson } = file;
  test(`lesson ${lesson.order}, ${lesson.title}: played through the page, every step ends as the headless plan does`, async ({ page }) => {
    const plan = planLesson(file);
    expect(plan.problems).toEqual([]);
    await page.goto(`/?lesson=${lesson.id}&speed=2`);
    const panel = page.getByTestId('lesson');
    for (const [index, step] of lesson.steps.entries()) {
      const planned = plan.steps[index]!;
      await expect(panel).toHaveAttribute('data-step', String(index + 1));
      await expect(panel).toHaveAttribute('data-phase', /choosing|waiting|ended/, { timeout: 30_000 });
      let chosen: number | null = null;
      if ('ask' in step) {
        await expect(panel).toHaveAttribute('data-phase', 'choosing');
        // Right on some lessons and steps, wrong on others: both reveals are exercised.
        chosen = (n + index) % 2 === 0 ? planned.answer! : (planned.answer! + 1) % step.choices.length;
        await page.getByTestId(`lesson-choice-${chosen}`).click();
      }
      const action = learnerAction(step);
      if (action) {
        await expect(panel).toHaveAttribute('data-phase', 'waiting', { timeout: 30_000 });
        await doWithControls(page, action);
      }
      await expect(panel).toHaveAttribute('data-phase', 'ended', { timeout: 30_000 });
      await expect(page.getByTestId('clock')).toHaveAttribute('data-ms', String(planned.endMs));
      if (chosen !== null) {
        const reveal = page.getByTestId('lesson-reveal');
        await expect(reveal).toHaveAttribute('data-answer', String(planned.answer));
        await expect(reveal).toHaveAttribute('data-right', chosen === planned.answer ? 'true' : 'false');
      } else {
        await expect(page.getByTestId('lesson-verdict')).toHaveAttribute('data-holds', 'true');
      }
      await expect(page.locator('.lesson-mismatch')).toHaveCount(0);
      if (index < lesson.steps.length - 1) await page.getByRole('button', { name: 'Next', exact: true }).click();
    }
    await expect(page.getByTestId('lesson-done')).toBeVisible();
    if (lesson.challenge) {
      // The solver: the file's solution, done with the page's controls, the clock paused between moves.
      await page.getByRole('button', { name: 'Start the challenge', exact: true }).click();
      await expect(page.getByTestId('lesson-challenge')).toBeVisible();
      for (const move of lesson.challenge.solution) {
        if ('waitMs' in move) {
          for (let left = move.waitMs; left > 0; left -= 1000) {
            if (left >= 1000) await page.getByRole('button', { name: '+1 s', exact: true }).click();
            else await page.evaluate((ms) => window.raftPlayground.advance(ms), left);
          }
        } else {
          await doWithControls(page, move);
        }
      }
      const solved = page.getByTestId('lesson-solved');
      await expect(solved).toHaveAttribute('data-invariant', plan.challenge!.invariant);
      // The failing run as a link: it replays to the same alarm.
      await page.getByTestId('challenge-replay').click();
      await expect(page.getByTestId('lesson')).toHaveCount(0);
      await expect(page.getByTestId('safety-alarm')).toContainText(plan.challenge!.invariant, { timeout: 30_000 });
    }
    // The lesson list remembers it (localStorage).
    await page.getByRole('button', { name: 'Lessons', exact: true }).click();
    await expect(page.getByTestId(`lesson-open-${lesson.id}`)).toContainText('✓ done');
  });
}

test('a lesson opens at a step from the link, and Back replays the step before it', async ({ page }) => {
  const file = lessons.find((l) => l.lesson.id === 'election')!;
  const plan = planLesson(file);
  await page.goto('/?lesson=election&step=5&speed=2');
  const panel = page.getByTestId('lesson');
  await expect(panel).toHaveAttribute('data-step', '5');
  await expect(panel).toHaveAttribute('data-phase', 'waiting');
  await expect(page.getByTestId('clock')).toHaveAttribute('data-ms', String(plan.steps[4]!.startMs));
  // While it waits for the leader's crash, anything else is refused, saying what the step waits for.
  await page.getByRole('button', { name: 'Put', exact: true }).click();
  await expect(page.locator('.notice')).toContainText('This step waits for you to crash the leader.');
  await expect(panel).toHaveAttribute('data-phase', 'waiting');
  await page.getByRole('button', { name: 'Back', exact: true }).click();
  await expect(panel).toHaveAttribute('data-step', '4');
  expect(new URL(page.url()).searchParams.get('step')).toBe('4');
  // Replayed to its start, then played to its end, where the plan ends it.
  await expect(panel).toHaveAttribute('data-phase', 'ended', { timeout: 30_000 });
  await expect(page.getByTestId('clock')).toHaveAttribute('data-ms', String(plan.steps[3]!.endMs));
  await expect(page.locator('.lesson-mismatch')).toHaveCount(0);
});

test('a lesson works by keyboard: a choice with Enter, then Next has the focus and Enter goes on', async ({ page }) => {
  await page.goto('/?lesson=election&step=3&speed=2');
  const panel = page.getByTestId('lesson');
  await expect(panel).toHaveAttribute('data-phase', 'choosing');
  await page.getByTestId('lesson-choice-0').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('lesson-reveal')).toHaveAttribute('data-right', 'true', { timeout: 30_000 });
  await expect(page.getByRole('button', { name: 'Next', exact: true })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(panel).toHaveAttribute('data-step', '4');
});
