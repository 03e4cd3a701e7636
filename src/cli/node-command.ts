// `raft-playground node`: one real node over TCP, with its log in --data and its HTTP API on --http (SPEC §2, §5).
import { readFileSync } from 'node:fs';
import { DirectoryLockedError } from '../server/storage/lock-file.ts';
import { HttpApi } from '../server/http-api.ts';
import { createLogger, isLogLevel } from '../server/logger.ts';
import { NodeHost, NODE_RAFT_DEFAULTS, SNAPSHOT_EVERY_ENTRIES_DEFAULT, type NodeRaftTuning } from '../server/node-host.ts';
import { AddressError, formatHostPort, httpUrl, parseHostPort, parsePeers, type HostPort, type PeerSpec } from '../server/peers.ts';
import { parseFlags, UsageError } from './args.ts';
import type { Command } from './main.ts';

export const DEFAULT_CLUSTER_NAME = 'raft-playground';

const NODE_FLAGS = {
  id: { kind: 'number', required: true },
  peers: { kind: 'string', required: true },
  http: { kind: 'string', required: true },
  data: { kind: 'string', required: true },
  cluster: { kind: 'string' },
  'secret-file': { kind: 'string' },
  listen: { kind: 'string' },
  'log-level': { kind: 'string' },
  'snapshot-every': { kind: 'number' },
  'heartbeat-ms': { kind: 'number' },
  'election-timeout-ms': { kind: 'string' },
  'request-timeout-ms': { kind: 'number' },
} as const;

export const nodeCommand: Command = {
  summary:
    'Run one real node (--id ID --peers ID=HOST:PORT/HTTPPORT,... --http HOST:PORT --data DIR [--cluster NAME] [--secret-file F] [--log-level info] [--snapshot-every 1000]).',
  async run(argv) {
    const flags = parseFlags(argv, NODE_FLAGS);
    const settings = nodeSettings(flags);
    let secret: string | null = null;
    if (flags['secret-file'] !== undefined) {
      try {
        secret = readFileSync(flags['secret-file'], 'utf8').replace(/\r?\n$/, '');
      } catch (error) {
        process.stderr.write(`raft-playground node: cannot read the secret file ${flags['secret-file']}: ${(error as Error).message}\n`);
        return 1;
      }
      if (secret === '') {
        process.stderr.write(`raft-playground node: the secret file ${flags['secret-file']} is empty.\n`);
        return 1;
      }
    }
    const logLevel = flags['log-level'] ?? 'info';
    if (!isLogLevel(logLevel)) throw new UsageError(`--log-level expects debug, info, warn or error, got '${logLevel}'.`);
    const logger = createLogger(logLevel, (line) => process.stderr.write(line), { node: flags.id });
    if (secret === null) {
      logger.warn(`S${flags.id} runs without --secret-file: any process that reaches its Raft port can speak as any member of the cluster`, { reason: 'no-secret' });
    }

    let finish!: (code: number) => void;
    const finished = new Promise<number>((resolve) => (finish = resolve));
    let api: HttpApi | null = null;
    const node = new NodeHost({
      id: flags.id,
      peers: settings.peers,
      dataDir: flags.data,
      cluster: flags.cluster ?? DEFAULT_CLUSTER_NAME,
      secret,
      ...(settings.listen ? { listen: settings.listen } : {}),
      snapshotEveryEntries: flags['snapshot-every'] ?? SNAPSHOT_EVERY_ENTRIES_DEFAULT,
      raft: settings.raft,
      logger,
      ...(flags['request-timeout-ms'] !== undefined ? { requestTimeoutMs: flags['request-timeout-ms'] } : {}),
      onFatal: () => {
        void (api?.stop() ?? Promise.resolve()).finally(() => finish(1));
      },
    });
    try {
      const raftAddress = await node.start();
      api = new HttpApi({ node, listen: settings.http, logger });
      const httpAddress = await api.start();
      logger.info(`S${flags.id} is up: HTTP ${httpUrl(httpAddress)}, Raft ${formatHostPort(raftAddress)}`, {
        http: httpUrl(httpAddress),
        raft: formatHostPort(raftAddress),
        dataDir: flags.data,
      });
    } catch (error) {
      await api?.stop().catch(() => {});
      await node.stop().catch(() => {});
      process.stderr.write(`raft-playground node: S${flags.id} cannot start: ${describeStartError(error)}\n`);
      return 1;
    }

    // Ctrl-C or SIGTERM: stop serving, let the batch under way become durable, close the log. A second Ctrl-C a
    // second later does not wait. (Under `cluster`, a Ctrl-C reaches the node twice at once: from the terminal,
    // and as the SIGTERM that `cluster` forwards. Neither is the impatient second press.)
    let stoppingSinceMs: number | null = null;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stoppingSinceMs !== null) {
        if (signal !== 'SIGINT' || Date.now() - stoppingSinceMs < 1000) return;
        process.stderr.write(`raft-playground node: S${flags.id} got ${signal} again; exiting now.\n`);
        process.exit(130);
      }
      stoppingSinceMs = Date.now();
      logger.info(`S${flags.id} got ${signal}; stopping`);
      void (async () => {
        await api?.stop().catch(() => {});
        await node.stop().catch(() => {});
        finish(0);
      })();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const code = await finished;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    return code;
  },
};

interface NodeSettings {
  readonly peers: PeerSpec[];
  readonly http: HostPort;
  readonly listen: HostPort | null;
  readonly raft: Partial<NodeRaftTuning>;
}

function nodeSettings(flags: {
  id: number;
  peers: string;
  http: string;
  listen?: string | undefined;
  'heartbeat-ms'?: number | undefined;
  'election-timeout-ms'?: string | undefined;
  'snapshot-every'?: number | undefined;
}): NodeSettings {
  if (flags.id < 1) throw new UsageError(`--id expects a positive whole number, got ${flags.id}.`);
  let peers: PeerSpec[];
  let http: HostPort;
  let listen: HostPort | null = null;
  try {
    peers = parsePeers(flags.peers);
    http = parseHostPort(flags.http, '--http', true);
    if (flags.listen !== undefined) listen = parseHostPort(flags.listen, '--listen', true);
  } catch (error) {
    if (error instanceof AddressError) throw new UsageError(`${error.message}.`);
    throw error;
  }
  if (!peers.some((peer) => peer.id === flags.id)) throw new UsageError(`--peers does not list this node's own id ${flags.id}.`);
  const raft: { -readonly [K in keyof NodeRaftTuning]?: NodeRaftTuning[K] } = {};
  const heartbeatMs = flags['heartbeat-ms'];
  if (heartbeatMs !== undefined) {
    if (heartbeatMs < 1) throw new UsageError(`--heartbeat-ms expects a positive whole number, got ${heartbeatMs}.`);
    raft.heartbeatMs = heartbeatMs;
  }
  const election = flags['election-timeout-ms'];
  if (election !== undefined) {
    const match = /^(\d+)-(\d+)$/.exec(election);
    const min = Number(match?.[1]);
    const max = Number(match?.[2]);
    if (!match || min < 1 || min > max) throw new UsageError(`--election-timeout-ms expects MIN-MAX in milliseconds with 0 < MIN <= MAX, got '${election}'.`);
    raft.electionTimeoutMs = [min, max];
  }
  const heartbeat = raft.heartbeatMs ?? NODE_RAFT_DEFAULTS.heartbeatMs;
  const electionMin = (raft.electionTimeoutMs ?? NODE_RAFT_DEFAULTS.electionTimeoutMs)[0];
  if (heartbeat >= electionMin) throw new UsageError(`the heartbeat (${heartbeat} ms) must be shorter than the minimum election timeout (${electionMin} ms).`);
  if (flags['snapshot-every'] !== undefined && flags['snapshot-every'] < 0) throw new UsageError('--snapshot-every expects 0 (never) or a positive whole number.');
  return { peers, http, listen, raft };
}

function describeStartError(error: unknown): string {
  if (error instanceof DirectoryLockedError) return `${error.message}; is another node running on that data directory?`;
  const failure = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (failure.code === 'EADDRINUSE') return `address ${failure.address ?? ''}:${failure.port ?? ''} is already in use.`;
  if (failure.code === 'EADDRNOTAVAIL') return `address ${failure.address ?? ''} is not an address of this machine.`;
  return failure.message ?? String(error);
}
