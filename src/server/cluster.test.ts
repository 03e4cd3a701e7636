// Real node processes on loopback, real logs in temp directories, real kill -9: election, redirects, crash
// recovery with catch-up by InstallSnapshot, and a network partition made by proxies the test controls.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { ClusterClient, jsonOf, sendRequest } from './http-client.ts';
import { BIN_PATH, ProcessCluster, isPortFree, runCli, sleep } from './process-cluster.ts';

const FAST = { electionTimeoutMs: [300, 600] as const, heartbeatMs: 50, requestTimeoutMs: 2000 };
const clusters: ProcessCluster[] = [];
const directories: string[] = [];

afterEach(async () => {
  await Promise.all(clusters.splice(0).map((cluster) => cluster.stopAll()));
  for (const dir of directories.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function temporaryDirectory(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  directories.push(dir);
  return dir;
}

async function createCluster(options: Omit<Parameters<typeof ProcessCluster.create>[0], 'dir'>): Promise<ProcessCluster> {
  const cluster = await ProcessCluster.create({ ...FAST, ...options, dir: temporaryDirectory('raft-cluster-') });
  clusters.push(cluster);
  return cluster;
}

describe('raft-playground cluster', () => {
  test('starts 3 node processes that elect a leader and serve the CLI; Ctrl-C stops them all cleanly', async () => {
    // Raft on base+1..3 and HTTP on base+1001..1003: find a base where all six are free.
    let basePort = 0;
    for (let attempt = 0; attempt < 20 && basePort === 0; attempt++) {
      const candidate = 20_000 + Math.floor(Math.random() * 20_000);
      const ports = [1, 2, 3, 1001, 1002, 1003].map((offset) => candidate + offset);
      const free = await Promise.all(ports.map(isPortFree));
      if (free.every(Boolean)) basePort = candidate;
    }
    const dir = temporaryDirectory('raft-cluster-cmd-');
    const child = spawn(process.execPath, [BIN_PATH, 'cluster', '--dir', dir, '--base-port', String(basePort), '--log-level', 'error'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 40_000;
      while (!/S\d leads \(term \d+\)/.test(stdout)) {
        if (Date.now() > deadline) throw new Error(`no leader line from cluster: ${stdout}`);
        await sleep(50);
      }
      const endpoints = [1001, 1002, 1003].map((offset) => `http://127.0.0.1:${basePort + offset}`);
      expect(stdout).toContain(`S1  ${endpoints[0]}`);
      const flags = ['--endpoints', endpoints.join(',')];
      // A write through the first endpoint (a follower, most likely: it redirects), then a linearizable read on each.
      const put = await runCli('put', 'greeting', 'hello', '--endpoints', endpoints[0]!);
      expect(put).toMatchObject({ code: 0 });
      expect(JSON.parse(put.stdout)).toMatchObject({ index: expect.any(Number), term: expect.any(Number) });
      expect(await runCli('get', 'greeting', '--endpoints', endpoints[2]!)).toMatchObject({ code: 0, stdout: 'hello\n' });
      for (const endpoint of endpoints) expect(jsonOf(await sendRequest(`${endpoint}/kv/greeting`))).toEqual({ value: 'hello' });
      const missing = await runCli('get', 'nobody', ...flags);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toBe('raft-playground get: key "nobody" is not set\n');
      const status = await runCli('status', ...flags);
      expect(status.code).toBe(0);
      expect(status.stdout.split('\n')[0]).toMatch(/^node\s+role\s+term\s+leader\s+commit\s+applied\s+lag\s+endpoint$/);
      expect(status.stdout.match(/leader/g)!.length).toBeGreaterThanOrEqual(2); // the header and one leader row
      const usage = await runCli('put', 'only-a-key', ...flags);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toContain('Usage: raft-playground');
      // Ctrl-C: the terminal signals the whole process group.
      process.kill(-child.pid!, 'SIGINT');
      expect(await exited).toBe(0);
      expect(stdout).toContain('Cluster stopped.');
      for (const id of [1, 2, 3]) expect(existsSync(join(dir, `node-${id}`, 'LOCK'))).toBe(false);
      // The data stays: the next cluster on it still has the key (the log was closed cleanly).
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
  });
});

describe('a cluster of node processes', () => {
  test('a follower redirects writes to the leader (307, same path); kill -9 of the leader under load loses no acknowledged write, and the restarted node catches up by InstallSnapshot', async () => {
    const cluster = await createCluster({ nodes: 3, snapshotEvery: 20 });
    await cluster.startAll();
    const first = await cluster.waitForLeader();
    const follower = cluster.ids.find((id) => id !== first.id)!;
    const redirect = await sendRequest(`${cluster.endpoint(follower)}/kv/some%20key?x=1`, { method: 'PUT', body: JSON.stringify({ value: 'v' }) });
    expect(redirect.status).toBe(307);
    expect(redirect.headers.location).toBe(`${cluster.endpoint(first.id)}/kv/some%20key?x=1`);
    expect(jsonOf(redirect)).toMatchObject({ error: 'not_leader', leader: first.id });

    // Writers: each writes its own keys, once each, through any node; acknowledged keys are remembered.
    const acknowledged = new Map<string, string>();
    let running = true;
    const writer = async (name: string) => {
      const client = new ClusterClient(cluster.endpoints(), { deadlineMs: 6000, attemptTimeoutMs: 2500 });
      for (let n = 1; running; n++) {
        const key = `${name}-${n}`;
        const value = `value-${name}-${n}`;
        try {
          const response = await client.request(`/kv/${key}`, { method: 'PUT', body: JSON.stringify({ value }), headers: { 'idempotency-key': key } });
          if (response.status === 200) acknowledged.set(key, value);
        } catch {
          // no answer in time: not acknowledged
        }
      }
    };
    const writers = ['a', 'b', 'c', 'd'].map(writer);
    let beforeKill = 0;
    try {
      await sleep(700);
      beforeKill = acknowledged.size;
      await cluster.kill(first.id);
      const survivors = cluster.ids.filter((id) => id !== first.id);
      const second = await cluster.waitForLeader(survivors);
      expect(second.id).not.toBe(first.id);
      expect(second.term).toBeGreaterThan(first.term);
      // Keep writing under the new leader, long enough to compact past everything the old leader holds.
      const target = acknowledged.size + 200;
      const writesDeadline = Date.now() + 20_000;
      while (acknowledged.size < target) {
        if (Date.now() > writesDeadline) throw new Error(`only ${acknowledged.size} writes acknowledged, ${target} expected, under S${second.id}`);
        await sleep(50);
      }
    } finally {
      running = false;
      await Promise.all(writers);
    }
    expect(beforeKill).toBeGreaterThan(0);

    await cluster.start(first.id);
    const leaderStatus = (await cluster.status((await cluster.waitForLeader()).id))!;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const status = await cluster.status(first.id);
      if (status && status.lastApplied >= leaderStatus.commitIndex) break;
      if (Date.now() > deadline) throw new Error(`S${first.id} did not catch up: ${JSON.stringify(status)} vs ${JSON.stringify(leaderStatus)}`);
      await sleep(50);
    }
    const installed = cluster.logLines(first.id).filter((line) => line.includes('"event":"snapshot"') && line.includes('"phase":"installed"'));
    expect(installed.length).toBeGreaterThan(0);
    for (const [key, value] of acknowledged) {
      const stale = await sendRequest(`${cluster.endpoint(first.id)}/kv/${key}?stale=true`);
      expect({ key, status: stale.status, body: jsonOf(stale) }).toEqual({ key, status: 200, body: { value } });
    }
    // And the same through a linearizable read on the restarted node.
    const sample = [...acknowledged.keys()].slice(0, 5);
    for (const key of sample) expect(jsonOf(await sendRequest(`${cluster.endpoint(first.id)}/kv/${key}`))).toEqual({ value: acknowledged.get(key) });
  });

  test('a partition: the minority cannot commit, the majority elects a leader and commits, and healing converges', async () => {
    const cluster = await createCluster({ nodes: 3, proxies: true });
    await cluster.startAll();
    const old = await cluster.waitForLeader();
    const majority = cluster.ids.filter((id) => id !== old.id);
    cluster.partition([[old.id], majority]);

    // The old leader alone cannot commit: no answer in time, or no leader once CheckQuorum makes it step down.
    const minorityWrite = await sendRequest(`${cluster.endpoint(old.id)}/kv/minority`, { method: 'PUT', body: JSON.stringify({ value: 'lost' }), timeoutMs: 5000 });
    expect(minorityWrite.status).toBe(503);
    expect(['timeout', 'no_leader']).toContain(jsonOf(minorityWrite)!['error']);

    const fresh = await cluster.waitForLeader(majority);
    expect(fresh.term).toBeGreaterThan(old.term);
    const majorityWrite = await sendRequest(`${cluster.endpoint(fresh.id)}/kv/majority`, { method: 'PUT', body: JSON.stringify({ value: 'kept' }) });
    expect(majorityWrite.status).toBe(200);
    const other = majority.find((id) => id !== fresh.id)!;
    expect(jsonOf(await sendRequest(`${cluster.endpoint(other)}/kv/majority`))).toEqual({ value: 'kept' });
    const isolated = (await cluster.status(old.id))!;
    expect(isolated.commitIndex).toBeLessThan((jsonOf(majorityWrite)!['index'] as number));

    cluster.heal();
    const healed = await cluster.waitForLeader(cluster.ids);
    const leaderStatus = (await cluster.status(healed.id))!;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const statuses = await Promise.all(cluster.ids.map((id) => cluster.status(id)));
      if (statuses.every((status) => status !== null && status.lastApplied >= leaderStatus.commitIndex)) break;
      if (Date.now() > deadline) throw new Error(`the cluster did not converge: ${JSON.stringify(statuses)}`);
      await sleep(50);
    }
    for (const id of cluster.ids) {
      expect(jsonOf(await sendRequest(`${cluster.endpoint(id)}/kv/majority?stale=true`))).toEqual({ value: 'kept' });
      expect((await sendRequest(`${cluster.endpoint(id)}/kv/minority?stale=true`)).status).toBe(404);
    }
  });
});
