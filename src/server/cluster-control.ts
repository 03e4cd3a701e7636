// `raft-playground cluster --ui` (SPEC §9): real node processes behind a fault proxy on every link, and one
// loopback HTTP server that serves the built page and a control API for it. Every /api request needs the token
// (`Authorization: Bearer …` or `?token=`, since a browser's EventSource cannot send headers).
//
//   GET  /api/cluster    the nodes (id, HTTP address, up), the links cut, the token-free facts the page needs
//   GET  /api/events     every node's /events merged into one stream, `t` restamped in ms since the control
//                        server began (one clock for all), with crash, restart and network events of its own;
//                        each node's state (with its log's tail) every STATE_EVERY_MS
//   POST /api/act        a scenario action, as the simulator takes it (SPEC §3): crash (SIGKILL), restart,
//                        partition, cut, mend, heal, put, get, delete, enqueue, claim, ack, nack, snapshot,
//                        transfer; answered {ok, detail} or {error, message}
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, get, type ClientRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import { EventStream } from './event-stream.ts';
import { jsonOf, sendRequest } from './http-client.ts';
import type { Logger } from './logger.ts';
import type { ProcessCluster } from './process-cluster.ts';

/** How often each node's state (role, term, indexes, log tail) goes out on the merged stream. */
export const STATE_EVERY_MS = 250;
/** Log entries each state carries: what the page's log grid shows. */
const LOG_TAIL = 48;
const BODY_BYTES_MAX = 64 * 1024;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

export interface ClusterControlOptions {
  readonly cluster: ProcessCluster;
  readonly token: string;
  /** The built page (dist/). */
  readonly staticDir: string;
  readonly logger: Logger;
}

type Act = Record<string, unknown> & { readonly do: string };

export class ClusterControl {
  readonly events: EventStream;
  private readonly server: Server;
  private readonly startedAt = performance.now();
  private readonly cuts = new Set<string>();
  /** Each node's /events being followed (or asked for: one at a time). */
  private readonly subscriptions = new Map<number, ClientRequest>();
  /** The nodes whose stream has begun: their events reach the page. */
  private readonly following = new Set<number>();
  private stateTimer: NodeJS.Timeout | null = null;
  private stopping = false;

  constructor(private readonly options: ClusterControlOptions) {
    this.events = new EventStream({ name: 'the cluster', logger: options.logger });
    this.server = createServer((req, res) => void this.serve(req, res));
  }

  get cluster(): ProcessCluster {
    return this.options.cluster;
  }

  /** Listens on 127.0.0.1:`port` (0: any free port); subscribes to every node. Returns the port. */
  async start(port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    for (const id of this.cluster.ids) this.subscribe(id);
    // One round after another (never two at once), and only while the page watches.
    const round = async () => {
      if (this.events.viewerCount > 0) await this.publishStates();
      if (!this.stopping) this.stateTimer = setTimeout(() => void round(), STATE_EVERY_MS);
    };
    void round();
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.stateTimer) clearTimeout(this.stateTimer);
    for (const request of this.subscriptions.values()) request.destroy();
    this.events.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private now(): number {
    return Math.round(performance.now() - this.startedAt);
  }

  // ---- The merged stream --------------------------------------------------------------------------------

  /** Follow node `id`'s /events, re-publishing each event on the cluster's clock; again after it restarts. */
  private subscribe(id: number): void {
    if (this.stopping || this.subscriptions.has(id) || !this.cluster.isRunning(id)) return;
    const request = get(`${this.cluster.endpoint(id)}/events`, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        this.subscriptions.delete(id);
        return;
      }
      this.following.add(id);
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!frame.startsWith('data: ')) continue;
          try {
            const event = JSON.parse(frame.slice(6)) as Record<string, unknown>;
            this.events.publish({ ...event, t: this.now(), nodeT: event['t'] });
          } catch {
            // A frame cut by the node's death: nothing to show.
          }
        }
      });
      response.on('close', ended);
      response.on('error', ended);
    });
    const ended = () => {
      if (this.subscriptions.get(id) !== request) return;
      this.subscriptions.delete(id);
      this.following.delete(id);
    };
    this.subscriptions.set(id, request);
    request.on('error', ended);
    request.on('close', ended);
  }

  private async publishStates(): Promise<void> {
    // Who is up and what is cut, every round: with every node down, this is what the page still hears.
    this.events.publish({ type: 'cluster', t: this.now(), node: 0, ...this.facts() });
    await Promise.all(
      this.cluster.ids.map(async (id) => {
        if (!this.cluster.isRunning(id)) return;
        this.subscribe(id); // a node restarted since: follow it again
        try {
          const response = await sendRequest(`${this.cluster.endpoint(id)}/status?log=${LOG_TAIL}`, { timeoutMs: 1000 });
          if (response.status === 200) this.events.publish({ ...jsonOf(response), type: 'state', t: this.now(), node: id });
        } catch {
          // Starting or just killed: the next round will tell.
        }
      }),
    );
  }

  // ---- HTTP ---------------------------------------------------------------------------------------------

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (url.pathname.startsWith('/api/')) {
        if (!this.authorized(req, url)) return this.json(res, 401, { error: 'unauthorized', message: 'this control API needs the token that `cluster --ui` printed' });
        if (req.method === 'GET' && url.pathname === '/api/cluster') return this.json(res, 200, this.facts());
        if (req.method === 'GET' && url.pathname === '/api/events') {
          const refused = this.events.open(req, res, [{ type: 'cluster', t: this.now(), node: 0, ...this.facts() }]);
          if (refused) this.json(res, 503, { error: 'too_many_viewers', message: refused });
          return;
        }
        if (req.method === 'POST' && url.pathname === '/api/act') return this.json(res, 200, await this.act(await readJson(req)));
        return this.json(res, 404, { error: 'not_found', message: `there is no route ${req.method} ${url.pathname}` });
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return this.json(res, 405, { error: 'method_not_allowed', message: 'the page is read with GET' });
      this.file(res, url.pathname, req.method);
    } catch (error) {
      const status = error instanceof ActError ? 400 : 500;
      this.json(res, status, { error: status === 400 ? 'bad_request' : 'internal', message: (error as Error).message });
    }
  }

  private authorized(req: IncomingMessage, url: URL): boolean {
    const given = (req.headers.authorization ?? '').replace(/^Bearer /, '') || url.searchParams.get('token') || '';
    const expected = Buffer.from(this.options.token);
    const actual = Buffer.from(given);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }

  private facts(): object {
    return {
      nodes: this.cluster.ids.map((id) => ({ id, http: this.cluster.endpoint(id), up: this.cluster.isRunning(id), followed: this.following.has(id) })),
      cuts: [...this.cuts].map((key) => key.split('-').map(Number)),
    };
  }

  /** A scenario action on the real processes. */
  private async act(action: Act): Promise<object> {
    const node = (): number => this.nodeOf(action);
    switch (action.do) {
      case 'crash': {
        const id = node();
        if (!this.cluster.isRunning(id)) return { ok: false, detail: `S${id} is already down` };
        await this.cluster.kill(id);
        this.events.publish({ type: 'crash', t: this.now(), node: id });
        return { ok: true, detail: `S${id} was killed (SIGKILL)` };
      }
      case 'restart': {
        const id = node();
        if (this.cluster.isRunning(id)) return { ok: false, detail: `S${id} is already up` };
        await this.cluster.start(id);
        this.events.publish({ type: 'restart', t: this.now(), node: id });
        this.subscribe(id);
        return { ok: true, detail: `S${id} was started again from its data directory` };
      }
      case 'partition': {
        const groups = action['groups'];
        if (!Array.isArray(groups) || !groups.every((group) => Array.isArray(group) && group.every((id) => this.cluster.ids.includes(id as number)))) {
          throw new ActError('groups: expected lists of node ids, such as [[1], [2, 3]]');
        }
        // Nodes in no group make a group of their own together (SPEC §3).
        const listed = new Set((groups as number[][]).flat());
        const rest = this.cluster.ids.filter((id) => !listed.has(id));
        this.setCuts((from, to) => groupOf(groups as number[][], rest, from) !== groupOf(groups as number[][], rest, to));
        return { ok: true, detail: `partitioned: ${[...(groups as number[][]), ...(rest.length ? [rest] : [])].map((g) => g.map((id) => `S${id}`).join(' ')).join(' | ')}` };
      }
      case 'cut':
      case 'mend': {
        const [from, to] = [action['from'], action['to']];
        if (!this.cluster.ids.includes(from as number) || !this.cluster.ids.includes(to as number) || from === to) throw new ActError('from, to: expected two different node ids');
        const key = `${from}-${to}`;
        const cut = new Set(this.cuts);
        if (action.do === 'cut') cut.add(key);
        else cut.delete(key);
        this.setCuts((a, b) => cut.has(`${a}-${b}`));
        return { ok: true, detail: `${action.do === 'cut' ? 'cut' : 'mended'} S${from} → S${to}` };
      }
      case 'heal':
        this.setCuts(() => false);
        return { ok: true, detail: 'every link works' };
      case 'put':
      case 'get':
      case 'delete':
      case 'enqueue':
      case 'claim':
      case 'ack':
      case 'nack':
        return this.request(action);
      case 'snapshot': {
        const id = node();
        if (!this.cluster.isRunning(id)) return { ok: false, detail: `S${id} is down` };
        const response = await sendRequest(`${this.cluster.endpoint(id)}/admin/snapshot`, { method: 'POST', timeoutMs: 5000 });
        return { ok: response.status < 300, status: response.status, node: id, detail: jsonOf(response) };
      }
      case 'transfer': {
        const leader = await this.leader();
        if (leader === null) return { ok: false, detail: 'there is no leader now' };
        const to = action['to'];
        const response = await sendRequest(`${this.cluster.endpoint(leader)}/admin/transfer`, { method: 'POST', body: JSON.stringify(typeof to === 'number' ? { to } : {}), timeoutMs: 5000 });
        return { ok: response.status < 300, status: response.status, node: leader, detail: jsonOf(response) };
      }
      default:
        throw new ActError(`do: expected crash, restart, partition, cut, mend, heal, put, get, delete, enqueue, claim, ack, nack, snapshot or transfer, got ${JSON.stringify(action.do)}`);
    }
  }

  private nodeOf(action: Act): number {
    const id = action['node'];
    if (typeof id !== 'number' || !this.cluster.ids.includes(id)) throw new ActError(`node: expected one of ${this.cluster.ids.join(', ')}, got ${JSON.stringify(id)}`);
    return id;
  }

  private setCuts(isCut: (from: number, to: number) => boolean): void {
    const ids = this.cluster.ids;
    this.cuts.clear();
    for (const from of ids) for (const to of ids) if (from !== to && isCut(from, to)) this.cuts.add(`${from}-${to}`);
    this.cluster.setCuts([...this.cuts].map((key) => key.split('-').map(Number) as [number, number]));
    this.events.publish({ type: 'network', t: this.now(), node: 0, cuts: [...this.cuts].map((key) => key.split('-').map(Number)) });
  }

  /**
   * A client request, as the node's HTTP API takes it (SPEC §5), sent to the node named or else to the leader,
   * following a redirect.
   */
  private async request(action: Act): Promise<object> {
    const text = (name: string) => {
      const value = action[name];
      if (typeof value !== 'string' || value === '') throw new ActError(`${name}: expected a non-empty string`);
      return encodeURIComponent(value);
    };
    let path: string;
    let init: { method: string; body?: string };
    switch (action.do) {
      case 'put':
        if (typeof action['value'] !== 'string') throw new ActError('value: expected a string');
        [path, init] = [`/kv/${text('key')}`, { method: 'PUT', body: JSON.stringify({ value: action['value'] }) }];
        break;
      case 'get':
      case 'delete':
        [path, init] = [`/kv/${text('key')}`, { method: action.do === 'get' ? 'GET' : 'DELETE' }];
        break;
      case 'enqueue':
        [path, init] = [`/queues/${text('queue')}/tasks`, { method: 'POST', body: JSON.stringify({ payload: action['payload'] ?? null }) }];
        break;
      case 'claim':
        [path, init] = [`/queues/${text('queue')}/claim`, { method: 'POST', body: JSON.stringify({ worker: action['worker'], ...(action['leaseMs'] === undefined ? {} : { leaseMs: action['leaseMs'] }) }) }];
        break;
      default: {
        const task = action['task'];
        if (!Number.isSafeInteger(task) || (task as number) < 1) throw new ActError('task: expected a task id, a whole number of at least 1');
        [path, init] = [`/queues/${text('queue')}/tasks/${task as number}/${action.do}`, { method: 'POST', body: JSON.stringify(typeof action['worker'] === 'string' ? { worker: action['worker'] } : {}) }];
      }
    }
    if (action['node'] !== undefined && action['node'] !== 'leader') this.nodeOf(action);
    const target = typeof action['node'] === 'number' ? (action['node'] as number) : await this.leader();
    if (target === null) return { ok: false, detail: 'there is no leader now' };
    if (!this.cluster.isRunning(target)) return { ok: false, detail: `S${target} is down` };
    let url = `${this.cluster.endpoint(target)}${path}`;
    for (let hop = 0; hop < 3; hop++) {
      const response = await sendRequest(url, { ...init, timeoutMs: 5000 });
      const location = response.headers['location'];
      if (response.status === 307 && typeof location === 'string') {
        url = location;
        continue;
      }
      return { ok: response.status < 300, status: response.status, node: target, detail: response.body === '' ? `${response.status}` : jsonOf(response) };
    }
    return { ok: false, detail: 'redirected too often' };
  }

  private async leader(): Promise<number | null> {
    for (const id of this.cluster.ids) {
      if (!this.cluster.isRunning(id)) continue;
      const status = await this.cluster.status(id, 500);
      if (status?.role === 'leader') return id;
    }
    return null;
  }

  private file(res: ServerResponse, pathname: string, method: string): void {
    const root = this.options.staticDir;
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return this.json(res, 400, { error: 'bad_request', message: `the path ${JSON.stringify(pathname)} is not valid percent-encoding` });
    }
    const relative = normalize(decoded).replace(/^([/\\])+/, '');
    let path = join(root, relative);
    if (!path.startsWith(root + sep) && path !== root) return this.json(res, 404, { error: 'not_found', message: 'no such file' });
    if (!existsSync(path) || statSync(path).isDirectory()) path = join(root, 'index.html');
    const stream = createReadStream(path);
    stream.once('error', (error) => {
      // Gone or unreadable meanwhile (a rebuild of dist/): say so, or cut a response already begun.
      if (!res.headersSent) this.json(res, 404, { error: 'not_found', message: `cannot read ${relative || 'index.html'}: ${error.message}` });
      else res.destroy();
    });
    stream.once('open', () => {
      res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
      if (method === 'HEAD') {
        stream.destroy();
        res.end();
      } else stream.pipe(res);
    });
  }

  private json(res: ServerResponse, status: number, body: object): void {
    if (res.headersSent) return;
    const text = `${JSON.stringify(body)}\n`;
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}

class ActError extends Error {}

function groupOf(groups: readonly number[][], rest: readonly number[], id: number): number {
  const at = groups.findIndex((group) => group.includes(id));
  return at >= 0 ? at : rest.includes(id) ? groups.length : -1;
}

async function readJson(req: IncomingMessage): Promise<Act> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > BODY_BYTES_MAX) throw new ActError(`the body is over ${BODY_BYTES_MAX} bytes`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ActError(`the body is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as Act).do !== 'string') throw new ActError('expected a scenario action, such as {"do": "crash", "node": 2}');
  return parsed as Act;
}
