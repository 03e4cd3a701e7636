// The page fits the screen (issue 12): at a projector's 1280×720 and 1024×768, a wide 1920×1080 and a phone's
// 390×844, with 1, 3, 5 and 9 nodes, every node and every log row shows without scrolling a panel, nothing
// overlaps and nothing is cut off; presentation mode reads from the back of a room. Checked from bounding boxes.
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { SETTLE_MS, leaderId, stepOnce } from './helpers.ts';

const SIZES = [
  { width: 1280, height: 720 },
  { width: 1920, height: 1080 },
  { width: 1024, height: 768 },
  { width: 390, height: 844 },
] as const;
const NODE_COUNTS = [1, 3, 5, 9] as const;

interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Everything the checks need, measured in one pass (page coordinates, so that a scrolling page is fine). */
function measure(page: Page) {
  return page.evaluate(() => {
    const box = (element: Element): Box => {
      const r = element.getBoundingClientRect();
      return { x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height };
    };
    const one = (selector: string) => {
      const element = document.querySelector(selector);
      return element ? box(element) : null;
    };
    const panel = document.querySelector('.log-grid-panel')!;
    const scroller = panel.querySelector('.panel-scroll');
    return {
      viewport: { width: innerWidth, height: innerHeight },
      pageWidth: document.documentElement.scrollWidth,
      ring: one('.cluster-ring')!,
      nodes: [...document.querySelectorAll('[data-testid^="node-"]')].map((n) => ({ id: n.getAttribute('data-testid')!, box: box(n.querySelector('.shape')!) })),
      rows: [...document.querySelectorAll('.log-row')].map((r) => ({ node: r.getAttribute('data-node')!, box: box(r) })),
      panel: box(panel),
      panelScrolls: scroller ? scroller.scrollHeight > scroller.clientHeight + 1 || scroller.scrollWidth > scroller.clientWidth + 1 : false,
      header: one('.top')!,
      left: one('.left')!,
      right: one('.right')!,
      captions: one('.captions')!,
      headerControls: [...document.querySelectorAll('.top button, .top select, .top input')].filter((e) => (e as HTMLElement).offsetParent !== null).map((e) => box(e)),
    };
  });
}

const inside = (inner: Box, outer: Box, slack = 1) =>
  inner.x >= outer.x - slack && inner.y >= outer.y - slack && inner.x + inner.width <= outer.x + outer.width + slack && inner.y + inner.height <= outer.y + outer.height + slack;
const overlaps = (a: Box, b: Box) => a.x < b.x + b.width - 1 && b.x < a.x + a.width - 1 && a.y < b.y + b.height - 1 && b.y < a.y + a.height - 1;

for (const size of SIZES) {
  for (const count of NODE_COUNTS) {
    test(`fits ${size.width}×${size.height} with ${count} node${count === 1 ? '' : 's'}: every node and log row in view, nothing overlapping or cut off`, async ({ page }) => {
      await page.setViewportSize(size);
      await page.goto(`/?seed=3&nodes=${count}&speed=1`);
      await leaderId(page);
      await page.getByRole('button', { name: 'Pause', exact: true }).click();
      await expect(page.locator('.log-row')).toHaveCount(count, { timeout: SETTLE_MS });
      const m = await measure(page);
      const oneScreen = size.width > 900 && size.height > 640;

      // Nothing wider than the screen: no sideways scrolling, no control past the right edge.
      expect(m.pageWidth).toBeLessThanOrEqual(m.viewport.width);
      for (const control of m.headerControls) expect(control.x + control.width).toBeLessThanOrEqual(m.viewport.width + 1);

      // Every node inside the ring's drawing, none on another.
      expect(m.nodes).toHaveLength(count);
      for (const n of m.nodes) expect(inside(n.box, m.ring), `${n.id} inside the ring`).toBe(true);
      for (const [i, a] of m.nodes.entries()) for (const b of m.nodes.slice(i + 1)) expect(overlaps(a.box, b.box), `${a.id} and ${b.id} apart`).toBe(false);

      // Every log row inside the log panel, which does not scroll.
      expect(m.panelScrolls, 'the log panel shows all of its rows and columns without scrolling').toBe(false);
      for (const row of m.rows) expect(inside(row.box, m.panel), `S${row.node}'s log row inside the panel`).toBe(true);

      // The regions do not overlap; on a projector they are all on one screen.
      expect(overlaps(m.header, m.left)).toBe(false);
      expect(overlaps(m.header, m.right)).toBe(false);
      expect(overlaps(m.panel, m.captions)).toBe(false);
      expect(overlaps(m.ring, m.captions)).toBe(false);
      if (oneScreen) {
        expect(overlaps(m.left, m.right)).toBe(false);
        expect(overlaps(m.right, m.captions)).toBe(false);
        const screen = { x: 0, y: 0, ...m.viewport };
        for (const [name, region] of Object.entries({ ring: m.ring, logs: m.panel, captions: m.captions })) expect(inside(region, screen), `${name} on screen`).toBe(true);
        // A wide screen is used: the ring grows with the height it has.
        expect(m.ring.height).toBeGreaterThan(size.height * 0.55);
      }
      await page.screenshot({ path: test.info().outputPath(`layout-${size.width}x${size.height}-${count}.png`) });
    });
  }
}

/** A text element's font size on screen: its CSS size times the SVG's scale. */
function screenFontSizes(page: Page, selector: string): Promise<number[]> {
  return page.evaluate(
    (s) =>
      [...document.querySelectorAll(s)].map((element) => {
        const svg = (element as SVGGraphicsElement).ownerSVGElement;
        const scale = svg?.getScreenCTM()?.a ?? 1;
        return parseFloat(getComputedStyle(element).fontSize) * scale;
      }),
    selector,
  );
}

test('presentation mode at 1280×720: projector type, advanced controls folded, ring, logs and narration on one screen', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/?seed=3&nodes=5&speed=1&present=1');
  await leaderId(page);
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  // Step until a message is in flight (a heartbeat round is never far off), measuring the glyphs as they are
  // found, in one read.
  let glyphs: number[] = [];
  for (let i = 0; i < 50 && glyphs.length === 0; i++) {
    glyphs = await page.getByTestId('message').evaluateAll((messages) => messages.map((m) => m.getBoundingClientRect()).map((r) => Math.min(r.width, r.height)));
    if (glyphs.length === 0) await stepOnce(page);
  }

  for (const size of await screenFontSizes(page, '.node-name')) expect(size).toBeGreaterThanOrEqual(24);
  for (const size of await screenFontSizes(page, '.node-term')) expect(size).toBeGreaterThanOrEqual(18);
  expect(glyphs.length).toBeGreaterThan(0);
  for (const side of glyphs) expect(side).toBeGreaterThanOrEqual(16);
  const latest = page.getByTestId('caption-latest');
  expect(parseFloat(await latest.evaluate((e) => getComputedStyle(e).fontSize))).toBeGreaterThanOrEqual(22);

  // Folded away: the run's setup, the files, the details tabs, the settings; kept: time, faults, Put.
  for (const name of ['Seed', 'Export', 'Share link']) await expect(page.getByRole('button', { name, exact: true }).or(page.getByLabel(name, { exact: true }))).toBeHidden();
  await expect(page.getByRole('tablist', { name: 'Details' })).toBeHidden();
  for (const name of ['Resume', 'Step', '+1 s', 'Crash', 'Partition', 'Put']) await expect(page.getByRole('button', { name, exact: true })).toBeVisible();

  const m = await measure(page);
  const screen = { x: 0, y: 0, ...m.viewport };
  for (const [name, region] of Object.entries({ ring: m.ring, logs: m.panel, captions: m.captions })) expect(inside(region, screen), `${name} on screen`).toBe(true);
  expect(m.panelScrolls).toBe(false);
  await page.screenshot({ path: test.info().outputPath('presentation-1280x720.png') });

  // The button leaves it, and the address follows, so that a reload opens the page as it was left.
  await page.getByRole('button', { name: 'Exit presentation' }).click();
  await expect(page.getByLabel('Seed', { exact: true })).toBeVisible();
  expect(new URL(page.url()).searchParams.get('present')).toBeNull();
  await page.getByRole('button', { name: 'Present', exact: true }).click();
  expect(new URL(page.url()).searchParams.get('present')).toBe('1');
});

test('the narration stays in view while a node is inspected, the latest sentence largest', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/?seed=3&speed=1');
  const leader = await leaderId(page);
  await page.getByTestId(`node-${leader}`).click();
  await expect(page.getByRole('tab', { name: 'Inspector' })).toHaveAttribute('aria-selected', 'true');
  const captions = page.getByTestId('captions');
  await expect(captions).toBeInViewport({ ratio: 1 });
  await expect(page.getByTestId('caption-latest')).not.toBeEmpty();
  const sizes = await captions.locator('.caption').evaluateAll((lines) => lines.map((l) => parseFloat(getComputedStyle(l).fontSize)));
  expect(sizes.length).toBeGreaterThan(1);
  const latest = sizes[sizes.length - 1]!;
  for (const size of sizes.slice(0, -1)) expect(latest).toBeGreaterThan(size);
  // What the captions say is what the full log says last.
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await page.getByRole('tab', { name: 'What happened' }).click();
  const newest = (await page.getByTestId('event-line').first().locator('.event-text').textContent())!;
  await expect(page.getByTestId('caption-latest')).toContainText(newest);
});
