import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROPERTY_RUNS, envelopesOf, kvCommand, queueCommand, steps } from './arbitrary-commands.ts';
import { encodeEnvelope, type CommandEnvelope, type ServiceCommand } from './envelope.ts';
import { ReplicatedService, type ServiceResult } from './replicated-service.ts';
import type { ServiceOptions } from './service-options.ts';

const anyCommand: fc.Arbitrary<ServiceCommand> = fc.oneof(kvCommand, queueCommand);
/** Small limits and short timings, so that random streams reach them: expiry, eviction, dead letters, full tables. */
const TIGHT: Partial<ServiceOptions> = { sessionsMax: 2, sessionTtlMs: 400, attemptsMax: 2, keysMax: 2, tasksPerQueueMax: 6, doneIdsKept: 3 };

const at = (timeMs: number, command: ServiceCommand, client?: string, sequence?: number): CommandEnvelope =>
  client === undefined ? { timeMs, command } : { timeMs, session: { client, sequence: sequence ?? 1 }, command };

describe('ReplicatedService: the key-value store (SPEC §5)', () => {
  it('answers put, get, delete and cas with the results the HTTP API maps to status codes', () => {
    const service = new ReplicatedService();
    const results = [
      service.apply(at(1, { op: 'get', key: 'x' })),
      service.apply(at(2, { op: 'put', key: 'x', value: '1' })),
      service.apply(at(3, { op: 'get', key: 'x' })),
      service.apply(at(4, { op: 'cas', key: 'x', from: '2', to: '3' })),
      service.apply(at(5, { op: 'cas', key: 'x', from: '1', to: '3' })),
      service.apply(at(6, { op: 'delete', key: 'x' })),
      service.apply(at(7, { op: 'delete', key: 'x' })),
      service.apply(at(8, { op: 'cas', key: 'x', from: '3', to: '4' })),
    ];
    expect(results).toEqual([
      { ok: false, error: 'not_found', message: 'key "x" is not set' },
      { ok: true },
      { ok: true, value: '1' },
      { ok: false, error: 'cas_mismatch', value: '1', message: 'key "x" does not hold "2": it holds "1"' },
      { ok: true },
      { ok: true, existed: true },
      { ok: true, existed: false },
      { ok: false, error: 'cas_mismatch', value: null, message: 'key "x" does not hold "3": it is not set' },
    ]);
  });

  it('refuses a new key beyond keysMax, naming the limit, and still accepts writes to existing keys', () => {
    const service = new ReplicatedService({ keysMax: 1 });
    service.apply(at(0, { op: 'put', key: 'a', value: '1' }));
    expect(service.apply(at(0, { op: 'put', key: 'b', value: '1' }))).toMatchObject({ ok: false, error: 'limit_reached', message: expect.stringContaining('keysMax') });
    expect(service.apply(at(0, { op: 'put', key: 'a', value: '2' }))).toEqual({ ok: true });
    expect(service.kvEntries()).toEqual([['a', '2']]);
  });
});

describe('ReplicatedService: log time', () => {
  it('never lets time go back when a new leader’s stamps are behind the old one’s', () => {
    const service = new ReplicatedService();
    service.apply(at(1000, { op: 'enqueue', queue: 'q', payload: 1 }));
    service.apply(at(1000, { op: 'claim', queue: 'q', worker: 'w1', leaseMs: 100 }));
    service.apply(at(1200, { op: 'stats', queue: 'q' })); // the lease ended at 1100
    expect(service.apply(at(900, { op: 'claim', queue: 'q', worker: 'w2', leaseMs: 100 }))).toMatchObject({ id: 1, attempt: 2, leaseExpiresAt: 1300 });
    expect(service.logTimeMs()).toBe(1200);
  });
});

describe('ReplicatedService: exactly-once sessions', () => {
  it('answers a retried enqueue with the first id and creates no second task', () => {
    const service = new ReplicatedService();
    const enqueue: ServiceCommand = { op: 'enqueue', queue: 'q', payload: 'once' };
    expect(service.apply(at(0, enqueue, 'c1', 1))).toEqual({ ok: true, id: 1 });
    expect(service.apply(at(50, enqueue, 'c1', 1))).toEqual({ ok: true, id: 1 });
    expect(service.queues()).toEqual([{ name: 'q', pending: 1, claimed: 0, done: 0, dead: 0 }]);
    expect(service.apply(at(60, enqueue, 'c1', 2))).toEqual({ ok: true, id: 2 });
    expect(service.apply(at(70, enqueue, 'c1', 1))).toMatchObject({ ok: false, error: 'stale_request' });
  });

  it('refuses a retry after the session expired instead of applying it again', () => {
    const service = new ReplicatedService({ sessionTtlMs: 1000 });
    const put: ServiceCommand = { op: 'put', key: 'x', value: '1' };
    service.apply(at(0, put, 'c1', 1));
    service.apply(at(500, { op: 'put', key: 'x', value: '2' }));
    expect(service.apply(at(1000, put, 'c1', 1))).toMatchObject({ ok: false, error: 'session_expired' });
    expect(service.get('x')).toBe('2');
    expect(service.sessionCount()).toBe(0);
  });
});

describe('ReplicatedService: snapshots and fingerprints', () => {
  it('gives the same hash after a snapshot and restore, and a different one for a different state', () => {
    const service = new ReplicatedService();
    service.apply(at(0, { op: 'put', key: 'x', value: '1' }, 'c1', 1));
    service.apply(at(1, { op: 'enqueue', queue: 'q', payload: { n: 1 } }));
    const copy = new ReplicatedService();
    copy.restore(service.snapshot());
    expect(copy.hash()).toBe(service.hash());
    expect(copy.hash()).toMatch(/^[0-9a-f]{16}$/);
    copy.apply(at(2, { op: 'put', key: 'x', value: '2' }));
    expect(copy.hash()).not.toBe(service.hash());
  });

  it('adopts the options a snapshot carries: they define the state machine', () => {
    const service = new ReplicatedService({ attemptsMax: 1 });
    service.apply(at(0, { op: 'enqueue', queue: 'q', payload: 1 }));
    const copy = new ReplicatedService({ attemptsMax: 9 });
    copy.restore(service.snapshot());
    copy.apply(at(0, { op: 'claim', queue: 'q', worker: 'w', leaseMs: 10 }));
    expect(copy.apply(at(0, { op: 'nack', queue: 'q', task: 1 }))).toEqual({ ok: true, outcome: 'dead', attempts: 1 });
  });

  it('refuses a malformed snapshot and keeps its state', () => {
    const service = new ReplicatedService();
    service.apply(at(0, { op: 'put', key: 'x', value: '1' }));
    const before = service.hash();
    const good = JSON.parse(service.snapshot()) as Record<string, unknown>;
    expect(() => service.restore('nope')).toThrow('service snapshot: expected JSON text');
    expect(() => service.restore(JSON.stringify({ ...good, version: 2 }))).toThrow('"version": 1');
    expect(() => service.restore(JSON.stringify({ ...good, kv: [['x']] }))).toThrow('key-value snapshot: entries[0]');
    expect(() => service.restore(JSON.stringify({ ...good, options: { keysMax: -1 } }))).toThrow('keysMax: expected a whole number');
    expect(() => service.restore(JSON.stringify({ ...good, queues: { nextTaskId: 0, queues: [], tasks: [] } }))).toThrow('nextTaskId');
    expect(service.hash()).toBe(before);
  });

  it('refuses options out of range, naming the option', () => {
    expect(() => new ReplicatedService({ sessionsMax: 0 })).toThrow('service options: sessionsMax: expected a whole number from 1 to 1000000, got 0');
    expect(() => new ReplicatedService({ backoffMsBase: 500, backoffMsMax: 100 })).toThrow('backoffMsMax 100 is below backoffMsBase 500');
  });
});

describe('ReplicatedService: read helpers for the UI', () => {
  it('lists keys, queues and lanes as of the last applied entry', () => {
    const service = new ReplicatedService();
    for (const envelope of [
      at(0, { op: 'put', key: 'b', value: '2' }),
      at(0, { op: 'put', key: 'a', value: '1' }),
      at(0, { op: 'enqueue', queue: 'mail', payload: 'm' }),
      at(0, { op: 'enqueue', queue: 'jobs', payload: 'j' }),
      at(5, { op: 'claim', queue: 'jobs', worker: 'w1', leaseMs: 100 }),
    ]) {
      service.apply(envelope);
    }
    expect(service.kvEntries()).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
    expect(service.entries()).toEqual(service.kvEntries());
    expect(service.queues()).toEqual([
      { name: 'jobs', pending: 0, claimed: 1, done: 0, dead: 0 },
      { name: 'mail', pending: 1, claimed: 0, done: 0, dead: 0 },
    ]);
    expect(service.queueLanes('jobs').claimed).toEqual([{ id: 2, worker: 'w1', leaseExpiresAt: 105, attempt: 1 }]);
    expect(service.appliedCount()).toBe(5);
  });

  it('applies encoded log entries, and throws on a malformed one', () => {
    const service = new ReplicatedService();
    expect(service.applyEncoded(encodeEnvelope(at(0, { op: 'put', key: 'x', value: '1' })))).toEqual({ ok: true });
    expect(() => service.applyEncoded('{"timeMs":0}')).toThrow('envelope.command: expected an object, got nothing');
  });
});

function applyAll(service: ReplicatedService, envelopes: readonly CommandEnvelope[]): ServiceResult[] {
  return envelopes.map((envelope) => service.apply(envelope));
}

describe('ReplicatedService: properties over random command streams', () => {
  it('gives equal results and equal hashes on two replicas, one fed decoded log entries', () => {
    fc.assert(
      fc.property(steps(anyCommand), (stepList) => {
        const envelopes = envelopesOf(stepList);
        const replicaA = new ReplicatedService(TIGHT);
        const replicaB = new ReplicatedService(TIGHT);
        const resultsA = applyAll(replicaA, envelopes);
        const resultsB = envelopes.map((envelope) => replicaB.applyEncoded(encodeEnvelope(envelope)));
        expect(resultsB).toEqual(resultsA);
        expect(replicaB.hash()).toBe(replicaA.hash());
      }),
      PROPERTY_RUNS,
    );
  });

  it('continues after a snapshot and restore at any point exactly as without it', () => {
    fc.assert(
      fc.property(steps(anyCommand), fc.nat(), (stepList, cutSeed) => {
        const envelopes = envelopesOf(stepList);
        const cut = envelopes.length === 0 ? 0 : cutSeed % (envelopes.length + 1);
        const straight = new ReplicatedService(TIGHT);
        const straightResults = applyAll(straight, envelopes);
        const first = new ReplicatedService(TIGHT);
        const before = applyAll(first, envelopes.slice(0, cut));
        const restored = new ReplicatedService(); // default options: the snapshot brings its own
        restored.restore(first.snapshot());
        expect(restored.hash()).toBe(first.hash());
        const after = applyAll(restored, envelopes.slice(cut));
        expect([...before, ...after]).toEqual(straightResults);
        expect(restored.hash()).toBe(straight.hash());
      }),
      PROPERTY_RUNS,
    );
  });

  it('never applies a session request twice: a retry gets the first result or a refusal', () => {
    const enqueueOrPut: fc.Arbitrary<ServiceCommand> = fc.oneof(
      fc.record({ op: fc.constant('enqueue' as const), queue: fc.constant('q'), payload: fc.nat(9) }),
      kvCommand,
    );
    fc.assert(
      fc.property(steps(enqueueOrPut, 150), (stepList) => {
        const envelopes = envelopesOf(stepList);
        const service = new ReplicatedService({ ...TIGHT, keysMax: 100, tasksPerQueueMax: 1000 });
        const firstResults = new Map<string, string>();
        let applications = 0;
        let enqueues = 0;
        envelopes.forEach((envelope) => {
          const result = service.apply(envelope);
          const refused = !result.ok && (result.error === 'stale_request' || result.error === 'session_expired');
          const request = envelope.session ? `${envelope.session.client}#${envelope.session.sequence}` : undefined;
          if (refused) return;
          const first = request === undefined ? undefined : firstResults.get(request);
          if (first !== undefined) {
            expect(JSON.stringify(result), `${request} answered differently on a retry`).toBe(first);
            return;
          }
          if (request !== undefined) firstResults.set(request, JSON.stringify(result));
          applications++;
          if (envelope.command.op === 'enqueue') enqueues++;
        });
        // Each enqueue that was applied made exactly one task: none was applied a second time by a retry.
        expect(service.queues().reduce((sum, queue) => sum + queue.pending, 0)).toBe(enqueues);
        expect(applications).toBeLessThanOrEqual(envelopes.length);
      }),
      PROPERTY_RUNS,
    );
  });
});
