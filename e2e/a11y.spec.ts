// Accessibility (issue 12): an axe-core scan of each state a class sees (the page, the inspector open on a node,
// the cluster settings open), in both themes, must find no serious or critical WCAG 2.1 A/AA violation; and
// the page works by keyboard alone, with a focus ring one can see on a projector.
import AxeBuilder from '@axe-core/playwright';
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { leaderId, node } from './helpers.ts';

const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const BLOCKING = new Set(['serious', 'critical']);

/** Runs start paused and are moved on by "+1 s" twice: a leader is elected, messages are in flight, and nothing
 * moves while axe reads the page (the same DOM every time, for a seed). */
const RUN_MS = 2000;

async function openElected(page: Page, url: string): Promise<number> {
  await page.goto(url);
  const forward = page.getByRole('button', { name: '+1 s', exact: true });
  for (let ms = 1000; ms <= RUN_MS; ms += 1000) {
    await forward.click();
    await expect(page.getByTestId('clock')).toHaveAttribute('data-ms', String(ms));
  }
  return leaderId(page);
}

interface PageState {
  readonly name: string;
  readonly url: string;
  /** Brings the page from "a leader is elected, paused" to the state to scan. */
  readonly enter: (page: Page, leader: number) => Promise<void>;
}

/** The states scanned. Presentation mode joins as one more entry: { name: 'presentation', url: '/?seed=7&paused=1&present=1', ... }. */
const STATES: readonly PageState[] = [
  { name: 'default page', url: '/?seed=7&paused=1', enter: async () => {} },
  {
    name: 'inspector open',
    url: '/?seed=7&paused=1',
    enter: async (page, leader) => {
      await node(page, leader).click();
      await expect(page.getByRole('tab', { name: 'Inspector' })).toHaveAttribute('aria-selected', 'true');
      await expect(page.getByTestId('inspector')).toContainText('Persistent');
    },
  },
  {
    name: 'settings open',
    url: '/?seed=7&paused=1',
    enter: async (page) => {
      await page.getByText('Cluster settings', { exact: true }).click();
      await expect(page.getByRole('checkbox', { name: /PreVote/ })).toBeVisible();
    },
  },
];

const THEMES = ['light', 'dark'] as const;

async function setTheme(page: Page, theme: (typeof THEMES)[number]): Promise<void> {
  const button = page.getByRole('button', { name: 'Dark theme' });
  if ((await button.getAttribute('aria-pressed')) !== String(theme === 'dark')) await button.click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
}

function describeViolations(violations: Awaited<ReturnType<AxeBuilder['analyze']>>['violations']): string {
  return violations
    .map((v) => {
      const targets = v.nodes.slice(0, 4).map((n) => `    ${n.target.join(' ')}${n.failureSummary ? ` — ${n.failureSummary.split('\n').slice(1, 2).join('').trim()}` : ''}`);
      return `  [${v.impact}] ${v.id}: ${v.help} (${v.nodes.length} element${v.nodes.length === 1 ? '' : 's'})\n${targets.join('\n')}`;
    })
    .join('\n');
}

for (const state of STATES) {
  for (const theme of THEMES) {
    test(`axe: no serious or critical violations, ${state.name}, ${theme} theme`, async ({ page }) => {
      const leader = await openElected(page, state.url);
      await setTheme(page, theme);
      await state.enter(page, leader);
      const results = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
      const blocking = results.violations.filter((v) => BLOCKING.has(v.impact ?? ''));
      if (process.env.A11Y_DEBUG) {
        console.log(`ALL ${state.name} ${theme}:\n${describeViolations(results.violations)}`);
        console.log(`INCOMPLETE ${state.name} ${theme}:\n${describeViolations(results.incomplete)}`);
      }
      expect(blocking.map((v) => v.id), `axe found, ${state.name}, ${theme} theme:\n${describeViolations(blocking)}`).toEqual([]);
    });
  }
}

// ---- Keyboard ---------------------------------------------------------------------------------------------------

/** Tab until `target` has the focus; a Tab order that never gets there within `limit` presses fails. */
async function tabTo(page: Page, target: Locator, limit = 80): Promise<void> {
  for (let presses = 0; presses <= limit; presses++) {
    if (await target.evaluate((element) => element === document.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`${limit} presses of Tab did not reach ${target.toString()}`);
}

/** What shows that an element has the focus: an outline, a box shadow, or in the ring's SVG a ring drawn for it. */
function focusIndicator(target: Locator): Promise<string | null> {
  return target.evaluate((element) => {
    const style = getComputedStyle(element);
    if (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2) return `outline ${style.outlineWidth} ${style.outlineStyle} ${style.outlineColor}`;
    if (style.boxShadow !== 'none') return `box-shadow ${style.boxShadow}`;
    const ring = element.querySelector(':scope > .focus-ring, :scope > .message-focus, :scope > .link-focus');
    if (ring && getComputedStyle(ring).visibility === 'visible' && getComputedStyle(ring).strokeDasharray === 'none') {
      return `ring ${getComputedStyle(ring).strokeWidth} ${getComputedStyle(ring).stroke}`;
    }
    return null;
  });
}

/** Focus has reached `target` and shows it; the screenshot (viewport, as a projector shows it) is for a person to look at. */
async function expectVisibleFocus(page: Page, target: Locator, shot: string): Promise<void> {
  await expect(target).toBeFocused();
  expect(await focusIndicator(target), `no visible focus indicator on ${target.toString()}`).not.toBeNull();
  await page.screenshot({ path: `/tmp/a11y-${shot}.png` });
}

for (const theme of THEMES) {
  test(`keyboard only: controls, ring nodes, links, messages, log grid, tabs, settings and the shortcuts list, with a visible focus (${theme} theme)`, async ({
    page,
  }) => {
    await page.goto('/?seed=7&paused=1');
    const themeButton = page.getByRole('button', { name: 'Dark theme' });
    await tabTo(page, themeButton);
    await expectVisibleFocus(page, themeButton, `theme-${theme}`);
    if (theme === 'dark') await page.keyboard.press('Enter');
    await expect(page.locator('html')).toHaveAttribute('data-theme', theme);

    // The controls: run two virtual seconds, so that a leader is elected and messages stand in flight.
    const forward = page.getByRole('button', { name: '+1 s', exact: true });
    await tabTo(page, forward);
    await expectVisibleFocus(page, forward, `button-${theme}`);
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('clock')).toHaveAttribute('data-ms', '1000');
    await page.keyboard.press(' ');
    await expect(page.getByTestId('clock')).toHaveAttribute('data-ms', String(RUN_MS));
    const leader = await leaderId(page);
    const follower = leader === 1 ? 2 : 1;

    // A node on the ring: no ring before it has the focus, a solid one with it; Enter inspects it.
    const followerNode = node(page, follower);
    expect(await focusIndicator(followerNode)).toBeNull();
    await tabTo(page, followerNode);
    await expectVisibleFocus(page, followerNode, `node-${theme}`);
    await page.keyboard.press('Enter');
    await expect(followerNode).toHaveAttribute('aria-pressed', 'true');
    await expect(page.getByRole('tab', { name: 'Inspector' })).toHaveAttribute('aria-selected', 'true');
    await expect(page.getByTestId('inspector')).toContainText(`S${follower}`);
    await expect(page.getByTestId('inspector')).toContainText('Persistent');

    // A link: Enter cuts one way, then both, then mends it.
    const link = page.getByTestId(`link-${Math.min(leader, follower)}-${Math.max(leader, follower)}`);
    await tabTo(page, link);
    await expectVisibleFocus(page, link, `link-${theme}`);
    for (const state of ['one-way', 'down', 'up']) {
      await page.keyboard.press('Enter');
      await expect(link).toHaveAttribute('data-state', state);
    }

    // A message in flight (the run is paused, so it stands still): Enter inspects it.
    const message = page.getByTestId('message').first();
    await tabTo(page, message);
    await expectVisibleFocus(page, message, `message-${theme}`);
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('inspector')).toContainText('sent at'); // (the cut above may have lost it: then "was due at")

    // The log grid: a node's name is a button.
    const leaderRow = page.getByRole('button', { name: `S${leader}, leader`, exact: true });
    await tabTo(page, leaderRow);
    await expectVisibleFocus(page, leaderRow, `log-grid-${theme}`);
    await page.keyboard.press('Enter');
    await expect(node(page, leader)).toHaveAttribute('aria-pressed', 'true');

    // The tabs (WAI-ARIA: one Tab stop, arrows move), then the panel they show, which scrolls.
    const inspectorTab = page.getByRole('tab', { name: 'Inspector' });
    await tabTo(page, inspectorTab);
    await expectVisibleFocus(page, inspectorTab, `tab-${theme}`);
    await page.keyboard.press('ArrowRight');
    const machinesTab = page.getByRole('tab', { name: 'State machines' });
    await expect(machinesTab).toBeFocused();
    await expect(machinesTab).toHaveAttribute('aria-selected', 'true');
    await page.keyboard.press('ArrowLeft');
    await expect(inspectorTab).toHaveAttribute('aria-selected', 'true');
    await page.keyboard.press('Tab');
    await expectVisibleFocus(page, page.getByRole('group', { name: 'Inspector details' }), `panel-${theme}`);

    // The settings: a disclosure, then its controls.
    const summary = page.getByText('Cluster settings', { exact: true });
    await tabTo(page, summary);
    await expectVisibleFocus(page, summary, `settings-${theme}`);
    await page.keyboard.press('Enter');
    const latency = page.getByRole('slider', { name: 'Latency' });
    await tabTo(page, latency);
    await expectVisibleFocus(page, latency, `slider-${theme}`);

    // The shortcuts list: ? opens it with the focus on Close, Tab stays inside, Escape closes it and the focus
    // returns to where it was.
    await page.keyboard.press('Shift+Tab');
    await expect(summary).toBeFocused();
    await page.keyboard.press('?');
    const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await expect(dialog).toBeVisible();
    const close = dialog.getByRole('button', { name: 'Close' });
    await expectVisibleFocus(page, close, `shortcuts-${theme}`);
    await page.keyboard.press('Tab');
    await expect(close).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(dialog).toBeHidden();
    await expect(summary).toBeFocused();
  });
}
