// The control server of `cluster --ui` on a real one-node cluster: it refuses a request without the token,
// answers a malformed action with one sentence naming what was wrong, does a write and a read on the real
// node, serves the page's files and nothing outside them, and merges the node's stream onto its own clock.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ClusterControl } from './cluster-control.ts';
import { jsonOf, sendRequest } from './http-client.ts';
import { SILENT_LOGGER } from './logger.ts';
import { ProcessCluster } from './process-cluster.ts';

let dir: string;
let cluster: ProcessCluster;
let control: ClusterControl;
let base: string;
const TOKEN = 'a'.repeat(32);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'control-'));
  const page = join(dir, 'dist');
  mkdirSync(page);
  writeFileSync(join(page, 'index.html'), '<!doctype html><title>page</title>');
  cluster = await ProcessCluster.create({ nodes: 1, dir: join(dir, 'data'), proxies: true, logLevel: 'warn', electionTimeoutMs: [100, 200], heartbeatMs: 20 });
  await cluster.startAll();
  await cluster.waitForLeader();
  control = new ClusterControl({ cluster, token: TOKEN, staticDir: page, logger: SILENT_LOGGER });
  base = `http://127.0.0.1:${await control.start(0)}`;
}, 60_000);

afterAll(async () => {
  await control?.stop();
  await cluster?.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

const act = (body: string, token = TOKEN) => sendRequest(`${base}/api/act`, { method: 'POST', body, headers: { authorization: `Bearer ${token}` } });

describe('the cluster --ui control server', () => {
  test('refuses the API without the token, or with another', async () => {
    expect((await sendRequest(`${base}/api/cluster`)).status).toBe(401);
    expect((await act('{"do":"heal"}', 'b'.repeat(32))).status).toBe(401);
    const facts = jsonOf(await sendRequest(`${base}/api/cluster?token=${TOKEN}`));
    expect(facts).toMatchObject({ nodes: [{ id: 1, up: true }], cuts: [] });
    expect(jsonOf(await act('{"do":"put","key":"x","value":"1","node":9}'))?.['message']).toBe('node: expected one of 1, got 9');
  });

  test('answers a malformed action with one sentence naming what was wrong', async () => {
    const cases: [string, string][] = [
      ['{"do":', 'the body is not valid JSON'],
      ['[1]', 'expected a scenario action, such as {"do": "crash", "node": 2}'],
      ['{"do":"explode"}', 'do: expected crash, restart, partition, cut, mend, heal, put, get, delete, enqueue, claim, ack, nack, snapshot or transfer, got "explode"'],
      ['{"do":"crash","node":7}', 'node: expected one of 1, got 7'],
      ['{"do":"put","key":"","value":"1"}', 'key: expected a non-empty string'],
      ['{"do":"partition","groups":"all"}', 'groups: expected lists of node ids'],
    ];
    for (const [body, message] of cases) {
      const response = await act(body);
      expect(response.status).toBe(400);
      expect(String(jsonOf(response)?.['message'])).toContain(message);
    }
    expect(cluster.isRunning(1)).toBe(true); // nothing was done
  });

  test('a write and a read on the real node, and the merged stream shows them on one clock', async () => {
    const events: Record<string, unknown>[] = [];
    const stream = await new Promise<import('node:http').IncomingMessage>((resolve) => get(`${base}/api/events?token=${TOKEN}`, resolve));
    stream.setEncoding('utf8');
    let buffer = '';
    stream.on('data', (chunk: string) => {
      buffer += chunk;
      for (let end; (end = buffer.indexOf('\n\n')) >= 0; buffer = buffer.slice(end + 2)) {
        const frame = buffer.slice(0, end);
        if (frame.startsWith('data: ')) events.push(JSON.parse(frame.slice(6)) as Record<string, unknown>);
      }
    });
    await expect.poll(() => events.some((e) => e['type'] === 'state' && e['node'] === 1)).toBe(true);
    // The node's own stream has begun, so its events reach this one.
    await expect.poll(async () => (jsonOf(await sendRequest(`${base}/api/cluster?token=${TOKEN}`)) as { nodes: { followed: boolean }[] }).nodes[0]!.followed).toBe(true);
    expect(jsonOf(await act('{"do":"put","key":"x","value":"1"}'))).toMatchObject({ ok: true, status: 200, node: 1 });
    expect(jsonOf(await act('{"do":"get","key":"x"}'))).toMatchObject({ ok: true, detail: { value: '1' } });
    await expect.poll(() => events.filter((e) => e['type'] === 'client').map((e) => e['op'])).toEqual(['put', 'get']);
    // The task queue too, as the page's queue controls ask it.
    expect(jsonOf(await act('{"do":"enqueue","queue":"jobs","payload":{"file":"a.png"}}'))).toMatchObject({ ok: true, status: 201, detail: { id: 1 } });
    expect(jsonOf(await act('{"do":"claim","queue":"jobs","worker":"w1","leaseMs":30000}'))).toMatchObject({ ok: true, detail: { id: 1, payload: { file: 'a.png' } } });
    expect(jsonOf(await act('{"do":"ack","queue":"jobs","task":1,"worker":"w1"}'))).toMatchObject({ ok: true, status: 200 });
    expect((await act('{"do":"ack","queue":"jobs","task":0}')).status).toBe(400);
    const client = events.find((e) => e['type'] === 'client')!;
    expect(client['nodeT']).toEqual(expect.any(Number)); // the node's own time, kept beside the control server's
    expect(events[0]).toMatchObject({ type: 'cluster', node: 0 });
    stream.destroy();
  });

  test('serves the page, and no file outside it', async () => {
    expect((await sendRequest(`${base}/`)).body).toContain('<title>page</title>');
    const outside = await sendRequest(`${base}/..%2F..%2Fpackage.json`);
    expect(outside.body).not.toContain('"name"');
    expect((await sendRequest(`${base}/%E0%A4%A`)).status).toBe(400);
  });
});
