// One forged message must not stop a cluster (issue 16). A heartbeat "from the leader" with term 2^53 - 1 once
// put every node of a default cluster at that term, and no election could follow, even after restarts. Now the
// default `raft-playground cluster` authenticates its peers, so the forger cannot even speak; and a cluster run
// without a secret refuses a term past TERM_MAX in the codec and a term absurdly far ahead in the host, logged,
// and goes on electing and serving.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { Heartbeat } from '../core/types.ts';
import { DEFAULT_CLUSTER_NAME } from '../cli/node-command.ts';
import { jsonOf, sendRequest } from './http-client.ts';
import { SILENT_LOGGER } from './logger.ts';
import { NodeHost, TERM_JUMP_MAX } from './node-host.ts';
import { DiskStorage } from './storage/disk-storage.ts';
import { BIN_PATH, freePorts, isPortFree, ProcessCluster, sleep } from './process-cluster.ts';
import { Transport } from './transport/transport.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Speak as node `as` to the node at `raft`, with no secret, and send heartbeats of `term`; returns what the forger's transport logged. */
async function forge(as: number, to: number, raft: { host: string; port: number }, cluster: string, term: number): Promise<string> {
  const [port] = await freePorts(1);
  const logged: string[] = [];
  const log = (_level: string, message: string, fields?: Record<string, unknown>) => void logged.push(`${message} ${JSON.stringify(fields ?? {})}`);
  const transport = new Transport({ id: as, cluster, listen: { host: '127.0.0.1', port: port! }, peers: new Map([[to, raft]]), secret: null, onMessage: () => {}, log });
  await transport.start();
  const heartbeat: Heartbeat = { type: 'Heartbeat', from: as, to, term, leaderCommit: 0, round: 1 };
  for (let i = 0; i < 20; i++) {
    transport.send(heartbeat);
    await sleep(50);
  }
  await transport.stop();
  return logged.join('\n');
}

async function terms(endpoints: readonly string[]): Promise<number[]> {
  return Promise.all(endpoints.map(async (endpoint) => (jsonOf(await sendRequest(`${endpoint}/status`, { timeoutMs: 2000 })) as { term: number }).term));
}

async function leaderServes(endpoints: readonly string[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    for (const endpoint of endpoints) {
      const put = await sendRequest(`${endpoint}/kv/after`, { method: 'PUT', body: JSON.stringify({ value: 'still serving' }), timeoutMs: 2000 }).catch(() => null);
      if (put?.status === 200) return;
    }
    if (Date.now() > deadline) throw new Error('no node took a write within 20 s');
    await sleep(100);
  }
}

describe('a forged term', () => {
  test('a default cluster authenticates its peers: the forged heartbeat of term 2^53 - 1 never reaches a node', async () => {
    let basePort = 0;
    for (let attempt = 0; attempt < 20 && basePort === 0; attempt++) {
      const candidate = 20_000 + Math.floor(Math.random() * 10_000);
      if ((await Promise.all([1, 2, 3, 1001, 1002, 1003].map((offset) => isPortFree(candidate + offset)))).every(Boolean)) basePort = candidate;
    }
    const dir = mkdtempSync(join(tmpdir(), 'forged-default-'));
    dirs.push(dir);
    const child = spawn(process.execPath, [BIN_PATH, 'cluster', '--dir', dir, '--base-port', String(basePort), '--log-level', 'error'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    const exited = new Promise((done) => child.on('exit', done));
    try {
      const deadline = Date.now() + 40_000;
      while (!/S(\d) leads \(term \d+\)/.test(stdout)) {
        if (Date.now() > deadline) throw new Error(`no leader line from cluster: ${stdout}`);
        await sleep(50);
      }
      expect(existsSync(join(dir, 'cluster-secret'))).toBe(true);
      const leader = Number(/S(\d) leads/.exec(stdout)![1]);
      const endpoints = [1001, 1002, 1003].map((offset) => `http://127.0.0.1:${basePort + offset}`);
      for (const to of [1, 2, 3].filter((id) => id !== leader)) {
        // Turned away at the handshake: the forger has no secret to prove.
        expect(await forge(leader, to, { host: '127.0.0.1', port: basePort + to }, DEFAULT_CLUSTER_NAME, Number.MAX_SAFE_INTEGER)).toMatch(/bad-proof|authenticat|secret/);
      }
      expect(Math.max(...(await terms(endpoints)))).toBeLessThan(100);
      await leaderServes(endpoints);
    } finally {
      process.kill(-child.pid!, 'SIGINT');
      await exited;
    }
  }, 90_000);

  test('without a secret: a term past TERM_MAX, or absurdly far ahead, is refused and logged, and the cluster goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forged-insecure-'));
    dirs.push(dir);
    const cluster = await ProcessCluster.create({ nodes: 3, dir, logLevel: 'warn', electionTimeoutMs: [300, 600], heartbeatMs: 50, cluster: 'insecure' });
    try {
      await cluster.startAll();
      const leader = await cluster.waitForLeader();
      const followers = cluster.ids.filter((id) => id !== leader.id);
      const raftOf = (id: number) => cluster.peers.find((peer) => peer.id === id)!.raft;
      for (const to of followers) await forge(leader.id, to, raftOf(to), 'insecure', Number.MAX_SAFE_INTEGER);
      await forge(leader.id, followers[0]!, raftOf(followers[0]!), 'insecure', leader.term + TERM_JUMP_MAX + 1);
      const logs = (id: number) => cluster.logLines(id).join('\n');
      await expect.poll(() => followers.every((id) => logs(id).includes('is above the highest term a node takes (2^48)')), { timeout: 10_000 }).toBe(true);
      await expect.poll(() => logs(followers[0]!).includes('"reason":"absurd-term"'), { timeout: 10_000 }).toBe(true);
      expect(Math.max(...(await terms(cluster.endpoints())))).toBeLessThan(100);
      await leaderServes(cluster.endpoints());
      // A node without a secret says so when it starts.
      expect(logs(1)).toContain('"reason":"no-secret"');
    } finally {
      await cluster.stopAll();
    }
  }, 90_000);
});


describe('a term past TERM_MAX on disk', () => {
  test('stops the node at its start with a sentence that says what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forged-disk-'));
    dirs.push(dir);
    const dataDir = join(dir, 'node-1');
    const { storage } = await DiskStorage.open(dataDir, { onWarning: () => {} });
    storage.append({ hardState: { term: Number.MAX_SAFE_INTEGER, votedFor: 0 }, snapshot: null, entries: [] });
    await storage.sync();
    await storage.close();
    const [raft, http] = await freePorts(2);
    const peers = [{ id: 1, raft: { host: '127.0.0.1', port: raft! }, http: { host: '127.0.0.1', port: http! } }];
    const node = new NodeHost({ id: 1, peers, dataDir, cluster: 'disk', logger: SILENT_LOGGER });
    await expect(node.start()).rejects.toThrow(
      `S1's data directory ${dataDir} holds term ${Number.MAX_SAFE_INTEGER}, above the highest term a node takes (2^48): it was damaged or written by a forged message. Restore it from a backup; or remove this server from the cluster, move the directory away, and add it back as a new server (its vote and log are gone, so it must not rejoin as the member it was).`,
    );
  });
});
