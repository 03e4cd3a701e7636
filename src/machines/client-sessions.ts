// Exactly-once client sessions (Raft thesis §6.3). A client numbers its requests 1, 2, 3, ...; the machine keeps,
// per client, the latest sequence number and its result. A retry (the same number) gets the saved result and is
// not applied again; an older number gets 'stale_request'.
//
// A session starts with sequence 1 and ends when it has been idle for sessionTtlMs of log time, or when it is the
// least recently used one and the table is full. Both are decided by log time and order alone, so every replica
// ends the same sessions at the same entry. The ids of ended sessions are remembered (a bounded number of them):
// any later request under such an id, a retry included, gets 'session_expired' instead of being applied a second
// time. A client that gets 'session_expired' starts again under a new client id.

import type { ServiceOptions } from './service-options.ts';

export interface SessionTag {
  readonly client: string;
  readonly sequence: number;
}

export interface SessionError {
  readonly ok: false;
  readonly error: 'stale_request' | 'session_expired';
  readonly message: string;
}

/** What to do with a request: apply it, answer with the saved result of its first application, or refuse it. */
export type SessionVerdict =
  | { readonly kind: 'apply' }
  | { readonly kind: 'retry'; readonly savedResult: unknown }
  | { readonly kind: 'refuse'; readonly result: SessionError };

export type SessionOptions = Pick<ServiceOptions, 'sessionsMax' | 'sessionTtlMs' | 'expiredClientsRemembered'>;

interface Session {
  lastSequence: number;
  /** The saved result as JSON text: never shared with a caller, and hashed the same on every replica. */
  lastResultJson: string;
  lastActiveMs: number;
}

export interface ClientSessionsSnapshot {
  /** [client, lastSequence, lastResultJson, lastActiveMs], least recently used first. */
  readonly sessions: readonly (readonly [string, number, string, number])[];
  /** Ended sessions, oldest first. */
  readonly expiredClients: readonly string[];
}

export class ClientSessions {
  // Map order is use order: a session moves to the end whenever it is used. Log time never goes back, so the
  // first session is also the longest idle, and both expiry and LRU eviction take from the front.
  private readonly sessions = new Map<string, Session>();
  private readonly expiredClients = new Set<string>();

  constructor(private readonly options: SessionOptions) {}

  get size(): number {
    return this.sessions.size;
  }

  /** Ends the sessions idle for sessionTtlMs or more at log time `nowMs`. */
  expireIdle(nowMs: number): void {
    for (const [client, session] of this.sessions) {
      if (session.lastActiveMs + this.options.sessionTtlMs > nowMs) break;
      this.end(client);
    }
  }

  /** Decides what to do with a request tagged `tag`, arriving at log time `nowMs`. */
  check(tag: SessionTag, nowMs: number): SessionVerdict {
    const session = this.sessions.get(tag.client);
    if (!session) {
      if (this.expiredClients.has(tag.client)) {
        return refuse('session_expired', `the session of client ${JSON.stringify(tag.client)} expired; start a new session under a new client id`);
      }
      if (tag.sequence !== 1) {
        return refuse(
          'session_expired',
          `client ${JSON.stringify(tag.client)} has no session (it expired, or never began): request ${tag.sequence} cannot be told apart from a retry; start a new session at sequence 1 under a new client id`,
        );
      }
      return { kind: 'apply' };
    }
    this.touch(tag.client, session, nowMs);
    if (tag.sequence === session.lastSequence) return { kind: 'retry', savedResult: JSON.parse(session.lastResultJson) as unknown };
    if (tag.sequence < session.lastSequence) {
      return refuse(
        'stale_request',
        `request ${tag.sequence} of client ${JSON.stringify(tag.client)} is older than its latest, ${session.lastSequence}, whose result is the only one kept`,
      );
    }
    return { kind: 'apply' };
  }

  /** Saves the result of a request that `check` said to apply. */
  record(tag: SessionTag, result: unknown, nowMs: number): void {
    const lastResultJson = JSON.stringify(result);
    const session = this.sessions.get(tag.client);
    if (session) {
      session.lastSequence = tag.sequence;
      session.lastResultJson = lastResultJson;
      this.touch(tag.client, session, nowMs);
      return;
    }
    this.sessions.set(tag.client, { lastSequence: tag.sequence, lastResultJson, lastActiveMs: nowMs });
    if (this.sessions.size > this.options.sessionsMax) {
      const leastRecentlyUsed = this.sessions.keys().next().value;
      if (leastRecentlyUsed !== undefined) this.end(leastRecentlyUsed);
    }
  }

  toSnapshot(): ClientSessionsSnapshot {
    return {
      sessions: [...this.sessions].map(([client, s]) => [client, s.lastSequence, s.lastResultJson, s.lastActiveMs] as const),
      expiredClients: [...this.expiredClients],
    };
  }

  static fromSnapshot(data: unknown, options: SessionOptions): ClientSessions {
    const restored = new ClientSessions(options);
    const { sessions, expiredClients } = (data ?? {}) as Record<string, unknown>;
    if (!Array.isArray(sessions) || !Array.isArray(expiredClients)) {
      throw new Error('client sessions snapshot: expected {sessions: [...], expiredClients: [...]}');
    }
    sessions.forEach((entry: unknown, index) => {
      const fields = entry as unknown[];
      const ok =
        Array.isArray(fields) &&
        fields.length === 4 &&
        typeof fields[0] === 'string' &&
        Number.isSafeInteger(fields[1]) &&
        typeof fields[2] === 'string' &&
        Number.isSafeInteger(fields[3]);
      if (!ok) throw new Error(`client sessions snapshot: sessions[${index}]: expected [client, lastSequence, lastResultJson, lastActiveMs]`);
      const [client, lastSequence, lastResultJson, lastActiveMs] = fields as [string, number, string, number];
      restored.sessions.set(client, { lastSequence, lastResultJson, lastActiveMs });
    });
    expiredClients.forEach((client: unknown, index) => {
      if (typeof client !== 'string') throw new Error(`client sessions snapshot: expiredClients[${index}]: expected a string`);
      restored.expiredClients.add(client);
    });
    return restored;
  }

  private touch(client: string, session: Session, nowMs: number): void {
    session.lastActiveMs = nowMs;
    this.sessions.delete(client);
    this.sessions.set(client, session);
  }

  private end(client: string): void {
    this.sessions.delete(client);
    if (this.options.expiredClientsRemembered === 0) return;
    this.expiredClients.add(client);
    if (this.expiredClients.size > this.options.expiredClientsRemembered) {
      const oldest = this.expiredClients.values().next().value;
      if (oldest !== undefined) this.expiredClients.delete(oldest);
    }
  }
}

function refuse(error: SessionError['error'], message: string): SessionVerdict {
  return { kind: 'refuse', result: { ok: false, error, message } };
}
