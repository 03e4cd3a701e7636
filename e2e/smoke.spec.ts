import { expect, test } from './fixtures.ts';

test('the page loads with its heading and no errors', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'Raft Playground' })).toBeVisible();
});
