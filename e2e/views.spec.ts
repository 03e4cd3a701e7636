// The run over time and what its clients saw: the space-time diagram draws a lane per node and an arrow for each
// message the simulator traced, follows the scrubber, and inspects the message clicked; the client history
// says whether what clients saw is linearizable, and names the operations no order explains. Both export.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from '@playwright/test';
import { createScenarioSimulation } from '../src/sim/run-scenario.ts';
import { parseScenarioText, type Scenario } from '../src/sim/scenario.ts';
import type { TraceEvent } from '../src/sim/trace.ts';
import { hitTest, type SpaceTimeScene } from '../src/ui/space-time-model.ts';
import { encodeScenarioLink } from '../src/ui/scenario-link.ts';
import { expect, test } from './fixtures.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'raft-playground.mjs');
const RUN_MS = 600;
/** The first election and a write, stopped early so that the whole run fits the diagram's one-second window. */
const election: Scenario = { ...parseScenarioText(readFileSync('scenarios/first-election.json', 'utf8')), actions: [{ atMs: 400, do: 'put', key: 'x', value: '1' }], runUntilMs: RUN_MS };

async function open(page: Page, scenario: Scenario, tab: 'Space-time' | 'Client history'): Promise<void> {
  await page.goto(`/?speed=5#scenario=${encodeScenarioLink(JSON.stringify(scenario))}`);
  await expect(page.getByTestId('clock')).toHaveAttribute('data-ms', String(scenario.runUntilMs), { timeout: 30_000 });
  await page.getByRole('tab', { name: tab }).click();
}

const drawnScene = (page: Page) => page.evaluate(() => window.raftPlayground.spaceTime()) as Promise<SpaceTimeScene | null>;

test('the space-time diagram has a lane per node and an arrow for every message the simulator traced', async ({ page }) => {
  const trace: TraceEvent[] = [];
  createScenarioSimulation(election, { onTrace: (event) => trace.push(event) }).runUntil(RUN_MS);
  await open(page, election, 'Space-time');
  const sent = trace.filter((e) => e.type === 'send').map((e) => (e as { id: number }).id);
  // The clock leads and the events follow: the paused page draws them once they have all run.
  await expect(page.getByTestId('space-time')).toHaveAttribute('data-cursor-ms', String(RUN_MS));
  await expect(page.getByTestId('space-time')).toHaveAttribute('data-arrows', String(sent.length));
  const scene = (await drawnScene(page))!;
  expect(scene.lanes.map((lane) => lane.node)).toEqual([1, 2, 3, 4, 5]);
  const delivered = trace.filter((e) => e.type === 'deliver').map((e) => (e as { id: number }).id).sort((a, b) => a - b);
  expect(scene.arrows.map((a) => a.id).sort((a, b) => a - b)).toEqual(sent);
  expect(scene.arrows.filter((a) => a.fate === 'delivered').map((a) => a.id).sort((a, b) => a - b)).toEqual(delivered);
  const laneY = new Map(scene.lanes.map((lane) => [lane.node, lane.y]));
  for (const arrow of scene.arrows.filter((a) => a.fate === 'delivered')) {
    expect(arrow.y1).toBe(laneY.get(arrow.from));
    expect(arrow.y2).toBeCloseTo(laneY.get(arrow.to)!, 6);
  }

  // Exports for slides: the same drawing as SVG, and as PNG.
  const svg = page.waitForEvent('download');
  await page.getByRole('button', { name: 'SVG', exact: true }).click();
  const dir = mkdtempSync(join(tmpdir(), 'space-time-'));
  await (await svg).saveAs(join(dir, 'diagram.svg'));
  const text = readFileSync(join(dir, 'diagram.svg'), 'utf8');
  expect(text).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  expect(text).toContain('>S5</text>');
  const png = page.waitForEvent('download');
  await page.getByRole('button', { name: 'PNG', exact: true }).click();
  await (await png).saveAs(join(dir, 'diagram.png'));
  expect(readFileSync(join(dir, 'diagram.png')).subarray(1, 4).toString()).toBe('PNG');
  await page.screenshot({ path: test.info().outputPath('space-time.png') });
});

test('scrubbing moves the diagram\'s cursor; clicking an arrow inspects that message and moves the clock to its sending', async ({ page }) => {
  await open(page, election, 'Space-time');
  const canvas = page.getByTestId('space-time');
  await page.getByRole('slider', { name: 'History' }).fill('300');
  await expect(page.getByTestId('clock')).toHaveAttribute('data-ms', '300');
  await expect(canvas).toHaveAttribute('data-cursor-ms', '300');
  const scene = (await drawnScene(page))!;
  // An arrow that is the nearest thing to its own midpoint, sent before the cursor and crossing lanes.
  const arrow = scene.arrows.find((a) => {
    if (a.future || a.fate !== 'delivered' || Math.abs(a.y2 - a.y1) < 50) return false;
    const hit = hitTest(scene, (a.x1 + a.x2) / 2, (a.y1 + a.y2) / 2);
    return hit?.kind === 'message' && hit.id === a.id;
  })!;
  expect(arrow).toBeDefined();
  await canvas.click({ position: { x: (arrow.x1 + arrow.x2) / 2, y: (arrow.y1 + arrow.y2) / 2 } });
  await expect(page.getByRole('tab', { name: 'Inspector' })).toHaveAttribute('aria-selected', 'true');
  const inspector = page.getByTestId('inspector');
  await expect(inspector).toContainText(`${arrow.type} S${arrow.from} → S${arrow.to}`);
  await expect(inspector).toContainText(`sent at${(arrow.sentAt / 1000).toFixed(3)} s`);
  await expect(page.getByTestId('clock')).toHaveAttribute('data-ms', String(arrow.sentAt));
  await expect(canvas).toHaveAttribute('data-cursor-ms', String(arrow.sentAt));

  // By keyboard: Left goes to the latest arrow sent by the cursor, Enter inspects it.
  await canvas.focus();
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  const spoken = page.locator('.space-time p[aria-live]');
  await expect(spoken).toHaveText(/^\w+ S\d to S\d, sent at \d\.\d{3} s, (delivered|lost|on the way)$/);
  const [, type, from, to] = /^(\w+) S(\d) to S(\d)/.exec((await spoken.textContent())!)!;
  await page.keyboard.press('Enter');
  await expect(inspector).toContainText(`${type} S${from} → S${to}`);
});

test('the client history of a safe run is linearizable, each operation with its point in the order found', async ({ page }) => {
  await open(page, election, 'Client history');
  const verdict = page.getByTestId('history-verdict');
  await expect(verdict).toHaveAttribute('data-verdict', 'linearizable');
  await expect(verdict).toHaveText('Linearizable: one order of the operations explains every answer (the dots). (1 operation on 1 key)');
  const operation = page.getByTestId('history-operation');
  await expect(operation).toHaveCount(1);
  await expect(operation).toHaveAttribute('aria-label', /^put\(x, 1\) → ok via S\d, 0\.400 s to 0\.\d{3} s$/);
  await expect(operation.locator('circle.point')).toHaveCount(1);
});

test('the client history of stale lease reads names the operations no order explains, and exports what check-history reads', async ({ page }) => {
  const leaseRead = parseScenarioText(readFileSync('scenarios/lease-read-clock-drift.json', 'utf8'));
  await open(page, leaseRead, 'Client history');
  const verdict = page.getByTestId('history-verdict');
  await expect(verdict).toHaveAttribute('data-verdict', 'not-linearizable');
  await expect(verdict).toHaveText(/^Not linearizable: get\(x\) → old returned at 500 ms, but put\(x, new\) completed at \d+ ms and nothing wrote old after it\. \(7 operations on 1 key\)$/);
  await expect(page.locator('[data-testid="history-operation"][data-offending="true"]')).toHaveCount(3);
  const offenders = page.getByTestId('history-offenders');
  await expect(offenders).toContainText('These 3 operations cannot be ordered');
  await expect(offenders.getByRole('listitem')).toHaveText([/^put\(x, old\) → ok via S1, /, /^put\(x, new\) → ok via S\d, /, /^get\(x\) → old via S1, 0\.500 s to 0\.500 s \(the answer no order explains\)$/]);
  await page.screenshot({ path: test.info().outputPath('history.png') });

  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'History JSON' }).click();
  const file = join(mkdtempSync(join(tmpdir(), 'history-')), 'history.json');
  await (await download).saveAs(file);
  const run = await promisify(execFile)(process.execPath, [BIN, 'check-history', file]).then(
    () => ({ code: 0, stdout: '' }),
    (error: { code: number; stdout: string }) => error,
  );
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(/^not linearizable: 7 operations on 1 key/);
  expect(run.stdout).toContain('get(x) → old returned at 500 ms, but put(x, new) completed');
});
