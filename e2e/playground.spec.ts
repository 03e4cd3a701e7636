// The playground as a teacher and a student use it: each test starts from a fixed seed and acts through the
// page's own buttons, links and keys (SPEC §7), then checks what the cluster did.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runScenario } from '../src/sim/run-scenario.ts';
import { parseScenarioText } from '../src/sim/scenario.ts';
import { encodeScenarioLink } from '../src/ui/scenario-link.ts';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { SETTLE_MS, chooseNode, committedEverywhere, lastIndex, leaderId, newLeader, node, put, stepOnce, term } from './helpers.ts';

const scenarioText = (name: string) => readFileSync(join(import.meta.dirname, '..', 'scenarios', name), 'utf8');
const ALL = [1, 2, 3, 4, 5];

test('initial election: a 5-node cluster elects one leader, every node follows it', async ({ page, saveScreenshot }) => {
  await page.goto('/?seed=3&speed=1');
  const leader = await leaderId(page);
  const leaderTerm = await term(page, leader);
  await expect(node(page, leader)).toHaveAttribute('aria-label', `S${leader}, leader, term ${leaderTerm}`);
  for (const id of ALL) await expect(node(page, id)).toHaveAttribute('data-term', String(leaderTerm), { timeout: SETTLE_MS });
  await expect(page.getByTestId('event-log')).toContainText('became leader');
  await expect(page.getByTestId('message').first()).toBeAttached();
  await saveScreenshot('initial-election');
});

test('crash the leader: a new leader in a higher term; restart it: it catches up', async ({ page, saveScreenshot }) => {
  await page.goto('/?seed=4&speed=1');
  const old = await leaderId(page);
  const oldTerm = await term(page, old);
  await chooseNode(page, old);
  await page.getByRole('button', { name: 'Crash', exact: true }).click();
  await expect(node(page, old)).toHaveAttribute('data-status', 'down');
  const next = await newLeader(page, old, oldTerm);
  await put(page, 'after-crash', '1');
  const others = ALL.filter((id) => id !== old);
  const index = await lastIndex(page, next);
  await committedEverywhere(page, others, index);
  await saveScreenshot('leader-crashed');

  await chooseNode(page, old);
  await page.getByRole('button', { name: 'Restart', exact: true }).click();
  await expect(node(page, old)).toHaveAttribute('data-status', 'up');
  await expect(node(page, old)).toHaveAttribute('data-role', 'follower', { timeout: SETTLE_MS });
  await committedEverywhere(page, [old], index);
});

test('a client put is replicated and committed on every node, and every state machine holds it', async ({ page }) => {
  await page.goto('/?seed=5&speed=1');
  const leader = await leaderId(page);
  await put(page, 'x', '42');
  const index = await lastIndex(page, leader);
  await committedEverywhere(page, ALL, index);
  await page.getByRole('tab', { name: 'State machines' }).click();
  for (const id of ALL) await expect(page.getByTestId(`kv-${id}-x`)).toContainText('42', { timeout: SETTLE_MS });
});

test('a leader partitioned into a minority cannot commit; the majority elects and commits; healing replaces its entry', async ({ page, saveScreenshot }) => {
  await page.goto('/?seed=6&speed=1');
  const old = await leaderId(page);
  const oldTerm = await term(page, old);
  await chooseNode(page, old);
  await page.getByRole('button', { name: 'Partition', exact: true }).click();
  for (const id of ALL.filter((id) => id !== old)) await expect(page.getByTestId(`link-${Math.min(id, old)}-${Math.max(id, old)}`)).toHaveAttribute('data-state', 'down');

  const before = await lastIndex(page, old);
  await put(page, 'lost', 'minority', old);
  await expect.poll(() => lastIndex(page, old)).toBe(before + 1);
  const stranded = before + 1;
  await expect(page.getByTestId(`entry-${old}-${stranded}`)).toHaveAttribute('data-committed', 'false');
  const next = await newLeader(page, old, oldTerm);
  await put(page, 'kept', 'majority', next);
  const majority = ALL.filter((id) => id !== old);
  await committedEverywhere(page, majority, await lastIndex(page, next));
  await expect(page.getByTestId(`entry-${old}-${stranded}`)).toHaveAttribute('data-committed', 'false');
  await saveScreenshot('minority-leader');

  await page.getByRole('button', { name: 'Heal', exact: true }).click();
  await expect(node(page, old)).toHaveAttribute('data-role', 'follower', { timeout: SETTLE_MS });
  // Its uncommitted entry was replaced by the new leader's, of the new term (§5.3).
  const newTerm = String(await term(page, next));
  await expect(page.getByTestId(`entry-${old}-${stranded}`)).toHaveAttribute('data-term', newTerm, { timeout: SETTLE_MS });
  await expect(page.getByTestId(`entry-${old}-${stranded}`)).toHaveAttribute('data-committed', 'true', { timeout: SETTLE_MS });
});

test('a one-way cut: the follower stops hearing the leader, campaigns, and the link shows one way', async ({ page }) => {
  await page.goto('/?seed=7&speed=1');
  const leader = await leaderId(page);
  // A first click on link a–b (a < b) cuts a → b: with the leader first, its heartbeats stop reaching b.
  const follower = ALL.find((id) => id > leader);
  expect(follower, `seed 7 elects S4, which has a higher-numbered follower; got S${leader}`).toBeDefined();
  const startTerm = await term(page, follower!);
  const link = page.getByTestId(`link-${leader}-${follower}`);
  await link.click();
  await expect(link).toHaveAttribute('data-state', 'one-way');
  await expect.poll(() => term(page, follower!), { timeout: SETTLE_MS }).toBeGreaterThan(startTerm);
  // Its votes requests reach the others, whose replies come back: the cluster moves to a new term.
  await newLeader(page, 0, startTerm);
});

test('a partitioned node rejoining: without PreVote it raises the term and deposes the leader; with PreVote it does not', async ({ page }) => {
  for (const preVote of [false, true]) {
    await page.goto(`/?seed=8&speed=2`);
    await leaderId(page);
    if (preVote) {
      await page.getByText('Cluster settings').click();
      await page.getByRole('checkbox', { name: /^PreVote/ }).check();
    }
    const leader = await leaderId(page);
    const leaderTerm = await term(page, leader);
    const loner = ALL.find((id) => id !== leader)!;
    await chooseNode(page, loner);
    await page.getByRole('button', { name: 'Partition', exact: true }).click();
    if (preVote) {
      // Its pre-votes fail: it never raises its term while cut off.
      await page.waitForTimeout(2000);
      expect(await term(page, loner)).toBe(leaderTerm);
    } else {
      await expect.poll(() => term(page, loner), { timeout: SETTLE_MS }).toBeGreaterThan(leaderTerm);
    }
    await page.getByRole('button', { name: 'Heal', exact: true }).click();
    if (preVote) {
      await page.waitForTimeout(1500);
      await expect(node(page, leader)).toHaveAttribute('data-role', 'leader');
      expect(await term(page, leader)).toBe(leaderTerm);
    } else {
      await expect.poll(() => term(page, leader), { timeout: SETTLE_MS }).toBeGreaterThan(leaderTerm);
    }
  }
});

test("a teaching switch that breaks safety raises the checker's alarm", async ({ page, saveScreenshot }) => {
  const unsafe = runScenario(parseScenarioText(scenarioText('figure-8-unsafe-commit.json')));
  await page.goto('/?seed=1&speed=2');
  await leaderId(page);
  await expect(page.getByTestId('safety-alarm')).toHaveCount(0);
  await page.getByLabel('Scenario').selectOption('figure-8-unsafe-commit');
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  await expect(page.getByTestId('description')).toHaveText(parseScenarioText(scenarioText('figure-8-unsafe-commit.json')).description!);
  const alarm = page.getByTestId('safety-alarm');
  await expect(alarm).toContainText('Safety broken.', { timeout: SETTLE_MS * 2 });
  await expect(alarm).toContainText(unsafe.violations[0]!.invariant);
  await saveScreenshot('safety-alarm');
});

test('the task queue: enqueue, claim and ack move a task from pending to claimed to done', async ({ page }) => {
  await page.goto('/?seed=9&speed=1');
  await leaderId(page);
  await page.getByRole('tab', { name: 'State machines' }).click();
  await page.getByLabel('Payload', { exact: true }).fill('send-email');
  await page.getByRole('button', { name: 'Enqueue', exact: true }).click();
  await expect(page.getByTestId('task-jobs-1').first()).toHaveAttribute('data-lane', 'pending', { timeout: SETTLE_MS });
  await page.getByRole('button', { name: 'Claim', exact: true }).click();
  await expect(page.getByTestId('task-jobs-1').first()).toHaveAttribute('data-lane', 'claimed', { timeout: SETTLE_MS });
  await page.getByLabel('Task', { exact: true }).fill('1');
  await page.getByRole('button', { name: 'Ack', exact: true }).click();
  await expect(page.getByTestId('task-jobs-1').first()).toHaveAttribute('data-lane', 'done', { timeout: SETTLE_MS });
});

test('a run acted on by hand exports as a scenario that the CLI simulator replays to the same trace hash; importing it gives the same state', async ({ page }) => {
  await page.goto('/?seed=10&speed=1');
  const leader = await leaderId(page);
  await chooseNode(page, leader);
  await page.getByRole('button', { name: 'Crash', exact: true }).click();
  await newLeader(page, leader, 0);
  await put(page, 'k', 'v');
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export', exact: true }).click();
  const file = await (await download).path();
  const exported = readFileSync(file!, 'utf8');
  const scenario = parseScenarioText(exported);
  expect(scenario.actions.map((a) => a.do)).toEqual(['crash', 'put']);
  const inPage = await page.evaluate(() => window.raftPlayground.result());
  const inNode = runScenario(scenario);
  expect(inPage!.traceHash).toBe(inNode.traceHash);
  expect(inPage).toEqual(inNode);

  // The run goes on past the file's end and another write, so that only the imported run can match it again (the
  // page right after the import still shows the old run, paused at the same millisecond).
  await page.getByRole('button', { name: 'Resume', exact: true }).click();
  await put(page, 'k2', 'v2');
  await expect.poll(() => page.evaluate(() => window.raftPlayground.nowMs())).toBeGreaterThan(scenario.runUntilMs);
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await (await chooser).setFiles(file!);
  // Null while the imported run starts, other hashes while it plays: the same as the CLI's once it pauses at its end.
  await expect.poll(async () => (await page.evaluate(() => window.raftPlayground.result()))?.traceHash, { timeout: SETTLE_MS }).toBe(inNode.traceHash);
  await expect(page.getByTestId('clock')).toHaveAttribute('data-ms', String(scenario.runUntilMs));
  await expect(page.getByRole('button', { name: 'Resume', exact: true })).toBeVisible();
});

test('a shared link replays the same run and pauses where the file ends, in the state the CLI reports', async ({ page, saveScreenshot }) => {
  const text = scenarioText('minority-leader.json');
  const expected = runScenario(parseScenarioText(text));
  await page.goto(`/?speed=5#scenario=${encodeScenarioLink(text)}`);
  await expect(page.getByTestId('clock')).toHaveAttribute('data-ms', String(expected.endMs), { timeout: SETTLE_MS * 2 });
  for (const n of expected.nodes) {
    await expect(node(page, n.id)).toHaveAttribute('data-term', String(n.term));
    await expect(node(page, n.id)).toHaveAttribute('data-role', n.status === 'down' ? 'follower' : n.role);
    await expect(node(page, n.id)).toHaveAttribute('data-commit-index', String(n.commitIndex));
  }
  expect((await page.evaluate(() => window.raftPlayground.result()))!.traceHash).toBe(expected.traceHash);
  await saveScreenshot('shared-link');
});

test('a run on a sub-millisecond clock with a slow disk plays, steps and exports in whole milliseconds, as the CLI replays it', async ({ page }) => {
  const text = JSON.stringify({ version: 1, seed: 3, nodes: 5, config: { subMillisecond: true, diskLatencyMs: [2, 5] }, actions: [], runUntilMs: 1500 });
  const expected = runScenario(parseScenarioText(text));
  await page.goto(`/?speed=5#scenario=${encodeScenarioLink(text)}`);
  await expect(page.getByTestId('clock')).toHaveAttribute('data-ms', '1500', { timeout: SETTLE_MS * 2 });
  expect((await page.evaluate(() => window.raftPlayground.result()))!.traceHash).toBe(expected.traceHash);
  for (let i = 0; i < 3; i++) await stepOnce(page);
  const stepped = await page.evaluate(() => window.raftPlayground.nowMs());
  expect(Number.isInteger(stepped)).toBe(true);
  await put(page, 'x', '1');
  await expect.poll(() => page.evaluate(() => window.raftPlayground.nowMs())).toBe(stepped + 1);
  const exported = parseScenarioText(await page.evaluate(() => window.raftPlayground.exportScenario()));
  expect(exported.actions.map((a) => [a.do, a.atMs])).toEqual([['put', stepped + 1]]);
  expect(runScenario(exported).traceHash).toBe((await page.evaluate(() => window.raftPlayground.result()))!.traceHash);
});

test('a malformed shared link gets one sentence naming the field, and the playground still runs', async ({ page }) => {
  const broken = JSON.stringify({ version: 1, seed: 1, nodes: 5, actions: [{ atMs: 5, do: 'crash', node: 7 }], runUntilMs: 100 });
  await page.goto(`/?seed=1&speed=1#scenario=${encodeScenarioLink(broken)}`);
  await expect(page.locator('.notice')).toContainText('actions[0].node: expected 1..5 or "leader", got 7');
  await leaderId(page);
});

test('keyboard shortcuts: ? shows them, space pauses, a digit selects a node, c crashes it', async ({ page, saveScreenshot }) => {
  await page.goto('/?seed=11&speed=1');
  await leaderId(page);
  await page.keyboard.press('?');
  const overlay = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect(overlay).toBeVisible();
  await saveScreenshot('shortcuts');
  await page.keyboard.press('Escape');
  await expect(overlay).toBeHidden();
  await page.keyboard.press(' ');
  await expect(page.getByRole('button', { name: 'Resume', exact: true })).toBeVisible();
  const paused = await page.getByTestId('clock').getAttribute('data-ms');
  await page.waitForTimeout(300);
  await expect(page.getByTestId('clock')).toHaveAttribute('data-ms', paused!);
  await expect.poll(() => page.evaluate(() => window.raftPlayground.nowMs())).toBe(Number(paused));
  await page.keyboard.press('3');
  await expect(page.getByTestId('inspector')).toContainText('S3');
  await page.keyboard.press('c');
  await expect(node(page, 3)).toHaveAttribute('data-status', 'down');
});

test('arrow keys move between the detail tabs; a scenario chosen with the arrow keys waits for Open', async ({ page }) => {
  await page.goto('/?seed=11&speed=1');
  await leaderId(page);
  const tab = (name: string) => page.getByRole('tab', { name });
  await tab('What happened').focus();
  await page.keyboard.press('ArrowRight');
  await expect(tab('Inspector')).toBeFocused();
  await expect(tab('Inspector')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('inspector')).toBeVisible();
  await page.keyboard.press('End');
  await expect(tab('State machines')).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('ArrowRight');
  await expect(tab('What happened')).toBeFocused();
  await expect(tab('What happened')).toHaveAttribute('tabindex', '0');
  await expect(tab('Inspector')).toHaveAttribute('tabindex', '-1');

  // The old picker opened a scenario on every change, in the same event: the value having changed is enough.
  await page.getByLabel('Scenario').focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await expect(page.getByLabel('Scenario')).not.toHaveValue('');
  expect(new URL(page.url()).hash).toBe('');
  await expect(page.getByTestId('description')).toHaveCount(0);
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  await expect(page.getByTestId('description')).toHaveCount(1);
});

const clockMs = async (page: Page) => Number(await page.getByTestId('clock').getAttribute('data-ms'));
const eventsRun = async (page: Page) => (await page.evaluate(() => window.raftPlayground.result()))!.events;

test('Pause stops the clock where it shows; Step and +1 s land exactly; the scrubber goes back exactly, and acting there forks the run', async ({ page }) => {
  await page.goto('/?seed=12&speed=1');
  await leaderId(page);
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  const paused = await clockMs(page);
  // The events catch up with the clock shown, and go no further.
  await expect.poll(() => page.evaluate(() => window.raftPlayground.nowMs())).toBe(paused);
  await page.waitForTimeout(300);
  expect(await clockMs(page)).toBe(paused);
  expect(await page.evaluate(() => window.raftPlayground.nowMs())).toBe(paused);

  const before = await eventsRun(page);
  await page.getByRole('button', { name: 'Step', exact: true }).click();
  await expect.poll(() => eventsRun(page)).toBeGreaterThan(before);
  const stepped = await clockMs(page);
  expect(stepped).toBeGreaterThan(paused);
  expect(await page.evaluate(() => window.raftPlayground.nowMs())).toBe(stepped);

  await page.getByRole('button', { name: '+1 s', exact: true }).click();
  await expect.poll(() => clockMs(page)).toBe(stepped + 1000);
  await expect.poll(() => page.evaluate(() => window.raftPlayground.nowMs())).toBe(stepped + 1000);

  const scrubber = page.getByLabel('History');
  expect(Number(await scrubber.getAttribute('min'))).toBe(0);
  const back = Math.floor(Number(await scrubber.getAttribute('max')) / 2);
  await scrubber.fill(String(back));
  await expect.poll(() => clockMs(page)).toBe(back);
  await expect(page.getByRole('button', { name: 'Back to now' })).toBeVisible();
  await put(page, 'fork', '1', 1);
  // The fork: the run now ends just after the moment it went back to, with the action recorded there.
  await expect.poll(async () => Number(await page.evaluate(() => window.raftPlayground.nowMs())), { timeout: SETTLE_MS }).toBe(back + 1);
  await expect(page.getByRole('button', { name: 'Back to now' })).toBeHidden();
  const actions = parseScenarioText(await page.evaluate(() => window.raftPlayground.exportScenario())).actions;
  expect(actions.map((a) => [a.do, a.atMs])).toEqual([['put', back + 1]]);
});

test('at the default speed the scrubber works from the first second', async ({ page }) => {
  await page.goto('/?seed=12');
  const scrubber = page.getByLabel('History');
  await expect.poll(async () => Number(await scrubber.getAttribute('max'))).toBeGreaterThanOrEqual(20);
  expect(Number(await scrubber.getAttribute('min'))).toBe(0);
  await scrubber.fill('10');
  await expect.poll(() => clockMs(page)).toBe(10);
  await expect(page.getByRole('button', { name: 'Back to now' })).toBeVisible();
});

test('a message in flight: clicking it shows its fields, and dropping it records a drop the export replays', async ({ page }) => {
  await page.goto('/?seed=13&paused=1');
  // Step, event by event, to the first vote request on its way.
  await expect(page.getByRole('button', { name: 'Step', exact: true })).toBeEnabled();
  await expect
    .poll(async () => {
      const count = await page.getByTestId('message').count();
      if (count === 0) await stepOnce(page);
      return count;
    })
    .toBeGreaterThan(0);
  const message = page.getByTestId('message').first();
  const type = await message.getAttribute('data-type');
  await message.dispatchEvent('click');
  const inspector = page.getByTestId('inspector');
  await expect(inspector).toContainText(type!);
  await inspector.getByRole('button', { name: 'Drop message' }).click();
  // It dies when it would have arrived. The export and the result are read once the second has run, so that
  // both are of the same moment.
  const target = (await clockMs(page)) + 1000;
  await page.getByRole('button', { name: '+1 s', exact: true }).click();
  await expect.poll(() => page.evaluate(() => window.raftPlayground.nowMs())).toBe(target);
  await page.getByRole('tab', { name: 'What happened' }).click();
  await expect(page.getByTestId('event-log')).toContainText('dropped by hand');
  const scenario = parseScenarioText(await page.evaluate(() => window.raftPlayground.exportScenario()));
  expect(scenario.actions.map((a) => a.do)).toEqual(['drop']);
  expect((await page.evaluate(() => window.raftPlayground.result()))!.traceHash).toBe(runScenario(scenario).traceHash);
});

test('+1 s runs a second of virtual time at once, paused or not', async ({ page }) => {
  await page.goto('/?seed=14&speed=0.001&paused=1');
  await expect(page.getByRole('button', { name: 'Resume', exact: true })).toBeVisible();
  await page.getByRole('button', { name: '+1 s', exact: true }).click();
  await expect(page.getByTestId('clock')).toHaveAttribute('data-ms', '1000');
  await leaderId(page);
});

test('dragging a node into another group partitions the cluster there', async ({ page }) => {
  await page.goto('/?seed=15&speed=1');
  await leaderId(page);
  const ring = (await page.locator('svg.cluster-ring').boundingBox())!;
  const s3 = (await node(page, 3).boundingBox())!;
  const center = { x: ring.x + ring.width / 2, y: ring.y + ring.height / 2 };
  // Group B is the sector from 12 o'clock to 4 o'clock: drop S3 at 2 o'clock.
  const drop = { x: center.x + 0.3 * ring.width * Math.sin(Math.PI / 3), y: center.y - 0.3 * ring.width * Math.cos(Math.PI / 3) };
  await page.mouse.move(s3.x + s3.width / 2, s3.y + s3.height / 2);
  await page.mouse.down();
  await page.mouse.move(drop.x, drop.y, { steps: 12 });
  await page.mouse.up();
  for (const other of [1, 2, 4, 5]) {
    await expect(page.getByTestId(`link-${Math.min(3, other)}-${Math.max(3, other)}`)).toHaveAttribute('data-state', 'down');
  }
  await expect(page.getByTestId('link-1-2')).toHaveAttribute('data-state', 'up');
  const actions = parseScenarioText(await page.evaluate(() => window.raftPlayground.exportScenario())).actions;
  expect(actions).toEqual([expect.objectContaining({ do: 'partition', groups: [[1, 2, 4, 5], [3]] })]);
});
