// The client and admin commands (SPEC §2): `status`, `put`, `get`, `del`, `cas`, `enqueue`, `claim`, `ack`, `nack`,
// `transfer`, `snapshot`, each with `--endpoints URL,...`. They follow leader redirects, try the next endpoint
// when one cannot be reached, and retry 503s until --timeout-ms. Every write carries an Idempotency-Key (a fresh
// one unless --idempotency-key gives it), so a retry through another node never applies it twice.
import { randomUUID } from 'node:crypto';
import { ClusterClient, ClusterUnavailableError, jsonOf, sendRequest, type HttpResponse } from '../server/http-client.ts';
import { parseFlags, UsageError, type FlagsSpec, type ParsedFlags } from './args.ts';
import type { Command } from './main.ts';

export const DEFAULT_ENDPOINTS = 'http://127.0.0.1:8001,http://127.0.0.1:8002,http://127.0.0.1:8003';

const COMMON_FLAGS = {
  endpoints: { kind: 'string' },
  'timeout-ms': { kind: 'number' },
} as const satisfies FlagsSpec;

const WRITE_FLAGS = { ...COMMON_FLAGS, 'idempotency-key': { kind: 'string' } } as const satisfies FlagsSpec;

/** Splits `argv` into positionals and flags (`--` ends the flags), then parses the flags strictly. */
export function parseCommandLine<const S extends FlagsSpec>(argv: readonly string[], spec: S, positionalNames: readonly string[]): { flags: ParsedFlags<S>; positionals: string[] } {
  const flagArgs: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    flagArgs.push(arg);
    const name = arg.slice(2).split('=')[0]!;
    const flag = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (flag && flag.kind !== 'boolean' && !arg.includes('=') && i + 1 < argv.length) flagArgs.push(argv[++i]!);
  }
  const flags = parseFlags(flagArgs, spec);
  if (positionals.length !== positionalNames.length) {
    const expected = positionalNames.length === 0 ? 'no arguments' : positionalNames.join(' ');
    throw new UsageError(`expected ${expected}, got ${positionals.length === 0 ? 'none' : positionals.map((p) => `'${p}'`).join(' ')}.`);
  }
  return { flags, positionals };
}

export function parseEndpoints(text: string | undefined): string[] {
  const endpoints = (text ?? DEFAULT_ENDPOINTS).split(',').map((item) => item.trim()).filter((item) => item !== '');
  if (endpoints.length === 0) throw new UsageError('--endpoints expects at least one URL.');
  return endpoints.map((endpoint) => {
    const withScheme = /^[a-z]+:\/\//i.test(endpoint) ? endpoint : `http://${endpoint}`;
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch {
      throw new UsageError(`--endpoints: '${endpoint}' is not a URL.`);
    }
    if (url.protocol !== 'http:') throw new UsageError(`--endpoints: '${endpoint}' must be an http:// URL.`);
    return url.origin;
  });
}

function clientOf(flags: { endpoints?: string | undefined; 'timeout-ms'?: number | undefined }): ClusterClient {
  const deadlineMs = flags['timeout-ms'] ?? 15_000;
  if (deadlineMs < 1) throw new UsageError('--timeout-ms expects a positive whole number.');
  return new ClusterClient(parseEndpoints(flags.endpoints), { deadlineMs, attemptTimeoutMs: Math.min(deadlineMs, 7000) });
}

const path = (...segments: (string | number)[]) => '/' + segments.map((segment) => encodeURIComponent(String(segment))).join('/');

/** Runs a request; prints the server's error sentence and returns 1 unless the status is one of `ok`. */
async function call(
  name: string,
  client: ClusterClient,
  route: string,
  options: { method: string; body?: unknown; idempotencyKey?: string | undefined },
  ok: readonly number[] = [200],
): Promise<{ code: number; response: HttpResponse | null }> {
  const headers: Record<string, string> = {};
  if (options.method !== 'GET') headers['idempotency-key'] = options.idempotencyKey ?? randomUUID();
  let response: HttpResponse;
  try {
    response = await client.request(route, { method: options.method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
  } catch (error) {
    if (!(error instanceof ClusterUnavailableError)) throw error;
    process.stderr.write(`raft-playground ${name}: ${error.message}\n`);
    return { code: 1, response: null };
  }
  if (ok.includes(response.status)) return { code: 0, response };
  const body = jsonOf(response);
  const message = typeof body?.['message'] === 'string' ? body['message'] : `the node answered ${response.status}`;
  process.stderr.write(`raft-playground ${name}: ${message}\n`);
  return { code: 1, response };
}

function printJson(response: HttpResponse | null): void {
  if (response && response.body.trim() !== '') process.stdout.write(response.body.trim() + '\n');
}

function simple(
  name: string,
  summary: string,
  positionalNames: readonly string[],
  build: (positionals: string[]) => { method: string; route: string; body?: unknown; ok?: readonly number[] },
): Command {
  return {
    summary,
    async run(argv) {
      const { flags, positionals } = parseCommandLine(argv, WRITE_FLAGS, positionalNames);
      const request = build(positionals);
      const { code, response } = await call(name, clientOf(flags), request.route, { ...request, idempotencyKey: flags['idempotency-key'] }, request.ok);
      if (code === 0) printJson(response);
      return code;
    },
  };
}

export const putCommand = simple('put', 'Write a key: put KEY VALUE [--endpoints URL,...].', ['KEY', 'VALUE'], ([key, value]) => ({
  method: 'PUT',
  route: path('kv', key!),
  body: { value },
}));

export const delCommand = simple('del', 'Delete a key: del KEY [--endpoints URL,...].', ['KEY'], ([key]) => ({ method: 'DELETE', route: path('kv', key!) }));

export const getCommand: Command = {
  summary: 'Read a key, linearizably: get KEY [--stale] [--endpoints URL,...]; prints the value.',
  async run(argv) {
    const { flags, positionals } = parseCommandLine(argv, { ...COMMON_FLAGS, stale: { kind: 'boolean' } }, ['KEY']);
    const route = path('kv', positionals[0]!) + (flags.stale ? '?stale=true' : '');
    const { code, response } = await call('get', clientOf(flags), route, { method: 'GET' });
    if (code === 0 && response) process.stdout.write(`${String(jsonOf(response)?.['value'])}\n`);
    return code;
  },
};

export const casCommand: Command = {
  summary: 'Compare and set: cas KEY FROM TO [--endpoints URL,...] (exit 1 when the key does not hold FROM).',
  async run(argv) {
    const { flags, positionals } = parseCommandLine(argv, WRITE_FLAGS, ['KEY', 'FROM', 'TO']);
    const [key, from, to] = positionals;
    const { code, response } = await call('cas', clientOf(flags), path('kv', key!, 'cas'), { method: 'POST', body: { from, to }, idempotencyKey: flags['idempotency-key'] });
    if (code === 0) printJson(response);
    return code;
  },
};

export const enqueueCommand = simple('enqueue', 'Add a task: enqueue QUEUE PAYLOAD (JSON, or else taken as a string) [--endpoints URL,...].', ['QUEUE', 'PAYLOAD'], ([queue, payload]) => ({
  method: 'POST',
  route: path('queues', queue!, 'tasks'),
  body: { payload: parsePayload(payload!) },
  ok: [201],
}));

export const claimCommand: Command = {
  summary: 'Claim the oldest ready task: claim QUEUE [--worker W] [--lease-ms 30000] [--endpoints URL,...]; prints nothing when none is ready.',
  async run(argv) {
    const { flags, positionals } = parseCommandLine(argv, { ...WRITE_FLAGS, worker: { kind: 'string' }, 'lease-ms': { kind: 'number' } }, ['QUEUE']);
    const body = { worker: flags.worker ?? `cli-${process.pid}`, ...(flags['lease-ms'] !== undefined ? { leaseMs: flags['lease-ms'] } : {}) };
    const { code, response } = await call('claim', clientOf(flags), path('queues', positionals[0]!, 'claim'), { method: 'POST', body, idempotencyKey: flags['idempotency-key'] }, [200, 204]);
    if (code === 0 && response?.status === 200) printJson(response);
    return code;
  },
};

function taskCommand(op: 'ack' | 'nack', summary: string): Command {
  return {
    summary,
    async run(argv) {
      const { flags, positionals } = parseCommandLine(argv, { ...WRITE_FLAGS, worker: { kind: 'string' } }, ['QUEUE', 'ID']);
      const [queue, id] = positionals;
      if (!/^\d+$/.test(id!)) throw new UsageError(`the task ID must be a whole number, got '${id}'.`);
      const body = flags.worker !== undefined ? { worker: flags.worker } : undefined;
      const { code, response } = await call(op, clientOf(flags), path('queues', queue!, 'tasks', id!, op), { method: 'POST', body, idempotencyKey: flags['idempotency-key'] });
      if (code === 0) printJson(response);
      return code;
    },
  };
}

export const ackCommand = taskCommand('ack', 'Complete a task: ack QUEUE ID [--worker W] [--endpoints URL,...].');
export const nackCommand = taskCommand('nack', 'Give a task back for a retry after a backoff: nack QUEUE ID [--worker W] [--endpoints URL,...].');

export const transferCommand: Command = {
  summary: 'Move leadership: transfer [--to ID] [--endpoints URL,...] (without --to, to the most caught-up follower).',
  async run(argv) {
    const { flags } = parseCommandLine(argv, { ...COMMON_FLAGS, to: { kind: 'number' } }, []);
    const body = flags.to !== undefined ? { to: flags.to } : {};
    const { code, response } = await call('transfer', clientOf(flags), '/admin/transfer', { method: 'POST', body }, [200, 202]);
    if (code !== 0 || !response) return code;
    const result = jsonOf(response);
    process.stdout.write(
      response.status === 200
        ? `S${String(result?.['to'])} leads now (term ${String(result?.['term'])}), after S${String(result?.['from'])}.\n`
        : `S${String(result?.['from'])} asked S${String(result?.['to'])} to take over; it has not yet (see status).\n`,
    );
    return 0;
  },
};

export const snapshotCommand: Command = {
  summary: 'Snapshot every listed node now and compact its log: snapshot [--endpoints URL,...].',
  async run(argv) {
    const { flags } = parseCommandLine(argv, COMMON_FLAGS, []);
    const endpoints = parseEndpoints(flags.endpoints);
    const timeoutMs = flags['timeout-ms'] ?? 15_000;
    let code = 0;
    for (const endpoint of endpoints) {
      try {
        const response = await sendRequest(`${endpoint}/admin/snapshot`, { method: 'POST', timeoutMs });
        const body = jsonOf(response);
        if (response.status !== 200) throw new Error(String(body?.['message'] ?? `the node answered ${response.status}`));
        process.stdout.write(`S${String(body?.['id'])} ${endpoint}: ${body?.['taken'] ? 'snapshot taken' : 'nothing new to snapshot'}, snapshot index ${String(body?.['snapshotIndex'])}\n`);
      } catch (error) {
        process.stderr.write(`raft-playground snapshot: ${endpoint}: ${(error as Error).message}\n`);
        code = 1;
      }
    }
    return code;
  },
};

interface StatusRow {
  readonly endpoint: string;
  readonly status: Record<string, unknown> | null;
  readonly error: string | null;
}

export const statusCommand: Command = {
  summary: 'Show every node: status [--endpoints URL,...] [--json]: role, term, leader, commit, applied, lag.',
  async run(argv) {
    const { flags } = parseCommandLine(argv, { ...COMMON_FLAGS, json: { kind: 'boolean' } }, []);
    const endpoints = parseEndpoints(flags.endpoints);
    const timeoutMs = flags['timeout-ms'] ?? 3000;
    const rows: StatusRow[] = await Promise.all(
      endpoints.map(async (endpoint) => {
        try {
          const response = await sendRequest(`${endpoint}/status`, { timeoutMs });
          const status = jsonOf(response);
          if (response.status !== 200 || !status) return { endpoint, status: null, error: `answered ${response.status}` };
          return { endpoint, status, error: null };
        } catch (error) {
          return { endpoint, status: null, error: (error as NodeJS.ErrnoException).code ?? (error as Error).message };
        }
      }),
    );
    if (flags.json) {
      process.stdout.write(JSON.stringify(rows.map((row) => ({ endpoint: row.endpoint, ...(row.status ?? { error: row.error }) }))) + '\n');
    } else {
      const commitMax = Math.max(0, ...rows.map((row) => Number(row.status?.['commitIndex'] ?? 0)));
      const table = [['node', 'role', 'term', 'leader', 'commit', 'applied', 'lag', 'endpoint']];
      for (const { endpoint, status, error } of rows) {
        if (!status) {
          table.push(['?', 'unreachable', '-', '-', '-', '-', '-', `${endpoint} (${error})`]);
          continue;
        }
        const leader = Number(status['leader']);
        table.push([
          `S${String(status['id'])}`,
          String(status['role']),
          String(status['term']),
          leader === 0 ? '-' : `S${leader}`,
          String(status['commitIndex']),
          String(status['lastApplied']),
          String(commitMax - Number(status['lastApplied'])),
          endpoint,
        ]);
      }
      const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
      process.stdout.write(table.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n') + '\n');
    }
    return rows.some((row) => row.status !== null) ? 0 : 1;
  },
};

function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
