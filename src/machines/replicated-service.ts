// The replicated service: a key-value store, task queues and exactly-once client sessions behind one
// StateMachine. Raft commits envelopes (envelope.ts); every replica applies them in log order and, being
// deterministic, reaches the same state and gives the same results.
//
// Log time: each envelope carries the leader's stamp. A new leader's clock may be behind the old one's, so the
// machine's time is the largest stamp applied so far; time never goes back, and it is a function of the log.

import { ClientSessions, type SessionError } from './client-sessions.ts';
import { decodeEnvelope, type CommandEnvelope, type ServiceCommand } from './envelope.ts';
import { fingerprint } from './fingerprint.ts';
import { KeyValueTable, type KvServiceResult } from './key-value-table.ts';
import { resolveServiceOptions, type ServiceOptions } from './service-options.ts';
import type { StateMachine } from './state-machine.ts';
import { TaskQueues, type QueueCounts, type QueueLanes, type QueueResult } from './task-queues.ts';

export type ServiceResult = KvServiceResult | QueueResult | SessionError;

export interface QueueSummary extends QueueCounts {
  readonly name: string;
}

const SNAPSHOT_VERSION = 1;

export class ReplicatedService implements StateMachine<CommandEnvelope, ServiceResult> {
  private options: ServiceOptions;
  private kv: KeyValueTable;
  private taskQueues: TaskQueues;
  private sessions: ClientSessions;
  private timeMs = 0;
  private applied = 0;

  constructor(options: Partial<ServiceOptions> = {}) {
    this.options = resolveServiceOptions(options);
    this.kv = new KeyValueTable(this.options);
    this.taskQueues = new TaskQueues(this.options);
    this.sessions = new ClientSessions(this.options);
  }

  apply(envelope: CommandEnvelope): ServiceResult {
    this.timeMs = Math.max(this.timeMs, envelope.timeMs);
    this.applied++;
    // Expiry first, at this entry's time, so that a lease or session ends at the same entry on every replica.
    this.sessions.expireIdle(this.timeMs);
    this.taskQueues.advanceTo(this.timeMs);
    const session = envelope.session;
    if (!session) return this.execute(envelope.command);
    const verdict = this.sessions.check(session, this.timeMs);
    if (verdict.kind === 'retry') return verdict.savedResult as ServiceResult;
    if (verdict.kind === 'refuse') return verdict.result;
    const result = this.execute(envelope.command);
    this.sessions.record(session, result, this.timeMs);
    return result;
  }

  /** Decodes a log entry's text (throwing on malformed data) and applies it. */
  applyEncoded(data: string): ServiceResult {
    return this.apply(decodeEnvelope(data));
  }

  snapshot(): string {
    return JSON.stringify({
      version: SNAPSHOT_VERSION,
      options: this.options,
      timeMs: this.timeMs,
      applied: this.applied,
      kv: this.kv.entries(),
      queues: this.taskQueues.toSnapshot(),
      sessions: this.sessions.toSnapshot(),
    });
  }

  restore(data: string): void {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(data) as Record<string, unknown>;
    } catch {
      throw new Error('service snapshot: expected JSON text');
    }
    if (typeof parsed !== 'object' || parsed === null || parsed.version !== SNAPSHOT_VERSION) {
      throw new Error(`service snapshot: expected an object with "version": ${SNAPSHOT_VERSION}`);
    }
    const { timeMs, applied } = parsed;
    if (!Number.isSafeInteger(timeMs) || (timeMs as number) < 0 || !Number.isSafeInteger(applied) || (applied as number) < 0) {
      throw new Error('service snapshot: timeMs and applied: expected whole numbers of at least 0');
    }
    // Build everything first: a malformed snapshot throws here and leaves this replica as it was.
    const options = resolveServiceOptions(parsed.options as Partial<ServiceOptions>);
    const kv = KeyValueTable.fromEntries(parsed.kv, options);
    const taskQueues = TaskQueues.fromSnapshot(parsed.queues, options, timeMs as number);
    const sessions = ClientSessions.fromSnapshot(parsed.sessions, options);
    this.options = options;
    this.kv = kv;
    this.taskQueues = taskQueues;
    this.sessions = sessions;
    this.timeMs = timeMs as number;
    this.applied = applied as number;
  }

  /** The fingerprint of the snapshot, which is canonical: equal states give equal text. */
  hash(): string {
    return fingerprint(this.snapshot());
  }

  /** The log time of the latest applied entry (the largest stamp so far). */
  logTimeMs(): number {
    return this.timeMs;
  }

  /** How many envelopes this replica has applied, retries and refusals included. */
  appliedCount(): number {
    return this.applied;
  }

  // Read helpers for the UI and the simulator. They read this replica's state as of its last applied entry:
  // a stale read, unless the caller has made sure the replica is up to date (ReadIndex, §6.4).

  get(key: string): string | undefined {
    return this.kv.get(key);
  }

  kvEntries(): [string, string][] {
    return this.kv.entries();
  }

  /** The same as kvEntries(). */
  entries(): [string, string][] {
    return this.kv.entries();
  }

  queues(): QueueSummary[] {
    return this.taskQueues.queueNames().map((name) => ({ name, ...this.taskQueues.counts(name) }));
  }

  queueLanes(queue: string): QueueLanes {
    return this.taskQueues.lanes(queue);
  }

  sessionCount(): number {
    return this.sessions.size;
  }

  private execute(command: ServiceCommand): ServiceResult {
    switch (command.op) {
      case 'put':
      case 'get':
      case 'delete':
      case 'cas':
        return this.kv.apply(command);
      default:
        return this.taskQueues.apply(command, this.timeMs);
    }
  }
}
