// Helpers for the playground specs: reading the cluster from the DOM (SPEC §7) as a person would see it.
import type { Locator, Page } from '@playwright/test';
import { expect } from './fixtures.ts';

/** Generous: elections take a few hundred virtual ms, and the page runs them at the speed the URL sets. */
export const SETTLE_MS = 20_000;

export function node(page: Page, id: number): Locator {
  return page.getByTestId(`node-${id}`);
}

/** The id of the one node drawn as leader, waiting until there is exactly one. */
export async function leaderId(page: Page): Promise<number> {
  const leaders = page.locator('[data-testid^="node-"][data-role="leader"]');
  await expect(leaders).toHaveCount(1, { timeout: SETTLE_MS });
  const testId = await leaders.getAttribute('data-testid');
  return Number(testId!.replace('node-', ''));
}

export async function term(page: Page, id: number): Promise<number> {
  return Number(await node(page, id).getAttribute('data-term'));
}

/** Wait until some node other than `not` leads in a term above `above`; returns it. */
export async function newLeader(page: Page, not: number, above: number): Promise<number> {
  await expect
    .poll(
      async () => {
        const leaders = page.locator('[data-testid^="node-"][data-role="leader"][data-status="up"]');
        for (const handle of await leaders.all()) {
          const id = Number((await handle.getAttribute('data-testid'))!.replace('node-', ''));
          if (id !== not && Number(await handle.getAttribute('data-term')) > above) return id;
        }
        return 0;
      },
      { timeout: SETTLE_MS },
    )
    .toBeGreaterThan(0);
  const leaders = page.locator('[data-testid^="node-"][data-role="leader"][data-status="up"]');
  for (const handle of await leaders.all()) {
    const id = Number((await handle.getAttribute('data-testid'))!.replace('node-', ''));
    if (id !== not) return id;
  }
  throw new Error('the new leader vanished');
}

/** Choose the node the node controls act on. */
export async function chooseNode(page: Page, id: number): Promise<void> {
  await page.getByLabel('Node', { exact: true }).selectOption(`${id}`);
}

export async function put(page: Page, key: string, value: string, target: 'leader' | number = 'leader'): Promise<void> {
  await page.getByLabel('Target', { exact: true }).selectOption(target === 'leader' ? 'leader' : `${target}`);
  await page.getByLabel('Key', { exact: true }).fill(key);
  await page.getByLabel('Value', { exact: true }).fill(value);
  await page.getByRole('button', { name: 'Put', exact: true }).click();
}

/** Every node up holds entry `index` committed, in one term; returns that term. */
export async function committedEverywhere(page: Page, ids: readonly number[], index: number): Promise<void> {
  for (const id of ids) {
    await expect(page.getByTestId(`entry-${id}-${index}`)).toHaveAttribute('data-committed', 'true', { timeout: SETTLE_MS });
  }
}

/** The index of the last entry node `id` holds. */
export async function lastIndex(page: Page, id: number): Promise<number> {
  return Number(await node(page, id).getAttribute('data-last-index'));
}

/** Press Step and wait until it has landed (the clock moved): a loop of Steps then never runs ahead of what it reads. */
export async function stepOnce(page: Page): Promise<void> {
  const clock = page.getByTestId('clock');
  const before = await clock.getAttribute('data-ms');
  await page.getByRole('button', { name: 'Step', exact: true }).click();
  await expect(clock).not.toHaveAttribute('data-ms', before ?? '');
}
