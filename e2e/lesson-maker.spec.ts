// A teacher makes a lesson in the page (SPEC §8): plays a run, cuts it into steps with words, a claim and a
// question, exports the file, and `raft-playground lesson --check` accepts it; Try it plays it at once.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from './fixtures.ts';
import { leaderId } from './helpers.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'raft-playground.mjs');

test('a lesson made in the page exports as a file that lesson --check accepts, and plays in the player', async ({ page }) => {
  await page.goto('/?seed=42&nodes=5&paused=1&speed=1');
  await expect(page.getByTestId('node-5')).toBeVisible();
  await page.locator('details.lesson-maker summary').click();
  await page.getByRole('button', { name: '+1 s', exact: true }).click();
  await expect(page.getByTestId('clock')).toHaveAttribute('data-ms', '1000');
  const leader = await leaderId(page);
  await page.getByLabel('Step words').fill('A leader is elected: a majority voted for it.');
  await page.getByLabel('Claim who leads here').check();
  await page.getByRole('button', { name: 'Cut a step here' }).click();
  await expect(page.getByRole('list', { name: 'Steps cut so far' })).toContainText(`(claims S${leader} leads)`);

  await page.getByRole('combobox', { name: 'Node', exact: true }).selectOption(String(leader));
  await page.getByRole('button', { name: 'Crash', exact: true }).click();
  await page.getByRole('button', { name: '+1 s', exact: true }).click();
  await page.getByLabel('Step words').fill('The others elect a new leader: four of five are still a majority (§5.2).');
  await page.getByLabel('Ask “Who leads?” here').check();
  await page.getByRole('button', { name: 'Cut a step here' }).click();
  await page.getByLabel('Lesson id').fill('teacher-demo');
  await page.getByLabel('Lesson title').fill('A leader, then another');

  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export lesson' }).click();
  const file = join(mkdtempSync(join(tmpdir(), 'raft-made-')), 'teacher-demo.json');
  await (await download).saveAs(file);
  const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'lesson', '--check', file]);
  expect(stdout).toContain(`${file}: teacher-demo holds: 2 steps`);

  await page.getByRole('button', { name: 'Try it' }).click();
  const panel = page.getByTestId('lesson');
  await expect(panel).toContainText('A leader, then another');
  await expect(panel).toHaveAttribute('data-phase', 'ended', { timeout: 30_000 });
  await expect(page.getByTestId('lesson-verdict')).toHaveAttribute('data-holds', 'true');
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await expect(panel).toHaveAttribute('data-phase', 'choosing');
});
