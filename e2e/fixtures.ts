// Shared Playwright fixtures. Every e2e spec imports `test` and `expect` from
// here (not from '@playwright/test') so that it automatically fails on any
// console error or uncaught page error.
import { test as base, expect, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** Where explicit screenshots go (gitignored). */
export const SCREENSHOTS_DIR = join(import.meta.dirname, 'screenshots');

type Fixtures = {
  /** Errors seen so far; the guard asserts this is empty after each test. */
  pageErrors: string[];
  /** Saves a full-page screenshot as e2e/screenshots/<name>.png. */
  saveScreenshot: (name: string, page?: Page) => Promise<string>;
};

export const test = base.extend<Fixtures>({
  pageErrors: [
    async ({ page }, use, testInfo) => {
      const errors: string[] = [];
      page.on('console', (msg) => {
        if (msg.type() === 'error') {
          const loc = msg.location();
          const where = loc.url ? ` (${loc.url}:${loc.lineNumber})` : '';
          errors.push(`console.error: ${msg.text()}${where}`);
        }
      });
      page.on('pageerror', (err) => {
        errors.push(`uncaught ${err.name}: ${err.message}`);
      });
      await use(errors);
      if (testInfo.status === testInfo.expectedStatus) {
        expect(errors, 'console errors / uncaught page errors during the test').toEqual([]);
      } else if (errors.length > 0) {
        // The test already failed: do not mask that failure, but keep the errors.
        await testInfo.attach('page-errors', { body: errors.join('\n'), contentType: 'text/plain' });
      }
    },
    { auto: true },
  ],
  saveScreenshot: async ({ page }, use, testInfo) => {
    await use(async (name, target = page) => {
      mkdirSync(SCREENSHOTS_DIR, { recursive: true });
      const file = join(SCREENSHOTS_DIR, `${name}.png`);
      await target.screenshot({ path: file, fullPage: true });
      await testInfo.attach(name, { path: file, contentType: 'image/png' });
      return file;
    });
  },
});

export { expect };
