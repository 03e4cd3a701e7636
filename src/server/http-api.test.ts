// The HTTP API (SPEC §5) of an in-process NodeHost on real sockets and a real log in a temp directory: status
// codes, JSON errors, limits, idempotency, and a restart from the log.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HttpApi } from './http-api.ts';
import { jsonOf, sendRequest, type HttpResponse } from './http-client.ts';
import { SILENT_LOGGER } from './logger.ts';
import { NodeHost } from './node-host.ts';
import type { PeerSpec } from './peers.ts';
import { freePorts, sleep } from './process-cluster.ts';

const directories: string[] = [];
afterAll(() => {
  for (const dir of directories.splice(0)) rmSync(join(dir, '..'), { recursive: true, force: true });
});

interface Running {
  readonly node: NodeHost;
  readonly api: HttpApi;
  readonly url: string;
}

async function startNode(peers: PeerSpec[], id: number, dataDir: string): Promise<Running> {
  const node = new NodeHost({
    id,
    peers,
    dataDir,
    cluster: 'http-test',
    logger: SILENT_LOGGER,
    raft: { electionTimeoutMs: [100, 200], heartbeatMs: 20 },
    requestTimeoutMs: 1000,
  });
  await node.start();
  const api = new HttpApi({ node, listen: peers.find((peer) => peer.id === id)!.http!, logger: SILENT_LOGGER, bodyBytesMax: 64 * 1024 });
  await api.start();
  return { node, api, url: `http://127.0.0.1:${api.address().port}` };
}

async function stopNode(running: Running): Promise<void> {
  await running.api.stop();
  await running.node.stop();
}

async function waitUntilLeader(running: Running): Promise<void> {
  const deadline = Date.now() + 5000;
  while (running.node.status().role !== 'leader') {
    if (Date.now() > deadline) throw new Error('the single node did not become leader');
    await sleep(10);
  }
}

function call(url: string, method: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResponse> {
  return sendRequest(url, { method, headers, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
}

/** Sends raw bytes and returns what comes back before the server closes the connection. */
function rawExchange(port: number, bytes: string | Buffer, endAfterWrite = false): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('utf8')));
    socket.on('error', () => {});
    socket.on('close', () => resolve(received));
    socket.write(bytes, () => {
      if (endAfterWrite) socket.end();
    });
    setTimeout(() => socket.destroy(), 3000);
  });
}

describe('HTTP API of one node', () => {
  let single: Running;
  let dataDir: string;
  let peers: PeerSpec[];

  beforeAll(async () => {
    const [raftPort, httpPort] = await freePorts(2);
    peers = [{ id: 1, raft: { host: '127.0.0.1', port: raftPort! }, http: { host: '127.0.0.1', port: httpPort! } }];
    dataDir = join(mkdtempSync(join(tmpdir(), 'raft-http-')), 'node-1');
    directories.push(dataDir);
    single = await startNode(peers, 1, dataDir);
    await waitUntilLeader(single);
  });

  afterAll(async () => {
    await stopNode(single);
  });

  test('GET /status describes the node', async () => {
    const response = await call(`${single.url}/status`, 'GET');
    expect(response.status).toBe(200);
    const status = jsonOf(response)!;
    expect(Object.keys(status)).toEqual(['id', 'role', 'term', 'leader', 'commitIndex', 'lastApplied', 'lastLogIndex', 'snapshotIndex', 'peers']);
    expect(status).toMatchObject({ id: 1, role: 'leader', leader: 1 });
  });

  test('key-value writes answer after commit with {index, term}; reads are linearizable or, with ?stale=true, local', async () => {
    const put = await call(`${single.url}/kv/colour`, 'PUT', { value: 'blue' });
    expect(put.status).toBe(200);
    const { index, term } = jsonOf(put)!;
    expect(index).toBeGreaterThan(0);
    expect(term).toBeGreaterThan(0);
    expect(jsonOf(await call(`${single.url}/kv/colour`, 'GET'))).toEqual({ value: 'blue' });
    expect(jsonOf(await call(`${single.url}/kv/colour?stale=true`, 'GET'))).toEqual({ value: 'blue' });
    const missing = await call(`${single.url}/kv/nothing-here`, 'GET');
    expect(missing.status).toBe(404);
    expect(jsonOf(missing)).toMatchObject({ error: 'not_found' });
    const cas = await call(`${single.url}/kv/colour/cas`, 'POST', { from: 'red', to: 'green' });
    expect(cas.status).toBe(409);
    expect(jsonOf(cas)).toMatchObject({ error: 'cas_mismatch', value: 'blue' });
    expect((await call(`${single.url}/kv/colour/cas`, 'POST', { from: 'blue', to: 'green' })).status).toBe(200);
    const deleted = await call(`${single.url}/kv/colour`, 'DELETE');
    expect(deleted.status).toBe(200);
    expect(jsonOf(deleted)).toMatchObject({ existed: true });
    expect((await call(`${single.url}/kv/colour`, 'GET')).status).toBe(404);
    // A key with a slash travels percent-encoded.
    expect((await call(`${single.url}/kv/${encodeURIComponent('a/b')}`, 'PUT', { value: 'slash' })).status).toBe(200);
    expect(jsonOf(await call(`${single.url}/kv/a%2Fb`, 'GET'))).toEqual({ value: 'slash' });
  });

  test('task queues: 201 on enqueue, 200 or 204 on claim, ack and nack, counts', async () => {
    const enqueued = await call(`${single.url}/queues/jobs/tasks`, 'POST', { payload: { n: 1 } });
    expect(enqueued.status).toBe(201);
    const { id } = jsonOf(enqueued)!;
    const claimed = await call(`${single.url}/queues/jobs/claim`, 'POST', { worker: 'w1', leaseMs: 30_000 });
    expect(claimed.status).toBe(200);
    expect(jsonOf(claimed)).toMatchObject({ id, payload: { n: 1 }, attempt: 1 });
    expect(typeof jsonOf(claimed)!['leaseExpiresAt']).toBe('number');
    const empty = await call(`${single.url}/queues/jobs/claim`, 'POST', { worker: 'w2' });
    expect(empty.status).toBe(204);
    expect(empty.body).toBe('');
    expect((await call(`${single.url}/queues/jobs/tasks/${String(id)}/ack`, 'POST', { worker: 'w1' })).status).toBe(200);
    const again = await call(`${single.url}/queues/jobs/tasks/${String(id)}/ack`, 'POST');
    expect(again.status).toBe(409);
    expect(jsonOf(again)).toMatchObject({ error: 'already_done' });
    expect((await call(`${single.url}/queues/jobs/tasks/999/nack`, 'POST')).status).toBe(404);
    const second = jsonOf(await call(`${single.url}/queues/jobs/tasks`, 'POST', { payload: 'two' }))!;
    await call(`${single.url}/queues/jobs/claim`, 'POST', { worker: 'w1' });
    const nack = await call(`${single.url}/queues/jobs/tasks/${String(second['id'])}/nack`, 'POST', { worker: 'w1' });
    expect(nack.status).toBe(200);
    expect(jsonOf(nack)).toMatchObject({ outcome: 'retry', attempts: 1 });
    const stats = await call(`${single.url}/queues/jobs`, 'GET');
    expect(stats.status).toBe(200);
    expect(jsonOf(stats)).toEqual({ pending: 1, claimed: 0, done: 1, dead: 0 });
    expect(jsonOf(await call(`${single.url}/queues/unknown-queue?stale=true`, 'GET'))).toEqual({ pending: 0, claimed: 0, done: 0, dead: 0 });
  });

  test('a retried write with the same Idempotency-Key returns the first result and applies once', async () => {
    const headers = { 'idempotency-key': 'retry-me-1' };
    const first = await call(`${single.url}/kv/counter`, 'PUT', { value: 'one' }, headers);
    expect(first.status).toBe(200);
    await call(`${single.url}/kv/counter`, 'PUT', { value: 'two' });
    const retry = await call(`${single.url}/kv/counter`, 'PUT', { value: 'one' }, headers);
    expect(retry.status).toBe(200);
    expect(jsonOf(await call(`${single.url}/kv/counter`, 'GET'))).toEqual({ value: 'two' });
    const enqueueHeaders = { 'idempotency-key': 'enqueue-once' };
    const task = jsonOf(await call(`${single.url}/queues/once/tasks`, 'POST', { payload: 1 }, enqueueHeaders))!;
    const retried = jsonOf(await call(`${single.url}/queues/once/tasks`, 'POST', { payload: 1 }, enqueueHeaders))!;
    expect(retried['id']).toBe(task['id']);
    expect(jsonOf(await call(`${single.url}/queues/once`, 'GET'))).toMatchObject({ pending: 1 });
    // The same key on a different write is a different request: it is applied, not answered with the first result.
    expect((await call(`${single.url}/kv/other`, 'PUT', { value: 'reused' }, headers)).status).toBe(200);
    expect(jsonOf(await call(`${single.url}/kv/other`, 'GET'))).toEqual({ value: 'reused' });
    expect((await call(`${single.url}/kv/counter`, 'DELETE', undefined, headers)).status).toBe(200);
    expect((await call(`${single.url}/kv/counter`, 'GET')).status).toBe(404);
    const bad = await call(`${single.url}/kv/counter`, 'PUT', { value: 'x' }, { 'idempotency-key': 'x'.repeat(300) });
    expect(bad.status).toBe(400);
    expect(jsonOf(bad)).toMatchObject({ error: 'invalid_idempotency_key' });
  });

  test('malformed bodies, bad fields, unknown routes and wrong methods get JSON 4xx with one sentence', async () => {
    const cases: [string, string, unknown, number, string][] = [
      ['PUT', '/kv/a', '{"value": ', 400, 'malformed_json'],
      ['PUT', '/kv/a', '[1, 2]', 400, 'malformed_json'],
      ['PUT', '/kv/a', '', 400, 'malformed_json'],
      ['PUT', '/kv/a', { value: 7 }, 400, 'invalid_field'],
      ['PUT', '/kv/a', { value: 'v', extra: true }, 400, 'invalid_field'],
      ['PUT', '/kv/a', { value: 'x'.repeat(70_000) }, 413, 'body_too_large'],
      ['POST', '/kv/a/cas', { from: 'a' }, 400, 'invalid_field'],
      ['POST', '/queues/q/claim', { worker: 'w', leaseMs: -5 }, 400, 'invalid_field'],
      ['POST', '/queues/q/tasks', {}, 400, 'invalid_field'],
      ['POST', '/queues/q/tasks/abc/ack', undefined, 404, 'not_found'],
      ['GET', '/nowhere', undefined, 404, 'not_found'],
      ['GET', '/kv', undefined, 404, 'not_found'],
      ['GET', '/kv/a/b', undefined, 404, 'not_found'],
      ['GET', '/kv/%E0%A4%A', undefined, 400, 'bad_request'],
      ['GET', '/kv/a?stale=maybe', undefined, 400, 'invalid_query'],
      ['PATCH', '/kv/a', undefined, 405, 'method_not_allowed'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const response = await call(`${single.url}${path}`, method, body);
      expect({ method, path, status: response.status }).toEqual({ method, path, status });
      expect(response.headers['content-type']).toBe('application/json');
      const json = jsonOf(response)!;
      expect(json['error']).toBe(code);
      expect(json['message']).toMatch(/^[^\n]+$/);
      expect(response.body).not.toMatch(/\bat .*\.ts:\d+/); // never a stack trace
    }
  });

  test('an oversized body is refused with 413 without reading it, and the node keeps serving', async () => {
    const port = Number(new URL(single.url).port);
    // Declared too large: answered at once, before the body is sent.
    const declared = await rawExchange(port, 'PUT /kv/big HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 10000000\r\n\r\n');
    expect(declared).toMatch(/^HTTP\/1.1 413 /);
    expect(declared).toContain('"error":"body_too_large"');
    // Chunked with no declared length: cut off once past the limit.
    const chunk = 'x'.repeat(32 * 1024);
    const chunks = Array.from({ length: 4 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('');
    const streamed = await rawExchange(port, `PUT /kv/big HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n${chunks}`);
    expect(streamed).toMatch(/^HTTP\/1.1 413 /);
    expect((await call(`${single.url}/status`, 'GET')).status).toBe(200);
  });

  test('malformed HTTP gets a JSON 400 and a closed connection', async () => {
    const port = Number(new URL(single.url).port);
    const answer = await rawExchange(port, 'THIS IS NOT HTTP\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1.1 400 /);
    expect(answer).toContain('"error":"bad_request"');
    expect((await call(`${single.url}/status`, 'GET')).status).toBe(200);
  });

  test('GET /metrics is Prometheus text with the role, term, indexes, proposals, messages and fsync latency', async () => {
    const response = await call(`${single.url}/metrics`, 'GET');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain; version=0.0.4');
    for (const name of [
      'raft_role{role="leader"} 1',
      'raft_term ',
      'raft_commit_index ',
      'raft_applied_index ',
      'raft_proposals_total ',
      'raft_messages_sent_total ',
      'raft_messages_received_total ',
      'raft_fsync_duration_seconds_bucket{le="+Inf"} ',
      'raft_fsync_duration_seconds_count ',
      '# TYPE raft_fsync_duration_seconds histogram',
    ]) {
      expect(response.body).toContain(name);
    }
    expect(Number(/raft_fsync_duration_seconds_count (\d+)/.exec(response.body)![1])).toBeGreaterThan(0);
  });

  test('admin: a snapshot compacts the log; a transfer with no other voter is refused with 409', async () => {
    const snapshot = await call(`${single.url}/admin/snapshot`, 'POST');
    expect(snapshot.status).toBe(200);
    expect(jsonOf(snapshot)).toMatchObject({ id: 1, taken: true });
    expect(jsonOf(snapshot)!['snapshotIndex']).toBe(single.node.status().lastApplied);
    const transfer = await call(`${single.url}/admin/transfer`, 'POST', {});
    expect(transfer.status).toBe(409);
    expect(jsonOf(transfer)).toMatchObject({ error: 'transfer_refused' });
  });

  test('a restarted node recovers its state from the log and snapshot on disk', async () => {
    await call(`${single.url}/kv/durable`, 'PUT', { value: 'kept' });
    await stopNode(single);
    single = await startNode(peers, 1, dataDir);
    await waitUntilLeader(single);
    expect(jsonOf(await call(`${single.url}/kv/durable`, 'GET'))).toEqual({ value: 'kept' });
    expect(jsonOf(await call(`${single.url}/kv/a%2Fb`, 'GET'))).toEqual({ value: 'slash' });
    expect(jsonOf(await call(`${single.url}/queues/jobs`, 'GET'))).toMatchObject({ done: 1 });
  });
});

describe('HTTP API without a leader', () => {
  test('a node that knows no leader answers 503 {"error":"no_leader"} with Retry-After, and still serves /status', async () => {
    const ports = await freePorts(6);
    const peers: PeerSpec[] = [1, 2, 3].map((id, i) => ({ id, raft: { host: '127.0.0.1', port: ports[2 * i]! }, http: { host: '127.0.0.1', port: ports[2 * i + 1]! } }));
    const dataDir = join(mkdtempSync(join(tmpdir(), 'raft-http-')), 'node-1');
    directories.push(dataDir);
    const alone = await startNode(peers, 1, dataDir);
    try {
      for (const [method, path, body] of [
        ['PUT', '/kv/a', { value: 'v' }],
        ['GET', '/kv/a', undefined],
        ['POST', '/queues/q/tasks', { payload: 1 }],
      ] as const) {
        const response = await call(`${alone.url}${path}`, method, body);
        expect(response.status).toBe(503);
        expect(response.headers['retry-after']).toBe('1');
        expect(jsonOf(response)).toMatchObject({ error: 'no_leader' });
      }
      expect(jsonOf(await call(`${alone.url}/status`, 'GET'))).toMatchObject({ id: 1, leader: 0 });
    } finally {
      await stopNode(alone);
    }
  });
});
