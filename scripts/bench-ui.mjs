// `npm run bench:ui`: how smoothly the playground draws a busy cluster. Builds the page, serves it, opens it
// in Chromium with 9 nodes at 1× real time under continuous client load (a put every 50 ms of virtual time),
// and prints the median frames per second over 20 seconds and the long tasks (50 ms or more). A benchmark,
// not a test: it prints figures and never fails on them.
import { spawn, execFileSync } from 'node:child_process';
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS, findChromium } from './chromium-path.mjs';

const PORT = 4174;
const SECONDS = 20;

execFileSync('npx', ['vite', 'build'], { stdio: 'inherit' });
const server = spawn('npx', ['vite', 'preview', '--port', String(PORT), '--strictPort'], { stdio: 'ignore', detached: true });
const stop = () => {
  try {
    process.kill(-server.pid);
  } catch {
    // already gone
  }
};
process.on('exit', stop);

async function waitForServer() {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://localhost:${PORT}/`)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the preview server did not start on port ${PORT}`);
}

await waitForServer();
const executablePath = findChromium();
const browser = await chromium.launch({ ...(executablePath ? { executablePath } : {}), args: CHROMIUM_ARGS });
const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
await page.goto(`http://localhost:${PORT}/?seed=1&nodes=9&speed=1`);
await page.getByTestId('node-9').waitFor();
// Let the first election settle before measuring.
await page.waitForFunction(() => document.querySelector('[data-role="leader"]') !== null, null, { timeout: 30_000 });

const figures = await page.evaluate(async (seconds) => {
  const longTasks = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longTasks.push(entry.duration);
  }).observe({ type: 'longtask', buffered: false });
  // The load runs in virtual time: a put every 50 virtual ms (20 a second at 1x), whatever the page's pace.
  let n = 0;
  let nextPutAt = window.raftPlayground.nowMs();
  const load = setInterval(() => {
    while (nextPutAt <= window.raftPlayground.nowMs()) {
      n++;
      nextPutAt += 50;
      void window.raftPlayground.act({ do: 'put', key: `k${n % 50}`, value: String(n) });
    }
  }, 10);
  const perSecond = [];
  let frames = 0;
  let secondStart = performance.now();
  await new Promise((resolve) => {
    const frame = (now) => {
      frames++;
      if (now - secondStart >= 1000) {
        perSecond.push((frames * 1000) / (now - secondStart));
        frames = 0;
        secondStart = now;
      }
      if (perSecond.length < seconds) requestAnimationFrame(frame);
      else resolve();
    };
    requestAnimationFrame(frame);
  });
  clearInterval(load);
  const sorted = [...perSecond].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], longTasks, puts: n, virtualMs: window.raftPlayground.nowMs() };
}, SECONDS);

const result = await page.evaluate(() => window.raftPlayground.result());
console.log(
  `bench:ui (9 nodes, 1x, a put every 50 virtual ms, ${SECONDS} s, 1280x720): median ${figures.median.toFixed(1)} fps (lowest second ${figures.min.toFixed(1)}), ` +
    `${figures.longTasks.length} long tasks${figures.longTasks.length ? ` (longest ${Math.max(...figures.longTasks).toFixed(0)} ms)` : ''}; ` +
    `${figures.puts} puts sent, ${result?.events ?? '?'} trace events, virtual clock at ${figures.virtualMs} ms after ${SECONDS} s`,
);
await browser.close();
stop();
process.exit(0);
