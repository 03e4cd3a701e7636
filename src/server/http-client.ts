// A client of the nodes' HTTP API: one request, or a request to a cluster that follows leader redirects (307),
// tries the next endpoint when one cannot be reached, and waits out 503s (no leader yet) until a deadline. Used
// by the CLI's client commands, the tests and `bench cluster`.
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface HttpResponse {
  readonly url: string;
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface RequestOptions {
  readonly method?: string;
  readonly body?: string | Buffer;
  readonly headers?: Record<string, string>;
  /** No complete response in this time: the request fails with a RequestTimeoutError. */
  readonly timeoutMs?: number;
  readonly agent?: Agent;
}

export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
  readonly code = 'ETIMEDOUT';
}

/** One HTTP request; rejects when the server cannot be reached, the connection breaks or time runs out. */
export function sendRequest(url: string, options: RequestOptions = {}): Promise<HttpResponse> {
  const { method = 'GET', body, timeoutMs = 10_000 } = options;
  const headers: Record<string, string> = { ...options.headers };
  if (body !== undefined) {
    headers['content-length'] = String(Buffer.byteLength(body));
    headers['content-type'] ??= 'application/json';
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, ...(options.agent ? { agent: options.agent } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ url, status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    const timer = setTimeout(() => {
      req.destroy(new RequestTimeoutError(`${method} ${url}: no response in ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(body);
  });
}

/** The JSON of a response body, or null when it is not JSON. */
export function jsonOf(response: HttpResponse): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(response.body);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export interface ClusterClientOptions {
  /** Per attempt. */
  readonly attemptTimeoutMs?: number;
  /** All attempts together: past it, the last failure is thrown. */
  readonly deadlineMs?: number;
  readonly redirectsMax?: number;
  /** Retry 503 answers (no leader, timeout, ...) at the next endpoint until the deadline. Safe for writes only with
   *  an Idempotency-Key. Default true. */
  readonly retryUnavailable?: boolean;
  readonly agent?: Agent;
}

export class ClusterUnavailableError extends Error {
  override readonly name = 'ClusterUnavailableError';
}

/** Talks to whichever node answers, following the leader. */
export class ClusterClient {
  private preferred = 0;
  /** The leader's base URL as learned from a redirect (it may be outside the endpoint list). */
  private leaderBase: string | null = null;

  constructor(
    readonly endpoints: readonly string[],
    private readonly options: ClusterClientOptions = {},
  ) {
    if (endpoints.length === 0) throw new Error('a cluster client needs at least one endpoint');
  }

  async request(path: string, options: Omit<RequestOptions, 'agent' | 'timeoutMs'> = {}): Promise<HttpResponse> {
    const { attemptTimeoutMs = 7000, deadlineMs = 15_000, redirectsMax = 5, retryUnavailable = true } = this.options;
    const deadline = Date.now() + deadlineMs;
    let lastFailure = 'no attempt was made';
    let failuresInARow = 0;
    while (Date.now() < deadline) {
      let base = this.leaderBase ?? this.endpoints[this.preferred % this.endpoints.length]!;
      let url = base + path;
      let redirects = 0;
      let response: HttpResponse | null = null;
      try {
        for (;;) {
          const remainingMs = Math.max(1, Math.min(attemptTimeoutMs, deadline - Date.now()));
          response = await sendRequest(url, { ...options, timeoutMs: remainingMs, ...(this.options.agent ? { agent: this.options.agent } : {}) });
          const location = response.headers.location;
          if (response.status !== 307 || location === undefined) break;
          if (++redirects > redirectsMax) throw new Error(`more than ${redirectsMax} redirects from ${base}`);
          url = new URL(location, url).toString();
          base = new URL(url).origin;
          this.leaderBase = base;
        }
      } catch (error) {
        lastFailure = `${url}: ${(error as Error).message}`;
        response = null;
      }
      if (response !== null && !(retryUnavailable && response.status === 503)) {
        if (this.leaderBase === null) this.preferred %= this.endpoints.length;
        return response;
      }
      if (response !== null) lastFailure = `${url} answered 503: ${String(jsonOf(response)?.['message'] ?? response.body.trim())}`;
      // Try elsewhere: forget the leader, move to the next endpoint, and pause once every endpoint has failed.
      this.leaderBase = null;
      this.preferred = (this.preferred + 1) % this.endpoints.length;
      failuresInARow++;
      if (failuresInARow % this.endpoints.length === 0) await new Promise((resolve) => setTimeout(resolve, Math.min(200, Math.max(0, deadline - Date.now()))));
    }
    throw new ClusterUnavailableError(`no node answered in ${deadlineMs} ms; last: ${lastFailure}`);
  }
}
