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
  /** The leader's fsyncs so far, when the target reports them. */
  fsyncCount?(): Promise<number>;
}

/** Latencies and counts pooled over a target's rounds. */
class LoadResult {
  readonly latenciesMs: number[] = [];
  errors = 0;
  seconds = 0;
  fsyncs = 0;

  get writesPerSecond(): number {
    return this.seconds > 0 ? this.latenciesMs.length / this.seconds : 0;
  }

  quantile(q: number): number {
    this.latenciesMs.sort((a, b) => a - b);
    return this.latenciesMs[Math.min(this.latenciesMs.length - 1, Math.floor(q * this.latenciesMs.length))] ?? NaN;
  }
}

/** Each target's time at each concurrency is split into this many rounds, alternating with the other target's. */
const ROUNDS = 4;
const WARM_UP_MS = 500;

export async function benchCluster(argv: readonly string[]): Promise<number> {
  const flags = parseFlags(argv, { seconds: { kind: 'number' }, etcd: { kind: 'string' } });
  const seconds = flags.seconds ?? 12;
  if (seconds < ROUNDS || seconds > 600) throw new UsageError(`--seconds expects ${ROUNDS} to 600, got ${seconds}.`);
  const etcdMode = flags.etcd ?? 'auto';
  if (!['auto', 'off'].includes(etcdMode)) throw new UsageError(`--etcd expects auto or off, got '${etcdMode}'.`);
  const etcdVersion = etcdMode === 'off' ? null : findEtcd();
  process.stdout.write(
    `bench cluster: 3 nodes on loopback, fsync on; closed-loop HTTP clients, PUT of ${KEY_BYTES}-byte keys and ${VALUE_BYTES}-byte values to the leader, ` +
      `${seconds} s per system and concurrency${etcdVersion ? `, in ${ROUNDS} rounds alternating with etcd so that both meet the same machine` : ''}\n`,
  );
  if (etcdVersion === null) {
    process.stdout.write(etcdMode === 'off' ? 'etcd: skipped (--etcd off)\n' : 'etcd: not on the PATH, no comparison (apt-get install etcd-server gives etcd 3.4)\n');
  }

  const dir = mkdtempSync(join(tmpdir(), 'raft-bench-'));
  const cluster = await ProcessCluster.create({ nodes: 3, dir, logLevel: 'warn', snapshotEvery: 10_000 });
  let etcd: EtcdCluster | null = null;
  try {
    await cluster.startAll();
    const base = cluster.endpoint((await cluster.waitForLeader()).id);
    const targets: LoadTarget[] = [
      {
        name: 'raft-playground',
        request: (key, value) => ({ url: `${base}/kv/${key}`, method: 'PUT', body: JSON.stringify({ value }) }),
        fsyncCount: () => fsyncCount(base),
      },
    ];
    if (etcdVersion !== null) {
      etcd = await EtcdCluster.start();
      const etcdBase = await etcd.leaderClientUrl();
      targets.push({
        name: `etcd ${etcdVersion}`,
        request: (key, value) => ({
          url: `${etcdBase}/v3/kv/put`,
          method: 'POST',
          body: JSON.stringify({ key: Buffer.from(key).toString('base64'), value: Buffer.from(value).toString('base64') }),
        }),
      });
    }
    for (const clients of CONCURRENCIES) {
      const results = targets.map(() => new LoadResult());
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate who goes first, so that a drift in the machine's load favours neither.
        const order = round % 2 === 0 ? targets.map((_, i) => i) : targets.map((_, i) => targets.length - 1 - i);
        for (const i of order) await runLoad(targets[i]!, clients, (seconds * 1000) / ROUNDS, results[i]!);
      }
      targets.forEach((target, i) => printResult(target.name, clients, results[i]!));
      const [mine, theirs] = results;
      if (mine && theirs) {
        process.stdout.write(
          `  ratio raft-playground / etcd at ${clients} client(s): writes/s ${ratio(mine.writesPerSecond, theirs.writesPerSecond)}, ` +
            `p50 ${ratio(mine.quantile(0.5), theirs.quantile(0.5))}, p99 ${ratio(mine.quantile(0.99), theirs.quantile(0.99))}\n`,
        );
      }
    }
  } finally {
    await etcd?.stop();
    await cluster.stopAll(true);
    rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}

function ratio(a: number, b: number): string {
  return b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a';
}

function printResult(name: string, clients: number, result: LoadResult): void {
  const writes = result.latenciesMs.length;
  const perFsync = result.fsyncs > 0 ? ` (${(writes / result.fsyncs).toFixed(1)} writes per leader fsync)` : '';
  process.stdout.write(
    `${name.padEnd(16)} ${String(clients).padStart(2)} client(s): ${Math.round(result.writesPerSecond).toLocaleString('en').padStart(6)} writes/s, ` +
      `p50 ${result.quantile(0.5).toFixed(2)} ms, p99 ${result.quantile(0.99).toFixed(2)} ms, ${writes.toLocaleString('en')} writes${result.errors > 0 ? `, ${result.errors} errors` : ''}${perFsync}\n`,
  );
}

/** Closed loop: each client sends its next write when the previous one is answered, after a short warm-up. Adds to `result`. */
async function runLoad(target: LoadTarget, clients: number, durationMs: number, result: LoadResult): Promise<void> {
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
    await run(WARM_UP_MS, null);
    const fsyncsBefore = (await target.fsyncCount?.()) ?? 0;
    const started = performance.now();
    result.errors += await run(durationMs, result.latenciesMs);
    result.seconds += (performance.now() - started) / 1000;
    result.fsyncs += ((await target.fsyncCount?.()) ?? 0) - fsyncsBefore;
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
