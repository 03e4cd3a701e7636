// The real cluster in the page (SPEC §9): `raft-playground cluster --ui` starts three real node processes behind
// fault proxies; the page attached to it kills the leader, sees the new one (as every node's /status does),
// writes a key the CLI then reads, partitions a node and heals it, restarts the one it killed. And a viewer of a
// node's /events that stops reading is cut off while the cluster keeps its pace.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from './fixtures.ts';
import { chooseNode, leaderId, newLeader, node, term } from './helpers.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'raft-playground.mjs');

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  /** Each node's HTTP address, by id. */
  readonly endpoints: Map<number, string>;
  readonly dir: string;
}

async function startCluster(): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'real-ui-'));
  const child = spawn(process.execPath, [BIN, 'cluster', '--ui', '--nodes', '3', '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8');
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cluster --ui printed no address in 60 s: ${out}`)), 60_000);
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const found = /^Open (http:\/\/127\.0\.0\.1:\d+\/\?attach=\S+&token=[0-9a-f]+)$/m.exec(out);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`cluster --ui exited (${code}): ${out}`)));
  });
  const endpoints = new Map([...out.matchAll(/^ {2}S(\d) {2}(http:\/\/\S+)$/gm)].map((m) => [Number(m[1]), m[2]!]));
  return { child, url, endpoints, dir };
}

async function stopCluster(running: Running): Promise<void> {
  const exited = new Promise((done) => running.child.once('exit', done));
  running.child.kill('SIGINT');
  await exited;
  rmSync(running.dir, { recursive: true, force: true });
}

async function status(endpoint: string): Promise<{ role: string; term: number; leader: number } | null> {
  try {
    const response = await fetch(`${endpoint}/status`);
    return response.ok ? ((await response.json()) as { role: string; term: number; leader: number }) : null;
  } catch {
    return null;
  }
}

test.describe.configure({ mode: 'serial' });

test('the page drives a real cluster: kill the leader, a new one is elected; a key written from the page is read by the CLI; a partition heals', async ({ page }) => {
  test.setTimeout(120_000);
  const cluster = await startCluster();
  try {
    await page.goto(cluster.url);
    await expect(page.getByTestId('real-banner')).toContainText('A real cluster: 3 raft-playground node processes');
    // Wall time: no pace controls, no scrubber.
    await expect(page.getByRole('button', { name: 'Pause' })).toHaveCount(0);
    await expect(page.getByRole('slider', { name: 'History' })).toHaveCount(0);
    const old = await leaderId(page);
    const oldTerm = await term(page, old);

    await chooseNode(page, old);
    await page.getByRole('button', { name: 'Crash', exact: true }).click();
    await expect(node(page, old)).toHaveAttribute('data-status', 'down', { timeout: 10_000 });
    const next = await newLeader(page, old, oldTerm);
    // Every live node says so too.
    await expect
      .poll(async () => Promise.all([...cluster.endpoints].filter(([id]) => id !== old).map(async ([, endpoint]) => (await status(endpoint))?.leader)), { timeout: 15_000 })
      .toEqual([next, next]);
    expect(await status(cluster.endpoints.get(old)!)).toBeNull(); // the process is gone

    await page.getByLabel('Key', { exact: true }).fill('greeting');
    await page.getByLabel('Value', { exact: true }).fill('hello');
    await page.getByRole('button', { name: 'Put', exact: true }).click();
    await expect(page.getByRole('status').locator('.notice')).toContainText('Done on the real cluster');
    const endpoints = [...cluster.endpoints].filter(([id]) => id !== old).map(([, endpoint]) => endpoint).join(',');
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'get', 'greeting', '--endpoints', endpoints]);
    expect(stdout.trim()).toBe('hello');

    // Partition a follower away from the page, then heal: it comes back in the leader's term.
    const follower = [...cluster.endpoints.keys()].find((id) => id !== old && id !== next)!;
    await chooseNode(page, follower);
    await page.getByRole('button', { name: 'Partition', exact: true }).click();
    await expect(page.getByTestId(`link-${Math.min(follower, next)}-${Math.max(follower, next)}`)).toHaveAttribute('data-state', 'down', { timeout: 10_000 });
    await page.getByRole('button', { name: 'Heal', exact: true }).click();
    await expect(page.getByTestId(`link-${Math.min(follower, next)}-${Math.max(follower, next)}`)).toHaveAttribute('data-state', 'up', { timeout: 10_000 });
    await expect.poll(async () => (await status(cluster.endpoints.get(follower)!))?.leader, { timeout: 15_000 }).toBe(next);

    // The killed node restarts from its disk and follows.
    await chooseNode(page, old);
    await page.getByRole('button', { name: 'Restart', exact: true }).click();
    await expect(node(page, old)).toHaveAttribute('data-status', 'up', { timeout: 20_000 });
    await expect.poll(async () => (await status(cluster.endpoints.get(old)!))?.leader, { timeout: 15_000 }).toBe(next);
    // The diagram of the real run: heartbeats are only counted, so widen the window to take in the writes and the
    // catching up.
    await page.getByRole('tab', { name: 'Space-time' }).click();
    for (let i = 0; i < 4; i++) await page.getByRole('button', { name: 'Show more time' }).click();
    await expect(page.getByTestId('space-time-span')).toHaveText('20 s');
    await expect(page.getByTestId('space-time')).toHaveAttribute('data-arrows', /^[1-9]\d*$/);
    await page.getByRole('tab', { name: 'Cluster' }).click();
    await page.getByRole('tab', { name: 'State machines' }).click();
    await expect(page.getByTestId(`kv-${next}-greeting`)).toBeVisible();
    await page.screenshot({ path: test.info().outputPath('real-cluster.png') });

    // The export is a record of the real run, and says so.
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export the record' }).click();
    const file = test.info().outputPath('record.json');
    await (await download).saveAs(file);
    const record = JSON.parse(readFileSync(file, 'utf8')) as { source: string; events: { type: string; node: number }[] };
    expect(record.source).toBe('real-cluster');
    expect(record.events.filter((e) => e.type === 'crash').map((e) => e.node)).toEqual([old]);
  } finally {
    await stopCluster(cluster);
  }
});

test('a viewer of /events that stops reading is cut off, and the cluster keeps its pace', async () => {
  test.setTimeout(120_000);
  const cluster = await startCluster();
  try {
    // The leader's stream is the busiest; each read's answer carries a 60 kB value.
    let leader = 0;
    await expect.poll(async () => {
      for (const [id, endpoint] of cluster.endpoints) if ((await status(endpoint))?.role === 'leader') leader = id;
      return leader;
    }, { timeout: 20_000 }).toBeGreaterThan(0);
    const endpoint = cluster.endpoints.get(leader)!;
    expect((await fetch(`${endpoint}/kv/big`, { method: 'PUT', body: JSON.stringify({ value: 'v'.repeat(60_000) }) })).status).toBe(200);
    /** Reads done by 8 clients in `ms` of wall time. */
    const readsIn = async (ms: number) => {
      const end = Date.now() + ms;
      let reads = 0;
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (Date.now() < end) {
          expect((await fetch(`${endpoint}/kv/big`)).status).toBe(200);
          reads++;
        }
      }));
      return reads;
    };
    const alone = await readsIn(3000);

    // A viewer that sends its request and never reads a byte of the answer.
    const url = new URL(endpoint);
    const stalled = connect(Number(url.port), url.hostname);
    stalled.write(`GET /events HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`);
    stalled.pause();
    let cutOff = false;
    stalled.once('close', () => (cutOff = true));
    stalled.on('error', () => {});
    const withStalled = await readsIn(3000);
    console.log(`reads in 3 s: ${alone} alone, ${withStalled} with a stalled viewer (ratio ${(withStalled / alone).toFixed(2)})`);
    // A paused socket does not notice its end: read what reached it, and it ends there if the node cut it off.
    stalled.on('data', () => {});
    stalled.resume();
    await expect.poll(() => cutOff, { timeout: 10_000 }).toBe(true);
    expect(withStalled).toBeGreaterThan(alone * 0.5);
  } finally {
    await stopCluster(cluster);
  }
});
