// `raft-playground cluster`: a local cluster of real node processes (SPEC §2). Node i listens for peers on
// base-port + i and serves HTTP on base-port + 1000 + i, with its log in DIR/node-i. Ctrl-C (or SIGTERM) stops
// every node cleanly; the data stays, so the next `cluster` with the same --dir resumes where this one stopped.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ClusterControl } from '../server/cluster-control.ts';
import { createLogger, isLogLevel, type LogLevel } from '../server/logger.ts';
import { sendRequest, jsonOf } from '../server/http-client.ts';
import { formatPeers, type HostPort, type PeerSpec } from '../server/peers.ts';
import { BIN_PATH, ProcessCluster } from '../server/process-cluster.ts';
import { parseFlags, UsageError } from './args.ts';
import type { Command } from './main.ts';
import { DEFAULT_CLUSTER_NAME } from './node-command.ts';

const STOP_WAIT_MS = 10_000;

/** Node i of a local cluster: Raft on basePort + i, HTTP on basePort + 1000 + i. */
export function localPeers(nodes: number, basePort: number, host = '127.0.0.1'): (PeerSpec & { readonly http: HostPort })[] {
  return Array.from({ length: nodes }, (_, i) => ({ id: i + 1, raft: { host, port: basePort + i + 1 }, http: { host, port: basePort + 1000 + i + 1 } }));
}

export const clusterCommand: Command = {
  summary:
    'Run a local cluster of real node processes ([--nodes 3] [--dir ./data] [--base-port 7000] [--cluster NAME] [--secret-file F | --insecure] [--log-level warn]); peers authenticate with DIR/cluster-secret unless told otherwise; with --ui [--ui-port P], behind fault proxies, with the page to watch and break it (SPEC §9); Ctrl-C stops it.',
  async run(argv) {
    const flags = parseFlags(argv, {
      ui: { kind: 'boolean' },
      insecure: { kind: 'boolean' },
      'ui-port': { kind: 'number' },
      nodes: { kind: 'number' },
      dir: { kind: 'string' },
      'base-port': { kind: 'number' },
      cluster: { kind: 'string' },
      'secret-file': { kind: 'string' },
      'log-level': { kind: 'string' },
      'snapshot-every': { kind: 'number' },
    });
    const nodes = flags.nodes ?? 3;
    const basePort = flags['base-port'] ?? 7000;
    const dir = flags.dir ?? './data';
    const logLevel = flags['log-level'] ?? 'warn';
    if (nodes < 1 || nodes > 9) throw new UsageError(`--nodes expects 1 to 9, got ${nodes}.`);
    if (basePort < 1 || basePort + 1000 + nodes > 65_535) throw new UsageError(`--base-port must leave room for ports up to base + 1000 + nodes below 65536, got ${basePort}.`);
    if (!isLogLevel(logLevel)) throw new UsageError(`--log-level expects debug, info, warn or error, got '${logLevel}'.`);
    if (flags.insecure && flags['secret-file'] !== undefined) throw new UsageError('--insecure and --secret-file contradict each other: give one.');
    // Peers authenticate by default (SPEC §6): without a secret, any local process could speak as any node.
    const secretFile = flags.insecure ? undefined : (flags['secret-file'] ?? clusterSecret(dir));

    if (flags.ui && (flags['base-port'] !== undefined || flags['snapshot-every'] !== undefined)) {
      throw new UsageError('--base-port and --snapshot-every do not go with --ui: its nodes take free ports behind their proxies.');
    }
    if (flags.ui) return runWithUi({ nodes, dir, logLevel, cluster: flags.cluster ?? DEFAULT_CLUSTER_NAME, uiPort: flags['ui-port'] ?? 0, ...(secretFile ? { secretFile } : {}) });
    if (flags['ui-port'] !== undefined) throw new UsageError('--ui-port goes with --ui.');

    const peers = localPeers(nodes, basePort);
    const peerList = formatPeers(peers);
    const children = new Map<number, ChildProcess>();
    let stopping = false;
    let done = false;
    let finish!: (code: number) => void;
    const finished = new Promise<number>((resolve) => (finish = resolve)).then((code) => {
      done = true; // stops the wait for a leader too: nothing may keep the process alive after this
      return code;
    });

    const stopAll = async () => {
      const waits = [...children.entries()].map(
        ([id, child]) =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            const timer = setTimeout(() => {
              process.stderr.write(`S${id} did not stop in ${STOP_WAIT_MS / 1000} s; killing it.\n`);
              child.kill('SIGKILL');
            }, STOP_WAIT_MS);
            child.once('exit', () => {
              clearTimeout(timer);
              done();
            });
            child.kill('SIGTERM');
          }),
      );
      await Promise.all(waits);
    };

    for (const peer of peers) {
      const args = [
        BIN_PATH,
        'node',
        '--id', String(peer.id),
        '--peers', peerList,
        '--http', `${peer.http.host}:${peer.http.port}`,
        '--data', join(dir, `node-${peer.id}`),
        '--cluster', flags.cluster ?? DEFAULT_CLUSTER_NAME,
        '--log-level', logLevel,
        ...(secretFile !== undefined ? ['--secret-file', secretFile] : []),
        ...(flags['snapshot-every'] !== undefined ? ['--snapshot-every', String(flags['snapshot-every'])] : []),
      ];
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
      children.set(peer.id, child);
      child.on('exit', (code, signal) => {
        if (!stopping) process.stderr.write(`S${peer.id} exited (${signal ?? `code ${code}`}).\n`);
        if ([...children.values()].every((other) => other.exitCode !== null || other.signalCode !== null)) {
          if (!stopping) process.stderr.write('raft-playground cluster: every node has exited.\n');
          finish(stopping ? 0 : 1);
        }
      });
      child.on('error', (error) => process.stderr.write(`S${peer.id} could not start: ${error.message}\n`));
    }

    const onSignal = () => {
      if (stopping) return;
      stopping = true;
      process.stdout.write('Stopping the cluster...\n');
      void stopAll().then(() => {
        process.stdout.write('Cluster stopped.\n');
        finish(0);
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    const endpoints = peers.map((peer) => `http://${peer.http.host}:${peer.http.port}`);
    process.stdout.write(`Cluster of ${nodes} node(s), data in ${dir}:\n`);
    for (const peer of peers) {
      process.stdout.write(`  S${peer.id}  ${endpoints[peer.id - 1]}  (Raft ${peer.raft.host}:${peer.raft.port}, data ${join(dir, `node-${peer.id}`)})\n`);
    }
    void waitForLeader(endpoints, () => stopping || done).then((leader) => {
      if (stopping || leader === null) return;
      process.stdout.write(`S${leader.id} leads (term ${leader.term}). Try: npx raft-playground put greeting hello --endpoints ${endpoints.join(',')}\nCtrl-C stops the cluster.\n`);
    });

    const code = await finished;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    return code;
  },
};

/**
 * The cluster's shared secret: DIR/cluster-secret, made (32 random bytes, readable by its owner only) the first
 * time, kept with the data so that the next `cluster` with this --dir uses the same.
 */
function clusterSecret(dir: string): string {
  const file = join(dir, 'cluster-secret');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  }
  return file;
}

/** Polls until a node says it leads (null when cancelled); says so once if that takes more than 20 s. */
async function waitForLeader(endpoints: readonly string[], cancelled: () => boolean): Promise<{ id: number; term: number } | null> {
  const slowAfter = Date.now() + 20_000;
  let warned = false;
  while (!cancelled()) {
    if (!warned && Date.now() > slowAfter) {
      warned = true;
      process.stdout.write('No leader after 20 s; the nodes keep trying (see their logs, --log-level info).\n');
    }
    for (const endpoint of endpoints) {
      try {
        const status = jsonOf(await sendRequest(`${endpoint}/status`, { timeoutMs: 1000 }));
        if (status?.['role'] === 'leader') return { id: status['id'] as number, term: status['term'] as number };
      } catch {
        // not up yet
      }
    }
    await new Promise((done) => setTimeout(done, 200));
  }
  return null;
}

/**
 * `cluster --ui`: the nodes behind a fault proxy on every link, and one loopback server for the built page and
 * its control API (src/server/cluster-control.ts). Prints the one address to open.
 */
async function runWithUi(options: { nodes: number; dir: string; logLevel: LogLevel; cluster: string; uiPort: number; secretFile?: string }): Promise<number> {
  const staticDir = resolve(BIN_PATH, '..', '..', 'dist');
  if (!existsSync(join(staticDir, 'index.html'))) {
    process.stdout.write('Building the page (npx vite build)...\n');
    const built = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: resolve(staticDir, '..'), stdio: 'inherit' });
    if (built.status !== 0) throw new UsageError('the page could not be built: run `npm run build` and try again.');
  }
  const cluster = await ProcessCluster.create({ nodes: options.nodes, dir: options.dir, proxies: true, logLevel: options.logLevel, cluster: options.cluster, ...(options.secretFile ? { secretFile: options.secretFile } : {}) });
  const token = randomBytes(16).toString('hex');
  const control = new ClusterControl({ cluster, token, staticDir, logger: createLogger(options.logLevel) });
  let port: number;
  try {
    await cluster.startAll();
    port = await control.start(options.uiPort);
  } catch (error) {
    // No node may outlive a start that failed (a port in use, a node that would not start).
    await cluster.stopAll();
    process.stderr.write(`raft-playground cluster: the cluster could not start: ${(error as Error).message}\n`);
    return 1;
  }
  const base = `http://127.0.0.1:${port}`;
  process.stdout.write(`Cluster of ${options.nodes} real node(s), data in ${options.dir}, each link through a fault proxy:\n`);
  for (const id of cluster.ids) process.stdout.write(`  S${id}  ${cluster.endpoint(id)}\n`);
  process.stdout.write(`Open ${base}/?attach=${encodeURIComponent(base)}&token=${token}\nCtrl-C stops the cluster.\n`);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  process.stdout.write('Stopping the cluster...\n');
  await control.stop();
  await cluster.stopAll(true);
  process.stdout.write('Cluster stopped.\n');
  return 0;
}
