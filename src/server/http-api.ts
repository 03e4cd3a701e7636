// The HTTP API of a real node (SPEC §5): JSON over node:http, in front of a NodeHost.
//
//   GET    /status                          this node's view: role, term, leader, indexes, peers; ?log=N its last N entries and its state machine
//   PUT    /kv/{key}        {"value"}       200 {index, term}                       leader only
//   GET    /kv/{key}                        200 {value} / 404; linearizable (ReadIndex) on any node; ?stale=true: local
//   DELETE /kv/{key}                        200 {existed, index, term}              leader only
//   POST   /kv/{key}/cas    {"from","to"}   200 {index, term} / 409 cas_mismatch   leader only
//   POST   /queues/{q}/tasks {"payload"}    201 {id}                                leader only
//   POST   /queues/{q}/claim {"worker","leaseMs"} 200 {id, payload, attempt, leaseExpiresAt} / 204
//   POST   /queues/{q}/tasks/{id}/ack|nack  200; body {"worker"} optional
//   GET    /queues/{q}                      200 {pending, claimed, done, dead}; linearizable on any node; ?stale=true
//   GET    /metrics                         Prometheus text
//   GET    /events                          the node's trace as Server-Sent Events (SPEC §9), from a `state` event
//   POST   /admin/transfer  {"to"}          leadership transfer (thesis §3.10); leader only; `to` optional
//   POST   /admin/snapshot                  snapshot this node's state machine and compact its log now
//
// A follower answers a leader-only request with 307 and Location on the leader's HTTP address (from the peer
// list); with no leader known, 503 {"error":"no_leader"} and Retry-After. Every error is JSON {error, message}
// with one sentence; an unexpected failure is logged with its stack and answered 500 without it.
//
// Idempotency-Key on a write: the key becomes the write's client session (thesis §6.3) with sequence 1, so a
// retry with the same key (through any node, after any leader change) gets the first result instead of applying
// the write again, as long as the session lives (10 minutes idle, the latest 1024 sessions).
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { NONE, type NodeId } from '../core/types.ts';
import type { SessionTag } from '../machines/client-sessions.ts';
import { ENVELOPE_LIMITS, EnvelopeError, encodeEnvelope, type ServiceCommand } from '../machines/envelope.ts';
import type { ClientOp } from '../sim/trace.ts';
import { createLogger, type Logger } from './logger.ts';
import { MetricsText } from './metrics.ts';
import { EventStream } from './event-stream.ts';
import type { NodeHost, NodeTraceEvent, RequestOutcome } from './node-host.ts';
import { formatHostPort, type HostPort } from './peers.ts';

export const BODY_BYTES_MAX_DEFAULT = 1024 * 1024;
export const IDEMPOTENCY_KEY_CHARS_MAX = 200;
export const CLAIM_LEASE_MS_DEFAULT = 30_000;
/** Retry-After, in seconds, on 503. */
const RETRY_AFTER_SECONDS = 1;

export interface HttpApiOptions {
  readonly node: NodeHost;
  readonly listen: HostPort;
  readonly logger?: Logger;
  readonly bodyBytesMax?: number;
  /** Time to receive a whole request (headers and body); then 408 and the connection closes. */
  readonly receiveTimeoutMs?: number;
  /** How long POST /admin/transfer waits to see the leadership move before answering 202. */
  readonly transferWaitMs?: number;
  /** Viewers `/events` streams to at once (VIEWERS_MAX_DEFAULT), and the backlog that cuts one off. */
  readonly viewersMax?: number;
  readonly viewerBacklogBytesMax?: number;
}

/** A failed request, answered as JSON {error, message}. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly text?: string;
  readonly headers?: Record<string, string>;
  /** Keep the response open as a viewer of this stream, starting with `first`. */
  readonly stream?: { readonly events: EventStream; readonly first: readonly object[] };
}

/** How often the heartbeats counted (not streamed one by one) are reported on `/events`. */
const HEARTBEAT_REPORT_MS = 1000;

interface ApiRequest {
  readonly raw: IncomingMessage;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /** Path segments, percent-decoded. */
  readonly segments: readonly string[];
  /** The request target as received, for a redirect to the same path on the leader. */
  readonly target: string;
  /** The body, once read (it is read once). */
  body?: Promise<string>;
}

interface Route {
  readonly method: string;
  /** Segments; `:name` matches any one segment. */
  readonly pattern: readonly string[];
  readonly handler: (request: ApiRequest, params: Record<string, string>) => Promise<Reply>;
}

export class HttpApi {
  readonly responsesByStatus = new Map<number, number>();
  private readonly logger: Logger;
  private readonly bodyBytesMax: number;
  private readonly server: Server;
  private readonly routes: Route[];
  private readonly sockets = new Set<Socket>();
  /** SPEC §9: the node's trace as Server-Sent Events. */
  readonly events: EventStream;
  private stopTracing: (() => void) | null = null;

  constructor(private readonly options: HttpApiOptions) {
    this.logger = options.logger ?? createLogger('info');
    this.events = new EventStream({
      name: `S${options.node.id}`,
      logger: this.logger,
      // The node traces only while someone watches: a busy node's every message would otherwise be copied.
      onViewers: (count) => this.traceWhile(count > 0),
      ...(options.viewersMax ? { viewersMax: options.viewersMax } : {}),
      ...(options.viewerBacklogBytesMax ? { backlogBytesMax: options.viewerBacklogBytesMax } : {}),
    });
    this.bodyBytesMax = options.bodyBytesMax ?? BODY_BYTES_MAX_DEFAULT;
    this.server = createServer({ requestTimeout: options.receiveTimeoutMs ?? 10_000, headersTimeout: Math.min(options.receiveTimeoutMs ?? 10_000, 5000), keepAliveTimeout: 5000 }, (req, res) => {
      void this.serve(req, res);
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    // Malformed HTTP, oversized headers, a request that takes too long to arrive: answer in JSON and close.
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      if (!socket.writable) return socket.destroy();
      const [status, code, message] =
        error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'request_timeout', 'the request did not arrive in time']
          : error.code === 'HPE_HEADER_OVERFLOW'
            ? [431, 'headers_too_large', 'the request headers are too large']
            : [400, 'bad_request', 'the request is not valid HTTP/1.1'];
      this.count(status);
      const body = JSON.stringify({ error: code, message });
      socket.end(`HTTP/1.1 ${status} ${code.replace('_', ' ')}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    });
    const node = options.node;
    // The body is read before a redirect, so that the connection stays usable for the client's next request.
    const leaderOnly = (handler: Route['handler']): Route['handler'] => async (request, params) => {
      await this.readBody(request);
      this.requireLeader(request);
      return handler(request, params);
    };
    this.routes = [
      { method: 'GET', pattern: ['status'], handler: async (request) => ({ status: 200, body: this.statusBody(request) }) },
      { method: 'GET', pattern: ['events'], handler: async () => ({ status: 200, stream: { events: this.events, first: [{ type: 'state', t: node.uptimeMs(), node: node.id, ...node.status() }] } }) },
      { method: 'GET', pattern: ['metrics'], handler: async () => ({ status: 200, text: this.metricsText(), headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } }) },
      { method: 'GET', pattern: ['kv', ':key'], handler: (request, params) => this.getKey(request, params['key']!) },
      { method: 'PUT', pattern: ['kv', ':key'], handler: leaderOnly((request, params) => this.putKey(request, params['key']!)) },
      { method: 'DELETE', pattern: ['kv', ':key'], handler: leaderOnly((request, params) => this.deleteKey(request, params['key']!)) },
      { method: 'POST', pattern: ['kv', ':key', 'cas'], handler: leaderOnly((request, params) => this.casKey(request, params['key']!)) },
      { method: 'POST', pattern: ['queues', ':queue', 'tasks'], handler: leaderOnly((request, params) => this.enqueue(request, params['queue']!)) },
      { method: 'POST', pattern: ['queues', ':queue', 'claim'], handler: leaderOnly((request, params) => this.claim(request, params['queue']!)) },
      { method: 'POST', pattern: ['queues', ':queue', 'tasks', ':id', 'ack'], handler: leaderOnly((request, params) => this.finishTask(request, 'ack', params['queue']!, params['id']!)) },
      { method: 'POST', pattern: ['queues', ':queue', 'tasks', ':id', 'nack'], handler: leaderOnly((request, params) => this.finishTask(request, 'nack', params['queue']!, params['id']!)) },
      { method: 'GET', pattern: ['queues', ':queue'], handler: (request, params) => this.queueStats(request, params['queue']!) },
      { method: 'POST', pattern: ['admin', 'transfer'], handler: leaderOnly((request) => this.transfer(request)) },
      { method: 'POST', pattern: ['admin', 'snapshot'], handler: (request) => this.snapshot(request) },
    ];
  }

  /** Listens; resolves with the address (port 0 picks a free one). */
  async start(): Promise<HostPort> {
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.listen.port, this.options.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.logger.error(`HTTP server failed: ${error.message}`));
    const address = this.address();
    this.logger.info(`S${this.options.node.id} serves HTTP on ${formatHostPort(address)}`, { http: formatHostPort(address) });
    return address;
  }

  address(): HostPort {
    const address = this.server.address() as AddressInfo | null;
    if (!address) throw new Error('the HTTP server is not listening');
    return { host: address.address, port: address.port };
  }

  /** Stops listening and closes every connection (requests in flight are cut). */
  async stop(): Promise<void> {
    this.events.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  metricsText(): string {
    const node = this.options.node;
    const status = node.status();
    const counters = node.counters;
    const transport = node.transport.metrics;
    const roles = ['follower', 'precandidate', 'candidate', 'leader'] as const;
    return new MetricsText()
      .family('raft_role', 'gauge', 'The role this node is in (1) and the others (0).', roles.map((role) => [{ role }, status.role === role ? 1 : 0] as const))
      .family('raft_is_leader', 'gauge', 'Whether this node is the leader.', status.role === 'leader' ? 1 : 0)
      .family('raft_term', 'gauge', 'The current term.', status.term)
      .family('raft_leader_id', 'gauge', 'The leader this node knows (0: none).', status.leader)
      .family('raft_commit_index', 'gauge', 'The highest log index known committed.', status.commitIndex)
      .family('raft_applied_index', 'gauge', 'The highest log index applied to the state machine.', status.lastApplied)
      .family('raft_last_log_index', 'gauge', 'The last index in the log.', status.lastLogIndex)
      .family('raft_snapshot_index', 'gauge', 'The last index the latest snapshot covers.', status.snapshotIndex)
      .family('raft_leader_changes_total', 'counter', 'Times this node saw a new leader.', counters.leaderChanges)
      .family('raft_proposals_total', 'counter', 'Client writes proposed through this node.', counters.proposals)
      .family('raft_proposals_committed_total', 'counter', 'Client writes applied, answered from this node.', counters.proposalsCommitted)
      .family('raft_proposals_failed_total', 'counter', 'Client writes refused or lost at this node.', counters.proposalsFailed)
      .family('raft_reads_total', 'counter', 'Linearizable reads asked of this node.', counters.reads)
      .family('raft_reads_failed_total', 'counter', 'Linearizable reads refused at this node.', counters.readsFailed)
      .family('raft_request_timeouts_total', 'counter', 'Client requests with no outcome in time.', counters.requestTimeouts)
      .family('raft_entries_applied_total', 'counter', 'Log entries applied since the process started.', counters.entriesApplied)
      .family('raft_snapshots_total', 'counter', 'Snapshots taken here or installed from the leader.', [
        [{ phase: 'taken' }, counters.snapshotsTaken],
        [{ phase: 'installed' }, counters.snapshotsInstalled],
      ])
      .family('raft_batches_total', 'counter', 'Batches of inputs made durable with one fsync (group commit).', counters.batches)
      .family('raft_batch_inputs_total', 'counter', 'Inputs handled in those batches.', counters.batchInputs)
      .family('raft_inbox_dropped_total', 'counter', 'Peer messages dropped because the input queue was full.', counters.inboxDropped)
      .family('raft_absurd_terms_refused_total', 'counter', 'Peer messages refused for a term too far ahead of this node\'s (TERM_JUMP_MAX).', counters.absurdTermsRefused)
      .family('raft_messages_sent_total', 'counter', 'Raft messages written to peer connections.', transport.messagesSent)
      .family('raft_messages_received_total', 'counter', 'Valid Raft messages received from peers.', transport.messagesReceived)
      .family('raft_messages_dropped_total', 'counter', 'Raft messages not sent, by reason.', Object.entries(transport.messagesDroppedByReason).map(([reason, value]) => [{ reason }, value] as const))
      .family('raft_peer_bytes_sent_total', 'counter', 'Bytes written to peer connections.', transport.bytesSent)
      .family('raft_peer_bytes_received_total', 'counter', 'Bytes read from peer connections.', transport.bytesReceived)
      .family('raft_peer_connections_closed_total', 'counter', 'Peer connections closed, by reason.', Object.entries(transport.connectionsClosedByReason).map(([reason, value]) => [{ reason }, value] as const))
      .histogram('raft_fsync_duration_seconds', 'Duration of each fsync of the write-ahead log and snapshot.', node.fsyncSeconds)
      .family('http_responses_total', 'counter', 'HTTP responses, by status code.', [...this.responsesByStatus].sort(([a], [b]) => a - b).map(([code, value]) => [{ code }, value] as const))
      .toString();
  }

  // ---- Serving --------------------------------------------------------------------------------------------

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      reply = await this.route(req);
    } catch (error) {
      if (error instanceof HttpError) {
        reply = { status: error.status, body: { error: error.code, message: error.message, ...error.extra }, headers: error.headers };
      } else {
        const failure = error instanceof Error ? error : new Error(String(error));
        this.logger.error(`HTTP ${req.method} ${req.url} failed: ${failure.message}`, { stack: failure.stack });
        reply = { status: 500, body: { error: 'internal', message: 'the node failed to handle the request; see its log' } };
      }
    }
    this.reply(req, res, reply);
  }

  /** /status, with `?log=N` the latest N entries (at most 256) and the state machine's contents too. */
  private statusBody(request: ApiRequest): object {
    const node = this.options.node;
    const text = request.query.get('log');
    if (text === null) return node.status();
    const count = Number(text);
    if (!Number.isInteger(count) || count < 0 || count > 256) throw new HttpError(400, 'bad_request', `log: expected a whole number from 0 to 256, got "${text}"`);
    return { ...node.status(), log: node.logTail(count), machine: node.machineView() };
  }

  private traceWhile(watched: boolean): void {
    if (watched && !this.stopTracing) this.stopTracing = this.streamTrace();
    else if (!watched && this.stopTracing) {
      this.stopTracing();
      this.stopTracing = null;
    }
  }

  /**
   * Publish the node's trace on `events`, heartbeats and their answers counted (a report a second) rather than
   * streamed one by one (SPEC §9). Returns the way to stop.
   */
  private streamTrace(): () => void {
    const node = this.options.node;
    const counted = { sent: 0, received: 0 };
    const listener = (event: NodeTraceEvent) => {
      if (event.type === 'send' && (event.message.type === 'Heartbeat' || event.message.type === 'HeartbeatResponse')) counted.sent++;
      else if (event.type === 'deliver' && (event.messageType === 'Heartbeat' || event.messageType === 'HeartbeatResponse')) counted.received++;
      else this.events.publish(event);
    };
    node.traceListeners.add(listener);
    const timer = setInterval(() => {
      if (counted.sent + counted.received === 0) return;
      this.events.publish({ type: 'heartbeats', t: node.uptimeMs(), node: node.id, ...counted });
      counted.sent = 0;
      counted.received = 0;
    }, HEARTBEAT_REPORT_MS);
    timer.unref();
    return () => {
      clearInterval(timer);
      node.traceListeners.delete(listener);
    };
  }

  private reply(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
    if (res.headersSent || res.destroyed) return;
    if (reply.stream) {
      const refused = reply.stream.events.open(req, res, reply.stream.first);
      if (refused === null) return this.count(200);
      reply = { status: 503, body: { error: 'too_many_viewers', message: refused }, headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } };
    }
    this.count(reply.status);
    const headers: Record<string, string> = { ...reply.headers };
    let payload: string | undefined;
    if (reply.text !== undefined) payload = reply.text;
    else if (reply.body !== undefined && reply.status !== 204) {
      payload = JSON.stringify(reply.body) + '\n';
      headers['content-type'] ??= 'application/json';
    }
    if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
    // A request whose body was not read to the end leaves the connection unusable: close it after the reply.
    if (!req.complete) headers['connection'] = 'close';
    res.writeHead(reply.status, headers);
    res.end(payload);
    if (!req.complete) {
      res.once('finish', () => {
        req.socket.end();
        setTimeout(() => req.socket.destroy(), 1000).unref();
      });
    }
  }

  private count(status: number): void {
    this.responsesByStatus.set(status, (this.responsesByStatus.get(status) ?? 0) + 1);
  }

  private async route(req: IncomingMessage): Promise<Reply> {
    const target = req.url ?? '/';
    let url: URL;
    try {
      url = new URL(target, 'http://node');
    } catch {
      throw new HttpError(400, 'bad_request', 'the request target is not a valid path');
    }
    const rawSegments = url.pathname.split('/').slice(1);
    if (rawSegments[rawSegments.length - 1] === '') rawSegments.pop();
    let segments: string[];
    try {
      segments = rawSegments.map((segment) => decodeURIComponent(segment));
    } catch {
      throw new HttpError(400, 'bad_request', 'the path has a malformed percent-encoding');
    }
    const request: ApiRequest = { raw: req, method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, segments, target };
    const allowed: string[] = [];
    for (const route of this.routes) {
      const params = matchRoute(route.pattern, segments);
      if (!params) continue;
      if (route.method !== request.method) {
        allowed.push(route.method);
        continue;
      }
      return route.handler(request, params);
    }
    if (allowed.length > 0) {
      throw new HttpError(405, 'method_not_allowed', `${request.method} is not allowed on ${url.pathname}; use ${allowed.join(' or ')}`, {}, { allow: allowed.join(', ') });
    }
    throw new HttpError(404, 'not_found', `there is no route ${request.method} ${url.pathname}`);
  }

  // ---- Handlers -------------------------------------------------------------------------------------------

  private async getKey(request: ApiRequest, key: string): Promise<Reply> {
    await this.readBody(request);
    const node = this.options.node;
    if (isStale(request)) {
      const value = node.machine.get(key);
      if (value === undefined) throw new HttpError(404, 'not_found', `key ${JSON.stringify(key)} is not set`);
      return { status: 200, body: { value } };
    }
    const outcome = await node.read(key);
    const result = this.expectDone(request, outcome) as { ok: boolean; value?: string };
    if (!result.ok) throw new HttpError(404, 'not_found', `key ${JSON.stringify(key)} is not set`);
    return { status: 200, body: { value: result.value } };
  }

  private async putKey(request: ApiRequest, key: string): Promise<Reply> {
    const body = await this.readJsonObject(request, ['value'], []);
    const value = body['value'];
    if (typeof value !== 'string') throw new HttpError(400, 'invalid_field', `value: expected a string, got ${describe(value)}`);
    return this.write(request, 'put', { op: 'put', key, value }, (result, index, term) => {
      this.checkLimit(result);
      return { status: 200, body: { index, term } };
    });
  }

  private async deleteKey(request: ApiRequest, key: string): Promise<Reply> {
    await this.readBody(request);
    return this.write(request, 'delete', { op: 'delete', key }, (result, index, term) => ({
      status: 200,
      body: { existed: (result as { existed?: boolean }).existed ?? false, index, term },
    }));
  }

  private async casKey(request: ApiRequest, key: string): Promise<Reply> {
    const body = await this.readJsonObject(request, ['from', 'to'], []);
    const { from, to } = body;
    if (typeof from !== 'string') throw new HttpError(400, 'invalid_field', `from: expected a string, got ${describe(from)}`);
    if (typeof to !== 'string') throw new HttpError(400, 'invalid_field', `to: expected a string, got ${describe(to)}`);
    return this.write(request, 'cas', { op: 'cas', key, from, to }, (result, index, term) => {
      const outcome = result as { ok: boolean; error?: string; value?: string | null; message?: string };
      if (!outcome.ok && outcome.error === 'cas_mismatch') {
        throw new HttpError(409, 'cas_mismatch', outcome.message ?? `key ${JSON.stringify(key)} does not hold ${JSON.stringify(from)}`, { value: outcome.value ?? null });
      }
      this.checkLimit(result);
      return { status: 200, body: { index, term } };
    });
  }

  private async enqueue(request: ApiRequest, queue: string): Promise<Reply> {
    const body = await this.readJsonObject(request, ['payload'], []);
    if (!('payload' in body)) throw new HttpError(400, 'invalid_field', 'payload: expected a JSON value, got nothing');
    return this.write(request, 'enqueue', { op: 'enqueue', queue, payload: body['payload'] as never }, (result) => {
      this.checkLimit(result);
      return { status: 201, body: { id: (result as { id: number }).id } };
    });
  }

  private async claim(request: ApiRequest, queue: string): Promise<Reply> {
    const body = await this.readJsonObject(request, ['worker'], ['leaseMs']);
    const worker = body['worker'];
    const leaseMs = body['leaseMs'] ?? CLAIM_LEASE_MS_DEFAULT;
    if (typeof worker !== 'string' || worker === '') throw new HttpError(400, 'invalid_field', `worker: expected a non-empty string, got ${describe(worker)}`);
    if (typeof leaseMs !== 'number' || !Number.isSafeInteger(leaseMs) || leaseMs < 1 || leaseMs > ENVELOPE_LIMITS.leaseMsMax) {
      throw new HttpError(400, 'invalid_field', `leaseMs: expected a whole number from 1 to ${ENVELOPE_LIMITS.leaseMsMax}, got ${describe(leaseMs)}`);
    }
    return this.write(request, 'claim', { op: 'claim', queue, worker, leaseMs }, (result) => {
      const claimed = result as { ok: boolean; empty?: boolean; id?: number; payload?: unknown; attempt?: number; leaseExpiresAt?: number };
      this.checkQueueError(result);
      if (claimed.empty) return { status: 204 };
      return { status: 200, body: { id: claimed.id, payload: claimed.payload, attempt: claimed.attempt, leaseExpiresAt: claimed.leaseExpiresAt } };
    });
  }

  private async finishTask(request: ApiRequest, op: 'ack' | 'nack', queue: string, idText: string): Promise<Reply> {
    const task = Number(idText);
    if (!/^\d+$/.test(idText) || !Number.isSafeInteger(task) || task < 1) throw new HttpError(404, 'not_found', `task id ${JSON.stringify(idText)} is not a positive whole number`);
    const body = await this.readJsonObject(request, [], ['worker'], true);
    const worker = body['worker'];
    if (worker !== undefined && typeof worker !== 'string') throw new HttpError(400, 'invalid_field', `worker: expected a string, got ${describe(worker)}`);
    const command: ServiceCommand = worker === undefined ? { op, queue, task } : { op, queue, task, worker };
    return this.write(request, op, command, (result, index, term) => {
      this.checkQueueError(result);
      const { ok: _ok, ...fields } = result as Record<string, unknown>;
      return { status: 200, body: { ...fields, index, term } };
    });
  }

  private async queueStats(request: ApiRequest, queue: string): Promise<Reply> {
    await this.readBody(request);
    const node = this.options.node;
    const counts = () => {
      const summary = node.machine.queues().find((candidate) => candidate.name === queue);
      return { pending: summary?.pending ?? 0, claimed: summary?.claimed ?? 0, done: summary?.done ?? 0, dead: summary?.dead ?? 0 };
    };
    if (isStale(request)) return { status: 200, body: counts() };
    // A read index confirmed by the leader (thesis §6.4), then the counts of this node's machine, which has applied
    // at least that far.
    this.expectDone(request, await node.read(''));
    return { status: 200, body: counts() };
  }

  private async transfer(request: ApiRequest): Promise<Reply> {
    const body = await this.readJsonObject(request, [], ['to'], true);
    const node = this.options.node;
    let to = body['to'];
    if (to === undefined) {
      to = node.bestTransferTarget();
      if (to === NONE) throw new HttpError(409, 'transfer_refused', 'there is no other voter to transfer leadership to');
    }
    if (typeof to !== 'number' || !Number.isSafeInteger(to) || to < 1) throw new HttpError(400, 'invalid_field', `to: expected a node id, got ${describe(to)}`);
    const result = await node.transfer(to);
    if (!result.ok) throw new HttpError(409, 'transfer_refused', `the transfer was refused: ${result.reason ?? 'unknown reason'}`);
    const from = node.id;
    const deadline = Date.now() + (this.options.transferWaitMs ?? 3000);
    while (Date.now() < deadline) {
      const status = node.status();
      if (status.leader === to) return { status: 200, body: { from, to, leader: to, term: status.term } };
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { status: 202, body: { from, to, message: `S${from} asked S${to} to take over; it has not yet` } };
  }

  private async snapshot(request: ApiRequest): Promise<Reply> {
    await this.readBody(request);
    const node = this.options.node;
    const result = await node.snapshot();
    return { status: 200, body: { id: node.id, taken: result.ok, snapshotIndex: node.status().snapshotIndex } };
  }

  // ---- Writes and outcomes --------------------------------------------------------------------------------

  private async write(
    request: ApiRequest,
    op: ClientOp,
    command: ServiceCommand,
    onDone: (result: unknown, index: number, term: number) => Reply,
  ): Promise<Reply> {
    const session = idempotencySession(request, command);
    try {
      // The Replica encodes the command inside the core's step: a command it cannot encode must not get there.
      encodeEnvelope({ timeMs: 0, command, ...(session ? { session } : {}) });
    } catch (error) {
      if (error instanceof EnvelopeError) throw new HttpError(400, 'invalid_field', error.message.replace(/^envelope\.command\./, '').replace(/^envelope\./, ''));
      throw error;
    }
    const outcome = await this.options.node.propose(op, command, session);
    const result = this.expectDone(request, outcome);
    const sessionError = result as { ok?: boolean; error?: string; message?: string };
    if (sessionError.ok === false && (sessionError.error === 'session_expired' || sessionError.error === 'stale_request')) {
      throw new HttpError(409, 'idempotency_key_expired', `the Idempotency-Key is no longer remembered, so this retry cannot be told from a new write; use a new key (${sessionError.error})`);
    }
    return onDone(result, (outcome as { index: number }).index, (outcome as { term: number }).term);
  }

  /** The result of a finished request, or the HttpError that says why there is none. */
  private expectDone(request: ApiRequest, outcome: RequestOutcome): unknown {
    switch (outcome.kind) {
      case 'done':
        return outcome.result;
      case 'rejected':
        if (outcome.reason === 'not-leader') this.redirectOrUnavailable(request, outcome.leader);
        if (outcome.reason === 'no-leader' || outcome.reason === 'lost-leadership') this.redirectOrUnavailable(request, NONE);
        throw unavailable(outcome.reason === 'overloaded' ? 'overloaded' : outcome.reason === 'transferring' ? 'transferring' : 'refused', `the node refused the request: ${outcome.reason}`);
      case 'lost':
        if (outcome.reason === 'overwritten') throw unavailable('not_committed', 'a new leader replaced the entry before it committed, so it had no effect; retry');
        throw unavailable('outcome_unknown', `the request's entry was ${outcome.reason}; it may or may not have taken effect; retry with the same Idempotency-Key`);
      case 'timeout':
        throw unavailable('timeout', 'no outcome in time; the request may or may not take effect; retry with the same Idempotency-Key');
      case 'overloaded':
        throw unavailable('overloaded', `the node is overloaded: ${outcome.reason}`);
      case 'stopped':
        throw unavailable('stopping', 'the node is shutting down');
    }
  }

  private requireLeader(request: ApiRequest): void {
    const status = this.options.node.status();
    if (status.role !== 'leader') this.redirectOrUnavailable(request, status.leader);
  }

  private redirectOrUnavailable(request: ApiRequest, leader: NodeId): never {
    const node = this.options.node;
    if (leader === NONE || leader === node.id) throw unavailable('no_leader', 'no leader is known now; retry shortly');
    const address = node.httpAddressOf(leader);
    if (!address) throw unavailable('leader_address_unknown', `S${leader} leads, but its HTTP address is not in this node's peer list`, { leader });
    const location = `http://${formatHostPort(address)}${request.target}`;
    throw new HttpError(307, 'not_leader', `S${node.id} is not the leader; S${leader} is`, { leader }, { location });
  }

  private checkLimit(result: unknown): void {
    const outcome = result as { ok?: boolean; error?: string; message?: string };
    if (outcome.ok === false) throw new HttpError(507, outcome.error ?? 'failed', outcome.message ?? 'the service refused the write');
  }

  private checkQueueError(result: unknown): void {
    const outcome = result as { ok?: boolean; error?: string; message?: string };
    if (outcome.ok !== false) return;
    const status = outcome.error === 'unknown_task' ? 404 : outcome.error === 'limit_reached' ? 507 : 409;
    throw new HttpError(status, outcome.error ?? 'failed', outcome.message ?? 'the queue refused the request');
  }

  // ---- Bodies ---------------------------------------------------------------------------------------------

  /** The body as text; 413 (and the connection closed) past the limit, without reading the rest. */
  private readBody(request: ApiRequest): Promise<string> {
    request.body ??= this.receiveBody(request.raw);
    return request.body;
  }

  private receiveBody(req: IncomingMessage): Promise<string> {
    const limit = this.bodyBytesMax;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return Promise.reject(tooLarge(limit));
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      const onData = (chunk: Buffer) => {
        bytes += chunk.byteLength;
        if (bytes > limit) {
          cleanup();
          req.pause();
          reject(tooLarge(limit));
          return;
        }
        chunks.push(chunk);
      };
      const onEnd = () => {
        cleanup();
        resolve(Buffer.concat(chunks).toString('utf8'));
      };
      const onError = () => {
        cleanup();
        reject(new HttpError(400, 'bad_request', 'the request body could not be read'));
      };
      const cleanup = () => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
      };
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
    });
  }

  /** A JSON object with exactly the `required` fields and any of the `optional` ones. */
  private async readJsonObject(request: ApiRequest, required: readonly string[], optional: readonly string[], emptyAllowed = false): Promise<Record<string, unknown>> {
    const text = await this.readBody(request);
    if (text.trim() === '' && emptyAllowed) return {};
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new HttpError(400, 'malformed_json', text.trim() === '' ? 'the request needs a JSON body' : 'the request body is not valid JSON');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'malformed_json', 'the request body must be a JSON object');
    const fields = value as Record<string, unknown>;
    for (const name of Object.keys(fields)) {
      if (!required.includes(name) && !optional.includes(name)) {
        const expected = [...required, ...optional];
        throw new HttpError(400, 'invalid_field', `${name}: unknown field (expected ${expected.length === 0 ? 'none' : `only ${expected.join(', ')}`})`);
      }
    }
    for (const name of required) if (!(name in fields)) throw new HttpError(400, 'invalid_field', `${name}: missing`);
    return fields;
  }
}

function matchRoute(pattern: readonly string[], segments: readonly string[]): Record<string, string> | null {
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const part = pattern[i]!;
    const segment = segments[i]!;
    if (part.startsWith(':')) {
      if (segment === '') return null;
      params[part.slice(1)] = segment;
    } else if (part !== segment) {
      return null;
    }
  }
  return params;
}

function isStale(request: ApiRequest): boolean {
  const stale = request.query.get('stale');
  if (stale === null || stale === 'false') return false;
  if (stale === 'true' || stale === '') return true;
  throw new HttpError(400, 'invalid_query', `stale: expected true or false, got ${JSON.stringify(stale.slice(0, 40))}`);
}

function idempotencySession(request: ApiRequest, command: ServiceCommand): SessionTag | undefined {
  const header = request.raw.headers['idempotency-key'];
  if (header === undefined) return undefined;
  const key = Array.isArray(header) ? header[0]! : header;
  if (key.length < 1 || key.length > IDEMPOTENCY_KEY_CHARS_MAX || !/^[\x21-\x7e]+$/.test(key)) {
    throw new HttpError(400, 'invalid_idempotency_key', `Idempotency-Key: expected 1 to ${IDEMPOTENCY_KEY_CHARS_MAX} visible ASCII characters`);
  }
  // One session per key and request, with one request in it: a retry is the same (client, sequence), answered
  // from the session's saved result (client-sessions.ts). The command's fingerprint is part of the session, so
  // a key reused for a different write is a different session and is applied, never answered with another
  // write's result.
  const fingerprint = createHash('sha256').update(JSON.stringify(command)).digest('hex').slice(0, 16);
  return { client: `idempotency-key:${key}:${fingerprint}`, sequence: 1 };
}

function unavailable(code: string, message: string, extra: Record<string, unknown> = {}): HttpError {
  return new HttpError(503, code, message, extra, { 'retry-after': String(RETRY_AFTER_SECONDS) });
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'body_too_large', `the request body is larger than ${limit} bytes`);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}…` : JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return String(value);
}
