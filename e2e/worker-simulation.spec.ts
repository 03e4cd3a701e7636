// The simulator runs the same in a browser worker as in Node: same scenario, same trace fingerprint.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runScenario } from '../src/sim/run-scenario.ts';
import { parseScenarioText } from '../src/sim/scenario.ts';
import { encodeScenarioLink } from '../src/ui/scenario-link.ts';
import { expect, test } from './fixtures.ts';

const scenarioText = (name: string) => readFileSync(join(import.meta.dirname, '..', 'scenarios', name), 'utf8');

test('the default scenario runs in a Web Worker with the trace fingerprint Node computes', async ({ page, saveScreenshot }) => {
  const expected = runScenario(parseScenarioText(scenarioText('first-election.json')));
  await page.goto('/');
  await expect(page.getByTestId('trace-hash')).toHaveText(expected.traceHash);
  await expect(page.getByTestId(`node-${expected.leader}`)).toHaveAttribute('data-role', 'leader');
  await expect(page.getByText(`won votes from a majority and became leader of term`).first()).toBeVisible();
  await saveScreenshot('scenario-report');
});

test('a scenario shared as #scenario=<base64url> replays exactly', async ({ page }) => {
  const text = scenarioText('minority-leader.json');
  const expected = runScenario(parseScenarioText(text));
  await page.goto(`/#scenario=${encodeScenarioLink(text)}`);
  await expect(page.getByTestId('trace-hash')).toHaveText(expected.traceHash);
  await expect(page.getByTestId('clock')).toHaveAttribute('data-ms', String(expected.endMs));
  for (const node of expected.nodes) {
    await expect(page.getByTestId(`node-${node.id}`)).toHaveAttribute('data-term', String(node.term));
  }
});

test('a malformed shared scenario gets one clear sentence naming the field', async ({ page }) => {
  const broken = JSON.stringify({ version: 1, seed: 1, nodes: 5, actions: [{ atMs: 5, do: 'crash', node: 7 }], runUntilMs: 100 });
  await page.goto(`/#scenario=${encodeScenarioLink(broken)}`);
  await expect(page.getByRole('alert')).toHaveText('This scenario cannot run: actions[0].node: expected 1..5 or "leader", got 7');
});

test('a teacher picks a lesson; one that breaks safety on purpose raises the checker\'s alarm', async ({ page, saveScreenshot }) => {
  const unsafe = runScenario(parseScenarioText(scenarioText('figure-8-unsafe-commit.json')));
  await page.goto('/');
  await expect(page.getByTestId('trace-hash')).toBeVisible();
  await expect(page.getByTestId('safety-alarm')).toHaveCount(0);
  await page.getByLabel('Lesson').selectOption('figure-8-unsafe-commit');
  await expect(page.getByTestId('trace-hash')).toHaveText(unsafe.traceHash);
  const alarm = page.getByTestId('safety-alarm');
  await expect(alarm).toContainText('Safety broken.');
  await expect(alarm).toContainText('LeaderCompleteness: S5 became leader of term 4 without entry 2');
  await saveScreenshot('lesson-figure-8-unsafe');
  await page.getByLabel('Lesson').selectOption('figure-8');
  await expect(page.getByTestId('violations')).toHaveText('no safety violations');
  await expect(page.getByTestId('safety-alarm')).toHaveCount(0);
});

test('the replay shows the cluster on a ring at any moment: messages fly, the time slider rewinds', async ({ page, saveScreenshot }) => {
  const events = runScenario(parseScenarioText(scenarioText('first-election.json')));
  await page.goto('/');
  await expect(page.getByTestId('clock')).toHaveAttribute('data-ms', String(events.endMs));
  await expect(page.getByTestId(`node-${events.leader}`)).toHaveAttribute('aria-label', `S${events.leader}, leader, term 1`);
  // Rewind to the first election: a candidate asks for votes, and its requests are on their way.
  const slider = page.getByLabel('Time');
  await slider.fill('0');
  await expect(page.getByTestId('clock')).toHaveAttribute('data-ms', '0');
  await expect(page.locator('[data-testid^="node-"][data-role="leader"]')).toHaveCount(0);
  await page.getByRole('button', { name: 'Resume' }).click();
  await expect(page.getByTestId('message').first()).toBeVisible({ timeout: 10_000 });
  await page.getByRole('button', { name: 'Pause' }).click();
  const pausedAt = Number(await page.getByTestId('clock').getAttribute('data-ms'));
  expect(pausedAt).toBeGreaterThan(0);
  await page.waitForTimeout(300);
  await expect(page.getByTestId('clock')).toHaveAttribute('data-ms', String(pausedAt));
  await saveScreenshot('replay');
});

test('rewound into a partition, the replay shows which links are cut', async ({ page, saveScreenshot }) => {
  await page.goto('/');
  await page.getByLabel('Lesson').selectOption('minority-leader');
  await expect(page.getByTestId('link-1-3')).toHaveAttribute('data-state', 'up'); // healed by the end
  // Beside the ring, the latest explanations up to the moment shown: right after the partition, it says so.
  await page.getByLabel('Time').fill('500');
  await expect(page.getByTestId('narration')).toContainText('The network changed: 12 directions are cut');
  await page.getByLabel('Time').fill('1000');
  await expect(page.getByTestId('clock')).toHaveAttribute('data-ms', '1000');
  await expect(page.getByTestId('link-1-3')).toHaveAttribute('data-state', 'down');
  await expect(page.getByTestId('link-1-2')).toHaveAttribute('data-state', 'up');
  await expect(page.getByTestId('link-3-4')).toHaveAttribute('data-state', 'up');
  await saveScreenshot('replay-partition');
});
