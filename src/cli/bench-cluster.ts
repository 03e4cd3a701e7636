// `raft-playground bench cluster`: writes per second and latency of a 3-node cluster of real node processes on
// loopback (fsync on), from closed-loop HTTP clients doing PUTs of 8-byte keys and 256-byte values, at 1 and 32
// clients. When `etcd` is on the PATH, the same load against a 3-member etcd on loopback, and the ratios. Figures
// only, never pass/fail.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { jsonOf, sendRequest } from '../server/http-client.ts';
import { ProcessCluster, freePorts, sleep } from '../server/process-cluster.ts';
import { parseFlags, UsageError } from './args.ts';

const KEY_BYTES = 8;
const VALUE_BYTES = 256;
const CONCURRENCIES = [1, 32] as const;

interface LoadTarget {
  readonly name: string;
  /** The request that writes `key` = `value`. */
  request(key: string, value: string): { url: string; method: string; body: string };
}

interface LoadResult {
  readonly writes: number;
  readonly errors: number;
  readonly seconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export async function benchCluster(argv: readonly string[]): Promise<number> {
  const flags = parseFlags(argv, { seconds: { kind: 'number' }, etcd: { kind: 'string' } });
  const seconds = flags.seconds ?? 10;
  if (seconds < 1 || seconds > 600) throw new UsageError(`--seconds expects 1 to 600, got ${seconds}.`);
  const etcdMode = flags.etcd ?? 'auto';
  if (!['auto', 'off'].includes(etcdMode)) throw new UsageError(`--etcd expects auto or off, got '${etcdMode}'.`);
  const durationMs = seconds * 1000;
  process.stdout.write(
    `bench cluster: 3 nodes on loopback, fsync on; closed-loop HTTP clients, PUT of ${KEY_BYTES}-byte keys and ${VALUE_BYTES}-byte values to the leader, ${seconds} s per run\n`,
  );

  const ours = new Map<number, LoadResult>();
  const dir = mkdtempSync(join(tmpdir(), 'raft-bench-'));
  const cluster = await ProcessCluster.create({ nodes: 3, dir, logLevel: 'warn', snapshotEvery: 10_000 });
  try {
    await cluster.startAll();
    const leader = await cluster.waitForLeader();
    const base = cluster.endpoint(leader.id);
    const target: LoadTarget = {
      name: 'raft-playground',
      request: (key, value) => ({ url: `${base}/kv/${key}`, method: 'PUT', body: JSON.stringify({ value }) }),
    };
    for (const clients of CONCURRENCIES) {
      let fsyncsBefore = 0;
      const result = await runLoad(target, clients, durationMs, async () => {
        fsyncsBefore = await fsyncCount(base);
      });
      const fsyncs = (await fsyncCount(base)) - fsyncsBefore;
      ours.set(clients, result);
      printResult(target.name, clients, result, fsyncs > 0 ? ` (${(result.writes / fsyncs).toFixed(1)} writes per leader fsync)` : '');
    }
  } finally {
    await cluster.stopAll(true);
    rmSync(dir, { recursive: true, force: true });
  }

  const etcdVersion = etcdMode === 'off' ? null : findEtcd();
  if (etcdVersion === null) {
    process.stdout.write(etcdMode === 'off' ? 'etcd: skipped (--etcd off)\n' : 'etcd: not on the PATH, no comparison (apt-get install etcd-server gives etcd 3.4)\n');
    return 0;
  }
  const etcd = await EtcdCluster.start();
  try {
    const base = await etcd.leaderClientUrl();
    const target: LoadTarget = {
      name: `etcd ${etcdVersion}`,
      request: (key, value) => ({
        url: `${base}/v3/kv/put`,
        method: 'POST',
        body: JSON.stringify({ key: Buffer.from(key).toString('base64'), value: Buffer.from(value).toString('base64') }),
      }),
    };
    for (const clients of CONCURRENCIES) {
      const result = await runLoad(target, clients, durationMs);
      printResult(target.name, clients, result, '');
      const mine = ours.get(clients)!;
      process.stdout.write(
        `  ratio raft-playground / etcd at ${clients} client(s): writes/s ${ratio(mine.writes / mine.seconds, result.writes / result.seconds)}, ` +
          `p50 ${ratio(mine.p50Ms, result.p50Ms)}, p99 ${ratio(mine.p99Ms, result.p99Ms)}\n`,
      );
    }
  } finally {
    await etcd.stop();
  }
  return 0;
}

function ratio(a: number, b: number): string {
  return b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a';
}

function printResult(name: string, clients: number, result: LoadResult, extra: string): void {
  process.stdout.write(
    `${name.padEnd(16)} ${String(clients).padStart(2)} client(s): ${Math.round(result.writes / result.seconds).toLocaleString('en').padStart(6)} writes/s, ` +
      `p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, ${result.writes.toLocaleString('en')} writes${result.errors > 0 ? `, ${result.errors} errors` : ''}${extra}\n`,
  );
}

/** Closed loop: each client sends its next write when the previous one is answered. A short warm-up first. */
async function runLoad(target: LoadTarget, clients: number, durationMs: number, beforeMeasuring: () => Promise<void> = async () => {}): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const value = 'v'.repeat(VALUE_BYTES);
  let sequence = 0;
  const nextKey = () => `k${(sequence++ % 36 ** (KEY_BYTES - 1)).toString(36).padStart(KEY_BYTES - 1, '0')}`;
  const run = async (ms: number, latencies: number[] | null) => {
    let errors = 0;
    const end = performance.now() + ms;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (performance.now() < end) {
          const request = target.request(nextKey(), value);
          const started = performance.now();
          try {
            const response = await sendRequest(request.url, { method: request.method, body: request.body, agent, timeoutMs: 10_000 });
            if (response.status === 200) latencies?.push(performance.now() - started);
            else errors++;
          } catch {
            errors++;
          }
        }
      }),
    );
    return errors;
  };
  try {
    await run(1000, null);
    await beforeMeasuring();
    const latencies: number[] = [];
    const started = performance.now();
    const errors = await run(durationMs, latencies);
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
    return { writes: latencies.length, errors, seconds, p50Ms: at(0.5), p99Ms: at(0.99) };
  } finally {
    agent.destroy();
  }
}

async function fsyncCount(base: string): Promise<number> {
  try {
    const text = (await sendRequest(`${base}/metrics`, { timeoutMs: 2000 })).body;
    return Number(/^raft_fsync_duration_seconds_count (\d+)/m.exec(text)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The version of `etcd` on the PATH, or null. */
function findEtcd(): string | null {
  const probe = spawnSync('etcd', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return null;
  return /etcd Version: (\S+)/.exec(probe.stdout)?.[1] ?? 'unknown';
}

/** A 3-member etcd on loopback in a temp directory. */
class EtcdCluster {
  private constructor(
    private readonly dir: string,
    private readonly members: readonly { readonly client: string; readonly process: ChildProcess }[],
  ) {}

  static async start(): Promise<EtcdCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'etcd-bench-'));
    const ports = await freePorts(6);
    const names = ['m1', 'm2', 'm3'];
    const peerUrl = (i: number) => `http://127.0.0.1:${ports[2 * i + 1]}`;
    const clientUrl = (i: number) => `http://127.0.0.1:${ports[2 * i]}`;
    const initialCluster = names.map((name, i) => `${name}=${peerUrl(i)}`).join(',');
    const members = names.map((name, i) => ({
      client: clientUrl(i),
      process: spawn(
        'etcd',
        [
          '--name', name,
          '--data-dir', join(dir, name),
          '--listen-client-urls', clientUrl(i),
          '--advertise-client-urls', clientUrl(i),
          '--listen-peer-urls', peerUrl(i),
          '--initial-advertise-peer-urls', peerUrl(i),
          '--initial-cluster', initialCluster,
          '--initial-cluster-state', 'new',
          '--initial-cluster-token', 'raft-playground-bench',
          '--logger', 'zap',
          '--log-level', 'error',
        ],
        { stdio: ['ignore', 'ignore', 'ignore'] },
      ),
    }));
    const etcd = new EtcdCluster(dir, members);
    const deadline = Date.now() + 20_000;
    for (const member of members) {
      for (;;) {
        try {
          const health = await sendRequest(`${member.client}/health`, { timeoutMs: 1000 });
          if (health.status === 200 && jsonOf(health)?.['health'] === 'true') break;
        } catch {
          // not up yet
        }
        if (Date.now() > deadline) {
          await etcd.stop();
          throw new Error('etcd did not become healthy within 20 s');
        }
        await sleep(100);
      }
    }
    return etcd;
  }

  /** The client URL of the member that leads. */
  async leaderClientUrl(): Promise<string> {
    for (const member of this.members) {
      const status = jsonOf(await sendRequest(`${member.client}/v3/maintenance/status`, { method: 'POST', body: '{}' }));
      const header = status?.['header'] as { member_id?: string } | undefined;
      if (header?.member_id !== undefined && header.member_id === status?.['leader']) return member.client;
    }
    return this.members[0]!.client;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.members.map(
        (member) =>
          new Promise<void>((done) => {
            if (member.process.exitCode !== null || member.process.signalCode !== null) return done();
            member.process.once('exit', () => done());
            member.process.kill('SIGTERM');
          }),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}
