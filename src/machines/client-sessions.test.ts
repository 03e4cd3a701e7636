import { describe, expect, it } from 'vitest';
import { ClientSessions, type SessionOptions } from './client-sessions.ts';

const OPTIONS: SessionOptions = { sessionsMax: 3, sessionTtlMs: 1000, expiredClientsRemembered: 10 };

/** Runs one request through the table as the service does: check, and record when told to apply. */
function request(sessions: ClientSessions, client: string, sequence: number, nowMs: number, result: unknown = { ok: true, n: sequence }) {
  sessions.expireIdle(nowMs);
  const verdict = sessions.check({ client, sequence }, nowMs);
  if (verdict.kind === 'apply') sessions.record({ client, sequence }, result, nowMs);
  return verdict;
}

describe('ClientSessions (thesis §6.3)', () => {
  it('applies a new session’s first request, and the next ones', () => {
    const sessions = new ClientSessions(OPTIONS);
    expect(request(sessions, 'c1', 1, 0)).toEqual({ kind: 'apply' });
    expect(request(sessions, 'c1', 2, 10)).toEqual({ kind: 'apply' });
    expect(sessions.size).toBe(1);
  });

  it('answers a retry of the latest request with its saved result instead of applying it again', () => {
    const sessions = new ClientSessions(OPTIONS);
    request(sessions, 'c1', 1, 0, { ok: true, id: 41 });
    expect(request(sessions, 'c1', 1, 5)).toEqual({ kind: 'retry', savedResult: { ok: true, id: 41 } });
  });

  it('gives the saved result as a fresh copy each time', () => {
    const sessions = new ClientSessions(OPTIONS);
    request(sessions, 'c1', 1, 0, { list: [1] });
    const first = sessions.check({ client: 'c1', sequence: 1 }, 1);
    if (first.kind !== 'retry') throw new Error('expected a retry');
    (first.savedResult as { list: number[] }).list.push(2);
    expect(sessions.check({ client: 'c1', sequence: 1 }, 2)).toEqual({ kind: 'retry', savedResult: { list: [1] } });
  });

  it('refuses a request older than the latest with stale_request', () => {
    const sessions = new ClientSessions(OPTIONS);
    request(sessions, 'c1', 1, 0);
    request(sessions, 'c1', 2, 0);
    expect(request(sessions, 'c1', 1, 0)).toMatchObject({ kind: 'refuse', result: { ok: false, error: 'stale_request' } });
  });

  it('refuses a first request numbered above 1: it cannot be told apart from a retry after expiry', () => {
    const sessions = new ClientSessions(OPTIONS);
    expect(request(sessions, 'c9', 4, 0)).toMatchObject({ kind: 'refuse', result: { error: 'session_expired' } });
  });

  it('expires a session idle for sessionTtlMs of log time; its retry, even of request 1, gets session_expired', () => {
    const sessions = new ClientSessions(OPTIONS);
    request(sessions, 'c1', 1, 0);
    expect(request(sessions, 'c1', 1, 999)).toMatchObject({ kind: 'retry' }); // used at 999: idle from there
    sessions.expireIdle(1998);
    expect(sessions.size).toBe(1);
    sessions.expireIdle(1999);
    expect(sessions.size).toBe(0);
    expect(request(sessions, 'c1', 1, 2000)).toMatchObject({ kind: 'refuse', result: { error: 'session_expired' } });
    expect(request(sessions, 'c1', 2, 2000)).toMatchObject({ kind: 'refuse', result: { error: 'session_expired' } });
    expect(request(sessions, 'c1-new', 1, 2000)).toEqual({ kind: 'apply' });
  });

  it('evicts the least recently used session when full, and refuses its retries', () => {
    const sessions = new ClientSessions(OPTIONS);
    request(sessions, 'c1', 1, 0);
    request(sessions, 'c2', 1, 1);
    request(sessions, 'c3', 1, 2);
    request(sessions, 'c1', 2, 3); // c1 is now the most recently used; c2 the least
    request(sessions, 'c4', 1, 4);
    expect(sessions.size).toBe(3);
    expect(request(sessions, 'c2', 1, 5)).toMatchObject({ kind: 'refuse', result: { error: 'session_expired' } });
    expect(request(sessions, 'c1', 2, 5)).toMatchObject({ kind: 'retry' });
  });

  it('remembers a bounded number of ended sessions, forgetting the oldest first', () => {
    const sessions = new ClientSessions({ sessionsMax: 1, sessionTtlMs: 1000, expiredClientsRemembered: 2 });
    for (const client of ['a', 'b', 'c', 'd']) request(sessions, client, 1, 0); // a, b, c evicted in turn
    const snapshot = sessions.toSnapshot();
    expect(snapshot.expiredClients).toEqual(['b', 'c']);
    expect(snapshot.sessions.map(([client]) => client)).toEqual(['d']);
  });

  it('round-trips through a snapshot, keeping use order', () => {
    const sessions = new ClientSessions(OPTIONS);
    request(sessions, 'c1', 1, 0);
    request(sessions, 'c2', 1, 1);
    request(sessions, 'c1', 2, 2);
    const restored = ClientSessions.fromSnapshot(JSON.parse(JSON.stringify(sessions.toSnapshot())), OPTIONS);
    expect(restored.toSnapshot()).toEqual(sessions.toSnapshot());
    request(restored, 'c3', 1, 3);
    request(restored, 'c4', 1, 4); // evicts c2, the least recently used
    expect(restored.toSnapshot().sessions.map(([client]) => client)).toEqual(['c1', 'c3', 'c4']);
    expect(() => ClientSessions.fromSnapshot({ sessions: [['c', 'x']], expiredClients: [] }, OPTIONS)).toThrow('sessions[0]');
  });
});
