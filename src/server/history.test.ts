// Concurrent clients against real node processes through a kill -9 and a partition: the key-value history must be
// linearizable (src/check) and the task queue must neither lose an acknowledged task nor hand one out twice.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { checkKvHistory, type KvOperation, type KvOperationResult } from '../check/kv-linearizability.ts';
import { checkQueueHistory, type QueueOperation, type QueueOperationResult } from '../check/queue-guarantees.ts';
import { ClusterClient, jsonOf, type HttpResponse } from './http-client.ts';
import { wallClockMs } from './node-host.ts';
import { ProcessCluster, sleep } from './process-cluster.ts';

const clusters: ProcessCluster[] = [];
const directories: string[] = [];
afterEach(async () => {
  await Promise.all(clusters.splice(0).map((cluster) => cluster.stopAll()));
  for (const dir of directories.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const QUEUE = 'jobs';
const KEYS = ['x', 'y', 'z'];

type Step =
  | { readonly kind: 'kv'; readonly op: KvOperation['op']; readonly key: string; readonly value?: string; readonly from?: string }
  | { readonly kind: 'queue'; readonly op: QueueOperation['op']; readonly task?: number; readonly payload?: string; readonly leaseMs?: number };

/** Deterministic enough: a small LCG per client, so a failure's mix can be read from the seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

test('clients through a kill -9 and a partition: a linearizable key-value history; queued tasks neither lost nor completed twice', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'raft-history-'));
  directories.push(dir);
  const cluster = await ProcessCluster.create({
    nodes: 3,
    dir,
    proxies: true,
    snapshotEvery: 50,
    electionTimeoutMs: [300, 600],
    heartbeatMs: 50,
    requestTimeoutMs: 1500,
  });
  clusters.push(cluster);
  await cluster.startAll();
  await cluster.waitForLeader();

  const kvHistory: KvOperation[] = [];
  const queueHistory: QueueOperation[] = [];
  const unexpected: string[] = [];
  const lastSeen = new Map<string, string>();
  let running = true;

  const runClient = async (name: string, seed: number) => {
    const next = random(seed);
    const client = new ClusterClient(cluster.endpoints(), { deadlineMs: 3000, attemptTimeoutMs: 2000 });
    let held: number | null = null;
    let values = 0;
    while (running) {
      const roll = next();
      let step: Step;
      if (held !== null) step = { kind: 'queue', op: roll < 0.75 ? 'ack' : 'nack', task: held };
      else if (roll < 0.3) step = { kind: 'kv', op: 'get', key: KEYS[Math.floor(next() * KEYS.length)]! };
      else if (roll < 0.55) step = { kind: 'kv', op: 'put', key: KEYS[Math.floor(next() * KEYS.length)]!, value: `${name}-${++values}` };
      else if (roll < 0.62) {
        const key = KEYS[Math.floor(next() * KEYS.length)]!;
        step = { kind: 'kv', op: 'cas', key, from: lastSeen.get(key) ?? '', value: `${name}-${++values}` };
      } else if (roll < 0.66) step = { kind: 'kv', op: 'delete', key: KEYS[Math.floor(next() * KEYS.length)]! };
      else if (roll < 0.8) step = { kind: 'queue', op: 'enqueue', payload: `${name}-task-${++values}` };
      else if (roll < 0.95) step = { kind: 'queue', op: 'claim', leaseMs: 1000 + Math.floor(next() * 1000) };
      else step = { kind: 'queue', op: 'stats' };
      const outcome = await perform(client, name, step);
      if (outcome.status !== null && !outcome.known) unexpected.push(`${name} ${step.op}: ${outcome.status} ${outcome.body}`);
      if (step.kind === 'kv') {
        const base = { client: name, key: step.key, callMs: outcome.callMs, returnMs: outcome.known ? outcome.returnMs : Infinity };
        const result = outcome.known ? (outcome.result as KvOperationResult) : undefined;
        const operation: KvOperation = { ...base, op: step.op, ...(step.op === 'put' ? { value: step.value! } : {}), ...(step.op === 'cas' ? { from: step.from!, to: step.value! } : {}), ...(result ? { result } : {}) };
        kvHistory.push(operation);
        if (result?.ok && step.op === 'get' && typeof result.value === 'string') lastSeen.set(step.key, result.value);
        if (result?.ok && step.op === 'put') lastSeen.set(step.key, step.value!);
      } else {
        const result = outcome.known ? (outcome.result as QueueOperationResult) : undefined;
        queueHistory.push({
          client: name,
          op: step.op,
          queue: QUEUE,
          callMs: outcome.callMs,
          returnMs: outcome.known ? outcome.returnMs : Infinity,
          ...(step.task !== undefined ? { task: step.task } : {}),
          ...(step.payload !== undefined ? { payload: step.payload } : {}),
          ...(step.op === 'claim' ? { worker: name, leaseMs: step.leaseMs! } : {}),
          ...(result ? { result } : {}),
        });
        if (step.op === 'claim' && result?.ok && !result.empty && result.id !== undefined) held = result.id;
        if (step.op === 'ack' || step.op === 'nack') held = null;
      }
    }
  };

  const clients = Array.from({ length: 5 }, (_, i) => runClient(`c${i + 1}`, 1000 + i));
  try {
    // The faults, in order: kill -9 the leader and restart it; then cut the (new) leader off and heal.
    await sleep(1500);
    const first = await cluster.waitForLeader();
    await cluster.kill(first.id);
    await sleep(1500);
    await cluster.start(first.id);
    await sleep(500);
    const second = await cluster.waitForLeader();
    cluster.partition([[second.id], cluster.ids.filter((id) => id !== second.id)]);
    await sleep(2000);
    cluster.heal();
    await sleep(1500);
  } finally {
    running = false;
    await Promise.all(clients);
  }
  // A last stats read after everything settled counts every acknowledged task.
  const settled = new ClusterClient(cluster.endpoints(), { deadlineMs: 10_000 });
  const callMs = wallClockMs();
  const stats = await settled.request(`/queues/${QUEUE}`);
  queueHistory.push({ client: 'final', op: 'stats', queue: QUEUE, callMs, returnMs: wallClockMs(), result: { ok: true, ...(jsonOf(stats) as object) } });

  expect(unexpected).toEqual([]);
  const completed = kvHistory.filter((op) => op.returnMs !== Infinity).length;
  expect(completed).toBeGreaterThan(50);
  const kv = checkKvHistory(kvHistory);
  expect(kv.explanation ?? '').toBe('');
  expect(kv.verdict).toBe('linearizable');
  const queue = checkQueueHistory(queueHistory);
  expect(queue.problems).toEqual([]);
  expect(queue.acks).toBeGreaterThan(0);
  // No task completed twice: every successful ack names a distinct task.
  const acked = queueHistory.filter((op) => op.op === 'ack' && op.result?.ok === true).map((op) => op.task);
  expect(new Set(acked).size).toBe(acked.length);
  expect((jsonOf(stats)!['done'] as number) >= acked.length).toBe(true);
}, 60_000);

interface Outcome {
  readonly callMs: number;
  readonly returnMs: number;
  /** Whether the result is definite (false: the operation may or may not have taken effect). */
  readonly known: boolean;
  readonly result: unknown;
  /** The last HTTP status seen, for reporting answers the test does not expect. */
  readonly status: number | null;
  readonly body: string;
}

/** One operation, retried through any node under one Idempotency-Key until it has a definite answer or time runs out. */
async function perform(client: ClusterClient, name: string, step: Step): Promise<Outcome> {
  const callMs = wallClockMs();
  const key = `${name}-${randomUUID()}`;
  let response: HttpResponse;
  try {
    response = await client.request(...requestOf(step, name, key));
  } catch {
    return { callMs, returnMs: Infinity, known: false, result: undefined, status: null, body: '' };
  }
  const returnMs = wallClockMs();
  const body = jsonOf(response) ?? {};
  const known = (result: unknown): Outcome => ({ callMs, returnMs, known: true, result, status: response.status, body: response.body });
  const status = response.status;
  switch (step.op) {
    case 'get':
      if (status === 200) return known({ ok: true, value: body['value'] });
      if (status === 404) return known({ ok: false, error: 'not_found' });
      break;
    case 'put':
      if (status === 200) return known({ ok: true });
      break;
    case 'delete':
      if (status === 200) return known({ ok: true, existed: body['existed'] });
      break;
    case 'cas':
      if (status === 200) return known({ ok: true });
      if (status === 409 && body['error'] === 'cas_mismatch') return known({ ok: false, error: 'cas_mismatch', value: body['value'] });
      break;
    case 'enqueue':
      if (status === 201) return known({ ok: true, id: body['id'] });
      break;
    case 'claim':
      if (status === 204) return known({ ok: true, empty: true });
      if (status === 200) return known({ ok: true, empty: false, ...body });
      break;
    case 'ack':
    case 'nack':
      if (status === 200) return known({ ok: true });
      if (status === 409 || status === 404) return known({ ok: false, error: body['error'] });
      break;
    case 'stats':
      if (status === 200) return known({ ok: true, ...body });
      break;
  }
  return { callMs, returnMs: Infinity, known: false, result: undefined, status, body: response.body };
}

function requestOf(step: Step, name: string, idempotencyKey: string): [string, { method: string; body?: string; headers?: Record<string, string> }] {
  const headers = { 'idempotency-key': idempotencyKey };
  const json = (value: unknown) => JSON.stringify(value);
  if (step.kind === 'kv') {
    const path = `/kv/${step.key}`;
    switch (step.op) {
      case 'get':
        return [path, { method: 'GET' }];
      case 'put':
        return [path, { method: 'PUT', body: json({ value: step.value }), headers }];
      case 'delete':
        return [path, { method: 'DELETE', headers }];
      case 'cas':
        return [`${path}/cas`, { method: 'POST', body: json({ from: step.from, to: step.value }), headers }];
    }
  }
  switch (step.op) {
    case 'enqueue':
      return [`/queues/${QUEUE}/tasks`, { method: 'POST', body: json({ payload: step.payload }), headers }];
    case 'claim':
      return [`/queues/${QUEUE}/claim`, { method: 'POST', body: json({ worker: name, leaseMs: step.leaseMs }), headers }];
    case 'ack':
    case 'nack':
      return [`/queues/${QUEUE}/tasks/${step.task}/${step.op}`, { method: 'POST', body: json({ worker: name }), headers }];
    default:
      return [`/queues/${QUEUE}`, { method: 'GET' }];
  }
}
