// A real node's trace as Server-Sent Events (SPEC §9): a viewer starts from the node's state and then sees each
// decision as the simulator would trace it; the stream has a bound on viewers; and a viewer that stops reading
// is cut off, with the reason logged, while the node goes on serving at full speed.
import { mkdtempSync, rmSync } from 'node:fs';
import { get, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { HttpApi } from './http-api.ts';
import { sendRequest } from './http-client.ts';
import { createLogger, SILENT_LOGGER } from './logger.ts';
import { NodeHost } from './node-host.ts';
import { freePorts, sleep } from './process-cluster.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

async function singleNode(options: { viewersMax?: number; viewerBacklogBytesMax?: number; logged?: string[] } = {}) {
  const [raftPort, httpPort] = await freePorts(2);
  const dir = mkdtempSync(join(tmpdir(), 'events-'));
  dirs.push(dir);
  const logger = options.logged
    ? createLogger('warn', (line) => void options.logged!.push(line))
    : SILENT_LOGGER;
  const peers = [{ id: 1, raft: { host: '127.0.0.1', port: raftPort! }, http: { host: '127.0.0.1', port: httpPort! } }];
  const node = new NodeHost({ id: 1, peers, dataDir: join(dir, 'node-1'), cluster: 'events-test', logger: SILENT_LOGGER, raft: { electionTimeoutMs: [100, 200], heartbeatMs: 20 } });
  await node.start();
  const api = new HttpApi({ node, listen: peers[0]!.http, logger, ...options });
  await api.start();
  const url = `http://127.0.0.1:${httpPort}`;
  for (let i = 0; i < 500 && node.status().role !== 'leader'; i++) await sleep(10);
  return { node, api, url, stop: async () => (await api.stop(), await node.stop()) };
}

/** Reads a stream's events as they come; `response` is there to pause it. */
function viewer(url: string): Promise<{ events: Record<string, unknown>[]; response: IncomingMessage; status: number; text: () => string }> {
  return new Promise((resolve, reject) => {
    get(`${url}/events`, (response) => {
      const events: Record<string, unknown>[] = [];
      let buffer = '';
      let all = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        all += chunk;
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (frame.startsWith('data: ')) events.push(JSON.parse(frame.slice(6)) as Record<string, unknown>);
        }
      });
      response.on('error', () => {});
      resolve({ events, response, status: response.statusCode ?? 0, text: () => all });
    }).on('error', reject);
  });
}

const put = (url: string, key: string, value: string) => sendRequest(`${url}/kv/${key}`, { method: 'PUT', body: JSON.stringify({ value }) });

describe('GET /events', () => {
  test('starts with the node\'s state, then traces a write as the simulator would: proposed, committed, applied, answered', async () => {
    const node = await singleNode();
    try {
      const stream = await viewer(node.url);
      expect(stream.response.headers['content-type']).toMatch(/^text\/event-stream/);
      await expect.poll(() => stream.events.length).toBeGreaterThan(0);
      expect(stream.events[0]).toMatchObject({ type: 'state', node: 1, role: 'leader', term: expect.any(Number), commitIndex: expect.any(Number) });
      expect((await put(node.url, 'x', '1')).status).toBe(200);
      await expect.poll(() => stream.events.map((e) => e.type)).toEqual(expect.arrayContaining(['propose', 'commit', 'apply', 'client']));
      const client = stream.events.find((e) => e.type === 'client')!;
      expect(client).toMatchObject({ node: 1, op: 'put', outcome: 'done', index: expect.any(Number) });
      for (const event of stream.events) expect(event['t']).toEqual(expect.any(Number));
      stream.response.destroy();
    } finally {
      await node.stop();
    }
  });

  test('streams to at most viewersMax viewers, and says so to the next', async () => {
    const node = await singleNode({ viewersMax: 2 });
    try {
      const first = await viewer(node.url);
      const second = await viewer(node.url);
      const third = await viewer(node.url);
      expect([first.status, second.status, third.status]).toEqual([200, 200, 503]);
      await expect.poll(() => third.text()).toContain('"message":"S1 already streams to 2 viewers, its most"');
      first.response.destroy();
      await expect.poll(() => node.api.events.viewerCount).toBe(1);
      const fourth = await viewer(node.url);
      expect(fourth.status).toBe(200);
      second.response.destroy();
      fourth.response.destroy();
    } finally {
      await node.stop();
    }
  });

  test('a viewer that stops reading is cut off, with the reason logged, and the node keeps serving', async () => {
    const logged: string[] = [];
    const node = await singleNode({ viewerBacklogBytesMax: 512 * 1024, logged });
    try {
      const stalled = await viewer(node.url);
      stalled.response.pause(); // reads nothing more: the socket's buffers fill, then the node's backlog grows
      stalled.response.socket.pause();
      const reading = await viewer(node.url);
      // Each read's answer carries the value, so each adds 60 kB to the stream: the stalled socket's buffers
      // fill within a few hundred reads, then the backlog passes its bound.
      expect((await put(node.url, 'big', 'v'.repeat(60_000))).status).toBe(200);
      let reads = 0;
      const reader = async () => {
        while (node.api.events.cutOff === 0 && reads < 5000) {
          expect((await sendRequest(`${node.url}/kv/big`)).status).toBe(200);
          reads++;
        }
      };
      await Promise.all(Array.from({ length: 8 }, reader));
      expect(node.api.events.cutOff).toBe(1);
      expect(node.api.events.viewerCount).toBe(1); // the one that reads is still there
      expect(logged.join('')).toMatch(/S1 cut off an event viewer at 127\.0\.0\.1:\d+: it fell \d+ bytes behind \(the most is 524288\)/);
      // The node goes on: more writes, and the reading viewer sees them.
      const before = reading.events.length;
      for (let i = 0; i < 20; i++) expect((await put(node.url, 'after', String(i))).status).toBe(200);
      await expect.poll(() => reading.events.length).toBeGreaterThan(before);
      reading.response.destroy();
    } finally {
      await node.stop();
    }
  }, 60_000);
});
