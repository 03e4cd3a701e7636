// A cluster of real `raft-playground node` processes on loopback, for the tests and `bench cluster`: free ports,
// one data directory per node, kill -9 and restart, and optionally a FaultProxy on every directed link so that a
// partition can be made and healed.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { FaultProxy } from './fault-proxy.ts';
import { jsonOf, sendRequest } from './http-client.ts';
import type { LogLevel } from './logger.ts';
import { formatPeers, type HostPort, type PeerSpec } from './peers.ts';

export const BIN_PATH = resolve(import.meta.dirname, '..', '..', 'bin', 'raft-playground.mjs');

/** Run `raft-playground ARGS` to its end: its exit code and what it printed. */
export async function runCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN_PATH, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const LOG_LINES_MAX = 200_000;

// Ports are handed out below Linux's ephemeral range (32768–60999), which is where outgoing connections and
// listen(0) take theirs: a port picked with listen(0) and released could be taken by any connection in the
// meantime (the cause of a CI failure, "address already in use" while a node started). Each Vitest worker draws
// from its own slice, and a process hands a port out again only after it has gone through its slice.
const PORT_RANGE_START = 20_000;
const PORT_SLICE = 1_000;
const PORT_SLICES = 12;
const workerSlice = Number(process.env['VITEST_POOL_ID'] ?? process.pid) % PORT_SLICES;
let nextPortOffset = 0;

/** `count` ports that are free now and that this process has not handed out lately. */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let tried = 0; ports.length < count; tried++) {
    if (tried === PORT_SLICE) throw new Error(`no ${count} free ports in ${PORT_RANGE_START + workerSlice * PORT_SLICE}–${PORT_RANGE_START + (workerSlice + 1) * PORT_SLICE - 1}`);
    const port = PORT_RANGE_START + workerSlice * PORT_SLICE + (nextPortOffset++ % PORT_SLICE);
    if (await isPortFree(port)) ports.push(port);
  }
  return ports;
}

/** Whether 127.0.0.1:port can be listened on now. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

export interface ProcessClusterOptions {
  readonly nodes: number;
  readonly dir: string;
  readonly cluster?: string;
  readonly secretFile?: string;
  /** Per node, overriding `cluster` and `secretFile` (a misconfigured node). */
  readonly overrides?: Readonly<Record<number, { readonly cluster?: string; readonly secretFile?: string }>>;
  readonly snapshotEvery?: number;
  readonly electionTimeoutMs?: readonly [number, number];
  readonly heartbeatMs?: number;
  readonly requestTimeoutMs?: number;
  readonly logLevel?: LogLevel;
  /** A FaultProxy on every directed link between nodes. */
  readonly proxies?: boolean;
}

export interface NodeStatusJson {
  readonly id: number;
  readonly role: string;
  readonly term: number;
  readonly leader: number;
  readonly commitIndex: number;
  readonly lastApplied: number;
  readonly lastLogIndex: number;
  readonly snapshotIndex: number;
}

export class ProcessCluster {
  private readonly children = new Map<number, ChildProcess>();
  private readonly logs = new Map<number, string[]>();

  private constructor(
    private readonly options: ProcessClusterOptions,
    readonly peers: readonly (PeerSpec & { readonly http: HostPort })[],
    private readonly proxies: ReadonlyMap<string, FaultProxy>,
  ) {}

  static async create(options: ProcessClusterOptions): Promise<ProcessCluster> {
    const ports = await freePorts(options.nodes * 2);
    const peers = Array.from({ length: options.nodes }, (_, i) => ({
      id: i + 1,
      raft: { host: '127.0.0.1', port: ports[2 * i]! },
      http: { host: '127.0.0.1', port: ports[2 * i + 1]! },
    }));
    const proxies = new Map<string, FaultProxy>();
    if (options.proxies) {
      for (const from of peers) {
        for (const to of peers) {
          if (from.id === to.id) continue;
          const proxy = new FaultProxy(to.raft);
          await proxy.start();
          proxies.set(`${from.id}-${to.id}`, proxy);
        }
      }
    }
    return new ProcessCluster(options, peers, proxies);
  }

  get ids(): number[] {
    return this.peers.map((peer) => peer.id);
  }

  endpoint(id: number): string {
    const peer = this.peer(id);
    return `http://${peer.http.host}:${peer.http.port}`;
  }

  endpoints(): string[] {
    return this.ids.map((id) => this.endpoint(id));
  }

  dataDir(id: number): string {
    return join(this.options.dir, `node-${id}`);
  }

  /** Node `id`'s peer list: its own real address; the others through their proxies, when there are proxies. */
  peersArgumentFor(id: number): string {
    return formatPeers(
      this.peers.map((peer) => {
        const proxy = this.proxies.get(`${id}-${peer.id}`);
        if (peer.id === id || !proxy) return peer;
        return { ...peer, raft: { host: '127.0.0.1', port: this.proxyPort(proxy) } };
      }),
    );
  }

  /** Spawn node `id` and wait until its HTTP API answers. `override` replaces its cluster name or secret file. */
  async start(id: number, override: { readonly cluster?: string; readonly secretFile?: string } = this.options.overrides?.[id] ?? {}): Promise<void> {
    if (this.isRunning(id)) throw new Error(`S${id} is running already`);
    const peer = this.peer(id);
    const cluster = override.cluster ?? this.options.cluster ?? 'test';
    const secretFile = override.secretFile ?? this.options.secretFile;
    const args = [
      BIN_PATH,
      'node',
      '--id', String(id),
      '--peers', this.peersArgumentFor(id),
      '--http', `${peer.http.host}:${peer.http.port}`,
      '--data', this.dataDir(id),
      '--cluster', cluster,
      '--log-level', this.options.logLevel ?? 'info',
      ...(secretFile !== undefined ? ['--secret-file', secretFile] : []),
      ...(this.options.snapshotEvery !== undefined ? ['--snapshot-every', String(this.options.snapshotEvery)] : []),
      ...(this.options.heartbeatMs !== undefined ? ['--heartbeat-ms', String(this.options.heartbeatMs)] : []),
      ...(this.options.electionTimeoutMs ? ['--election-timeout-ms', `${this.options.electionTimeoutMs[0]}-${this.options.electionTimeoutMs[1]}`] : []),
      ...(this.options.requestTimeoutMs !== undefined ? ['--request-timeout-ms', String(this.options.requestTimeoutMs)] : []),
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.children.set(id, child);
    const lines = this.logs.get(id) ?? [];
    this.logs.set(id, lines);
    let partial = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      for (const line of parts) if (lines.length < LOG_LINES_MAX) lines.push(line);
    });
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`S${id} exited while starting (${child.signalCode ?? `code ${child.exitCode}`}): ${lines.slice(-3).join(' | ')}`);
      }
      if (Date.now() > deadline) throw new Error(`S${id} did not serve HTTP within 15 s`);
      if ((await this.status(id, 500)) !== null) return;
      await sleep(50);
    }
  }

  async startAll(): Promise<void> {
    await Promise.all(this.ids.map((id) => this.start(id)));
  }

  isRunning(id: number): boolean {
    const child = this.children.get(id);
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** kill -9: no shutdown, no last fsync. */
  async kill(id: number): Promise<void> {
    await this.signal(id, 'SIGKILL');
  }

  /** SIGTERM, and the exit code once it has exited. */
  async stop(id: number): Promise<number | null> {
    return this.signal(id, 'SIGTERM');
  }

  /** Stops every node (kill -9, or SIGTERM and a clean shutdown when `graceful`) and every proxy. */
  async stopAll(graceful = false): Promise<void> {
    await Promise.all(this.ids.map((id) => this.signal(id, graceful ? 'SIGTERM' : 'SIGKILL')));
    await Promise.all([...this.proxies.values()].map((proxy) => proxy.stop()));
  }

  /** The node's log lines so far (JSON text). */
  logLines(id: number): readonly string[] {
    return this.logs.get(id) ?? [];
  }

  async status(id: number, timeoutMs = 1000): Promise<NodeStatusJson | null> {
    try {
      const response = await sendRequest(`${this.endpoint(id)}/status`, { timeoutMs });
      return response.status === 200 ? (jsonOf(response) as unknown as NodeStatusJson) : null;
    } catch {
      return null;
    }
  }

  /** The leader that every running node among `among` follows, once they agree. */
  async waitForLeader(among: readonly number[] = this.ids, timeoutMs = 15_000): Promise<{ id: number; term: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const statuses = await Promise.all(among.map((id) => this.status(id)));
      const leader = statuses.find((status) => status?.role === 'leader');
      if (leader && statuses.every((status) => status !== null && status.leader === leader.id && status.term === leader.term)) {
        return { id: leader.id, term: leader.term };
      }
      if (Date.now() > deadline) throw new Error(`no leader among ${among.map((id) => `S${id}`).join(', ')} within ${timeoutMs} ms: ${JSON.stringify(statuses)}`);
      await sleep(50);
    }
  }

  /** Cut every link between nodes of different groups, both ways; links inside a group work. */
  partition(groups: readonly (readonly number[])[]): void {
    const groupOf = new Map<number, number>();
    groups.forEach((group, index) => group.forEach((id) => groupOf.set(id, index)));
    for (const [key, proxy] of this.proxies) {
      const [from, to] = key.split('-').map(Number) as [number, number];
      if ((groupOf.get(from) ?? -1) !== (groupOf.get(to) ?? -1)) proxy.cut();
      else proxy.heal();
    }
  }

  heal(): void {
    for (const proxy of this.proxies.values()) proxy.heal();
  }

  /** Cut exactly these directed links (from's messages no longer reach to), mend every other. */
  setCuts(cuts: readonly (readonly [number, number])[]): void {
    const cut = new Set(cuts.map(([from, to]) => `${from}-${to}`));
    for (const [key, proxy] of this.proxies) {
      if (cut.has(key)) proxy.cut();
      else proxy.heal();
    }
  }

  private async signal(id: number, signal: NodeJS.Signals): Promise<number | null> {
    const child = this.children.get(id);
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    child.kill(signal);
    return exited;
  }

  private peer(id: number): PeerSpec & { readonly http: HostPort } {
    const peer = this.peers.find((candidate) => candidate.id === id);
    if (!peer) throw new Error(`there is no S${id}`);
    return peer;
  }

  private proxyPort(proxy: FaultProxy): number {
    return proxy.address.port;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
