// Server-Sent Events to a bounded number of viewers (SPEC §9: a node's `GET /events`, the cluster's merged
// stream). Publishing never waits: each event is written to every viewer's socket at once, and a viewer whose
// unsent backlog passes a bound (it stopped reading, or reads slower than events come) is cut off, with the
// reason logged, rather than slow the node or grow its memory.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from './logger.ts';

export const VIEWERS_MAX_DEFAULT = 8;
/** Bytes a viewer may have waiting unsent before it is cut off. */
export const VIEWER_BACKLOG_BYTES_MAX_DEFAULT = 1024 * 1024;
/** A comment line this often keeps proxies and the browser from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;

export interface EventStreamOptions {
  /** Who serves the stream, for the log ("S2", "the cluster"). */
  readonly name: string;
  readonly logger: Logger;
  readonly viewersMax?: number;
  readonly backlogBytesMax?: number;
  /** Told when the number of viewers changes: a source may trace only while someone watches. */
  readonly onViewers?: (count: number) => void;
}

interface Viewer {
  readonly res: ServerResponse;
  readonly address: string;
}

export class EventStream {
  /** Viewers cut off for falling behind, since the start. */
  cutOff = 0;
  private readonly viewers = new Set<Viewer>();
  private readonly viewersMax: number;
  private readonly backlogBytesMax: number;
  private readonly keepalive: NodeJS.Timeout;

  constructor(private readonly options: EventStreamOptions) {
    this.viewersMax = options.viewersMax ?? VIEWERS_MAX_DEFAULT;
    this.backlogBytesMax = options.backlogBytesMax ?? VIEWER_BACKLOG_BYTES_MAX_DEFAULT;
    this.keepalive = setInterval(() => this.write(': keepalive\n\n'), KEEPALIVE_MS);
    this.keepalive.unref();
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /**
   * Take `req` as a viewer: the stream's headers, then `first` (the state it starts from), then every event
   * published. Returns a sentence saying why not when the stream already has its most viewers.
   */
  open(req: IncomingMessage, res: ServerResponse, first: readonly object[]): string | null {
    if (this.viewers.size >= this.viewersMax) return `${this.options.name} already streams to ${this.viewersMax} viewers, its most`;
    const viewer: Viewer = { res, address: `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}` };
    // No CORS header: a web page elsewhere must not read a node's client values (its readers are the control
    // server, same-origin pages and tools).
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    req.socket.setNoDelay(true);
    this.viewers.add(viewer);
    this.options.onViewers?.(this.viewers.size);
    res.once('close', () => this.remove(viewer));
    for (const event of first) this.send(viewer, frame(event));
    return null;
  }

  publish(event: object): void {
    if (this.viewers.size > 0) this.write(frame(event));
  }

  /** End every stream (the server is stopping). */
  close(): void {
    clearInterval(this.keepalive);
    for (const viewer of this.viewers) viewer.res.end();
    this.viewers.clear();
    this.options.onViewers?.(0);
  }

  private remove(viewer: Viewer): void {
    if (this.viewers.delete(viewer)) this.options.onViewers?.(this.viewers.size);
  }

  private write(text: string): void {
    for (const viewer of this.viewers) this.send(viewer, text);
  }

  private send(viewer: Viewer, text: string): void {
    const res = viewer.res;
    if (res.destroyed) return;
    // writableLength: what the socket has not yet handed to the kernel. Past the bound, the viewer is not
    // keeping up (one large event alone does not count against it).
    if (res.writableLength > this.backlogBytesMax) {
      this.cutOff++;
      this.remove(viewer);
      this.options.logger.warn(`${this.options.name} cut off an event viewer at ${viewer.address}: it fell ${res.writableLength} bytes behind (the most is ${this.backlogBytesMax})`, {
        viewer: viewer.address,
        backlogBytes: res.writableLength,
      });
      res.destroy();
      return;
    }
    res.write(text);
  }
}

function frame(event: object): string {
  return `data: ${JSON.stringify(event)}\n\n`;
}
