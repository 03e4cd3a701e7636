// The peer port of real node processes (SPEC §6): a node with the wrong shared secret or cluster name is refused
// with a logged reason while the others elect and serve; random bytes, oversized frames and half-open connections
// leave the node serving.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { jsonOf, sendRequest } from './http-client.ts';
import { ProcessCluster, sleep } from './process-cluster.ts';

describe('the peer port of node processes', () => {
  let cluster: ProcessCluster;
  let goodSecret: string;
  let badSecret: string;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'raft-security-'));
    goodSecret = join(dir, 'secret');
    badSecret = join(dir, 'wrong-secret');
    writeFileSync(goodSecret, 'correct horse battery staple\n');
    writeFileSync(badSecret, 'incorrect horse\n');
    cluster = await ProcessCluster.create({
      nodes: 3,
      dir,
      secretFile: goodSecret,
      electionTimeoutMs: [300, 600],
      heartbeatMs: 50,
      requestTimeoutMs: 2000,
    });
  });

  afterAll(async () => {
    await cluster.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  const logged = (id: number, reason: string) => cluster.logLines(id).some((line) => line.includes(`"reason":"${reason}"`));

  test('a node with the wrong secret, then the wrong cluster name, is refused; with both right it joins and catches up', async () => {
    await Promise.all([cluster.start(1), cluster.start(2), cluster.start(3, { secretFile: badSecret })]);
    const leader = await cluster.waitForLeader([1, 2]);
    const put = await sendRequest(`${cluster.endpoint(leader.id)}/kv/x`, { method: 'PUT', body: JSON.stringify({ value: 'secret-kept' }) });
    expect(put.status).toBe(200);
    await waitUntil(() => logged(1, 'bad-proof') && logged(3, 'bad-proof'), 'bad-proof refusals in the logs');
    expect((await cluster.status(3))!.leader).toBe(0);

    await cluster.stop(3);
    await cluster.start(3, { cluster: 'another-cluster', secretFile: goodSecret });
    await waitUntil(() => logged(1, 'wrong-cluster') && logged(3, 'wrong-cluster'), 'wrong-cluster refusals in the logs');
    expect((await cluster.status(3))!.leader).toBe(0);

    await cluster.stop(3);
    await cluster.start(3, { secretFile: goodSecret });
    await cluster.waitForLeader([1, 2, 3]);
    expect(jsonOf(await sendRequest(`${cluster.endpoint(3)}/kv/x`))).toEqual({ value: 'secret-kept' });
  });

  test('random bytes, an oversized frame and half-open connections on the peer port leave the node serving', async () => {
    const raft = cluster.peers.find((peer) => peer.id === 1)!.raft;
    const sockets: Socket[] = [];
    const open = () =>
      new Promise<Socket>((resolve) => {
        const socket = connect({ host: raft.host, port: raft.port }, () => resolve(socket));
        socket.on('error', () => {});
        sockets.push(socket);
      });
    try {
      (await open()).write(randomBytes(8192));
      const oversized = Buffer.alloc(8);
      oversized.writeUInt32BE(0x7fff_ffff, 0);
      (await open()).write(oversized);
      // A length prefix of 5 with a valid kind byte but JSON that is not a hello.
      (await open()).write(Buffer.concat([Buffer.from([0, 0, 0, 5, 1]), Buffer.from('{}}}')]));
      // Half-open: a partial frame header, then silence; and connections that say nothing at all.
      (await open()).write(Buffer.from([0, 0]));
      for (let i = 0; i < 10; i++) await open();
      await waitUntil(() => logged(1, 'frame-too-large') && logged(1, 'malformed-frame'), 'the refusals in the log');

      const leader = await cluster.waitForLeader([1, 2, 3]);
      const put = await sendRequest(`${cluster.endpoint(leader.id)}/kv/after-garbage`, { method: 'PUT', body: JSON.stringify({ value: 'fine' }) });
      expect(put.status).toBe(200);
      expect(jsonOf(await sendRequest(`${cluster.endpoint(1)}/kv/after-garbage`))).toEqual({ value: 'fine' });
      expect(cluster.isRunning(1)).toBe(true);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });
});

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
