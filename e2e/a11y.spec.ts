// Accessibility (issue 12): an axe-core scan of each state a class sees (the page, the inspector open on a node,
// the cluster settings open), in both themes, must find no serious or critical WCAG 2.1 A/AA violation; and
// the page works by keyboard alone, with a focus ring one can see on a projector.
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { leaderId, node } from './helpers.ts';

const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const BLOCKING = new Set(['serious', 'critical']);

/** A run that elects a leader, then pauses, so that nothing moves while axe reads the page. */
async function openElected(page: Page, url: string): Promise<number> {
  await page.goto(url);
  const leader = await leaderId(page);
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Resume', exact: true })).toBeVisible();
  return leader;
}

interface PageState {
  readonly name: string;
  readonly url: string;
  /** Brings the page from "a leader is elected, paused" to the state to scan. */
  readonly enter: (page: Page, leader: number) => Promise<void>;
}

/** The states scanned. Presentation mode joins as one more entry: { name: 'presentation', url: '/?seed=7&speed=1&present=1', ... }. */
const STATES: readonly PageState[] = [
  { name: 'default page', url: '/?seed=7&speed=1', enter: async () => {} },
  {
    name: 'inspector open',
    url: '/?seed=7&speed=1',
    enter: async (page, leader) => {
      await node(page, leader).click();
      await expect(page.getByRole('tab', { name: 'Inspector' })).toHaveAttribute('aria-selected', 'true');
      await expect(page.getByTestId('inspector')).toContainText('Persistent');
    },
  },
  {
    name: 'settings open',
    url: '/?seed=7&speed=1',
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
