// `npm run bench:ui`: how smoothly the playground draws a busy cluster, and whether its clock keeps the pace
// chosen. Builds the page, serves it, and opens it in Chromium once per case (a cluster size, a speed, with
// or without continuous client load: a put every 50 ms of virtual time). For each it prints the median frames
// per second over the measured seconds, the long tasks (50 ms or more), and how fast the virtual clock ran
// against the speed chosen (1.00 is exact). BENCH_VIEW=space-time measures with the space-time diagram open,
// BENCH_PRERUN_S=600 after ten virtual minutes have run. A benchmark, not a test: it prints figures and never fails on them.
import { spawn, execFileSync } from 'node:child_process';
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS, findChromium } from './chromium-path.mjs';

const PORT = 4174;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
/** Each case: nodes, speed, whether clients write continuously. Override with BENCH_CASES=9x1load,5x10 */
const CASES = (process.env.BENCH_CASES ?? '9x1load,5x10,5x10load').split(',').map((text) => {
  const match = /^(\d)x([\d.]+)(load)?$/.exec(text);
  if (!match) throw new Error(`BENCH_CASES: expected cases such as 9x1load or 5x10, got "${text}"`);
  return { nodes: Number(match[1]), speed: Number(match[2]), load: match[3] === 'load' };
});
/** BENCH_VIEW=space-time or history: measure with that picture open instead of the ring. */
const VIEW = { '': null, 'space-time': 'Space-time', history: 'Client history' }[process.env.BENCH_VIEW ?? ''];
if (VIEW === undefined) throw new Error(`BENCH_VIEW: expected space-time or history, got "${process.env.BENCH_VIEW}"`);
/** BENCH_PRERUN_S=600: run this many virtual seconds first (a long run's history behind the picture). */
const PRERUN_MS = Number(process.env.BENCH_PRERUN_S ?? 0) * 1000;

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

for (const { nodes, speed, load } of CASES) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await page.goto(`http://localhost:${PORT}/?seed=1&nodes=${nodes}&speed=${speed}`);
  await page.getByTestId(`node-${nodes}`).waitFor();
  // Let the first election settle before measuring.
  await page.waitForFunction(() => document.querySelector('[data-role="leader"]') !== null, null, { timeout: 30_000 });
  let prerun = '';
  if (PRERUN_MS > 0) {
    const started = Date.now();
    await page.evaluate((ms) => window.raftPlayground.advance(ms), PRERUN_MS);
    prerun = `, after ${PRERUN_MS / 1000} virtual s run first (in ${((Date.now() - started) / 1000).toFixed(0)} s)`;
  }
  if (VIEW) await page.getByRole('tab', { name: VIEW }).click();

  const figures = await page.evaluate(
    async ({ seconds, load }) => {
      const longTasks = [];
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) longTasks.push(entry.duration);
      }).observe({ type: 'longtask', buffered: false });
      // The load runs in virtual time: a put every 50 virtual ms, whatever the page's pace.
      let n = 0;
      let nextPutAt = window.raftPlayground.nowMs();
      const loadTimer = load
        ? setInterval(() => {
            while (nextPutAt <= window.raftPlayground.nowMs()) {
              n++;
              nextPutAt += 50;
              void window.raftPlayground.act({ do: 'put', key: `k${n % 50}`, value: String(n) });
            }
          }, 10)
        : null;
      const perSecond = [];
      let frames = 0;
      const wallStart = performance.now();
      const virtualStart = window.raftPlayground.nowMs();
      let secondStart = wallStart;
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
      if (loadTimer) clearInterval(loadTimer);
      const wallMs = performance.now() - wallStart;
      const virtualMs = window.raftPlayground.nowMs() - virtualStart;
      const sorted = [...perSecond].sort((a, b) => a - b);
      return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], longTasks, puts: n, virtualMs, wallMs };
    },
    { seconds: SECONDS, load },
  );
  const result = await page.evaluate(() => window.raftPlayground.result());
  const ratio = figures.virtualMs / (figures.wallMs * speed);
  const longest = figures.longTasks.length ? ` (longest ${Math.max(...figures.longTasks).toFixed(0)} ms)` : '';
  console.log(
    `bench:ui ${nodes} nodes at ${speed}x${load ? ', a put every 50 virtual ms' : ''}${VIEW ? `, ${VIEW} open` : ''}${prerun}, ${SECONDS} s at 1280x720: ` +
      `clock ${ratio.toFixed(2)} of the speed chosen (${(figures.virtualMs / 1000).toFixed(1)} virtual s), ` +
      `median ${figures.median.toFixed(1)} fps (lowest second ${figures.min.toFixed(1)}), ` +
      `${figures.longTasks.length} long tasks${longest}; ${figures.puts} puts, ${result?.events ?? '?'} trace events`,
  );
  await page.close();
}
await browser.close();
stop();
process.exit(0);
