// `raft-playground node` as a user runs it: bad flags are bad usage (exit 2 with the usage), a node that cannot
// start says why in one sentence (exit 1).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ProcessCluster, runCli } from '../server/process-cluster.ts';

describe('raft-playground node', () => {
  const clusters: ProcessCluster[] = [];
  const directories: string[] = [];
  const temporaryDirectory = () => {
    const dir = mkdtempSync(join(tmpdir(), 'raft-node-cli-'));
    directories.push(dir);
    return dir;
  };
  afterAll(async () => {
    await Promise.all(clusters.map((cluster) => cluster.stopAll()));
    for (const dir of directories) rmSync(dir, { recursive: true, force: true });
  });

  test('bad flags are bad usage: exit 2, one sentence naming the flag, and the usage', async () => {
    const cases: [string[], string][] = [
      [['node', '--id', '1', '--http', '127.0.0.1:8001', '--data', 'd'], 'Missing required flag --peers.'],
      [['node', '--id', '1', '--peers', '1=127.0.0.1', '--http', '127.0.0.1:8001', '--data', 'd'], '--peers: node 1: expected HOST:PORT, got "127.0.0.1".'],
      [['node', '--id', '4', '--peers', '1=127.0.0.1:7001/8001', '--http', '127.0.0.1:8001', '--data', 'd'], "--peers does not list this node's own id 4."],
      [['node', '--id', '1', '--peers', '1=127.0.0.1:7001', '--http', '127.0.0.1:8001', '--data', 'd', '--election-timeout-ms', '50-10'], '--election-timeout-ms expects MIN-MAX'],
    ];
    for (const [args, sentence] of cases) {
      const { code, stderr } = await runCli(...args);
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(stderr).toContain(sentence);
      expect(stderr).toContain('Usage: raft-playground');
    }
  });

  test('a second node on a data directory in use, or on an HTTP port in use, exits 1 saying why', async () => {
    const cluster = await ProcessCluster.create({ nodes: 1, dir: temporaryDirectory(), logLevel: 'error' });
    clusters.push(cluster);
    await cluster.start(1);
    const [peer] = cluster.peers;
    const peers = `1=127.0.0.1:${peer!.raft.port + 0}/${peer!.http.port}`;
    const locked = await runCli('node', '--id', '1', '--peers', peers, '--http', '127.0.0.1:0', '--listen', '127.0.0.1:0', '--data', cluster.dataDir(1), '--log-level', 'error');
    expect(locked.code).toBe(1);
    expect(locked.stderr.trim()).toMatch(/^raft-playground node: S1 cannot start: .* is in use by process \d+; is another node running on that data directory\?$/);
    const busyPort = await runCli('node', '--id', '1', '--peers', peers, '--http', `127.0.0.1:${peer!.http.port}`, '--listen', '127.0.0.1:0', '--data', join(temporaryDirectory(), 'n1'), '--log-level', 'error');
    expect(busyPort.code).toBe(1);
    expect(busyPort.stderr.trim()).toBe(`raft-playground node: S1 cannot start: address 127.0.0.1:${peer!.http.port} is already in use.`);
  });
});
