import { expect, test } from './fixtures.ts';

test('the page loads with its heading and no errors', async ({ page, saveScreenshot }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'Raft Playground' })).toBeVisible();
  await expect(page.getByText('The playground is under construction.')).toBeVisible();
  await saveScreenshot('smoke');
});
