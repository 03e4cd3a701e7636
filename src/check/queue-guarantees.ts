// The task queue's guarantees, checked over a recorded client history (each operation with the virtual times
// of its call and return, and its result; an unanswered one has returnMs Infinity and no result):
//
//   1. an acknowledged task is never handed out again: no claim that began after an ack completed returns it;
//   2. while a lease is valid, no other worker holds the task: a task is handed out again only after the
//      previous holder's lease expired, or after that holder gave it back (nack) before the new grant;
//   3. each hand-out of a task has its own attempt number;
//   4. first in, first out among ready tasks: a claim does not skip an older task that was surely pending and
//      ready (enqueued before the claim began, never handed out, and not possibly taken by any other claim);
//   5. an acknowledged task is never lost: a stats read counts, as done, at least every task whose
//      acknowledgement completed before the read began (done only grows, by one per acknowledged task).
//
// Grant times come from the results: a claim's lease ends at leaseExpiresAt = grant time + leaseMs, in the
// log time the leader stamps, which the simulator keeps equal to virtual time when clocks are true.
import type { JsonValue } from '../machines/json-value.ts';

export interface QueueOperation {
  readonly client: string;
  readonly op: 'enqueue' | 'claim' | 'ack' | 'nack' | 'stats';
  readonly queue: string;
  /** ack, nack */
  readonly task?: number;
  /** enqueue */
  readonly payload?: JsonValue;
  /** claim */
  readonly worker?: string;
  readonly leaseMs?: number;
  readonly callMs: number;
  /** Infinity when the outcome is unknown. */
  readonly returnMs: number;
  readonly result?: QueueOperationResult;
}

export interface QueueOperationResult {
  readonly ok?: boolean;
  readonly id?: number;
  readonly empty?: boolean;
  readonly attempt?: number;
  readonly leaseExpiresAt?: number;
  readonly error?: string;
  /** stats: the queue's counts (SPEC §5, GET /queues/{q}) */
  readonly pending?: number;
  readonly claimed?: number;
  readonly done?: number;
  readonly dead?: number;
}

export interface QueueCheckResult {
  readonly ok: boolean;
  /** One sentence per broken guarantee found (at most a few). */
  readonly problems: readonly string[];
  readonly claims: number;
  readonly acks: number;
}

const PROBLEMS_MAX = 5;

interface Grant {
  readonly op: QueueOperation;
  readonly task: number;
  readonly attempt: number;
  readonly grantedAt: number;
  readonly expiresAt: number;
}

export function checkQueueHistory(operations: readonly QueueOperation[]): QueueCheckResult {
  const problems: string[] = [];
  const report = (sentence: string) => {
    if (problems.length < PROBLEMS_MAX) problems.push(sentence);
  };
  const succeeded = (op: QueueOperation) => op.returnMs !== Infinity && op.result?.ok === true;
  const grants: Grant[] = operations
    .filter((op) => op.op === 'claim' && succeeded(op) && op.result!.empty !== true && op.result!.id !== undefined)
    .map((op) => ({
      op,
      task: op.result!.id!,
      attempt: op.result!.attempt ?? 0,
      grantedAt: op.result!.leaseExpiresAt! - (op.leaseMs ?? 0),
      expiresAt: op.result!.leaseExpiresAt!,
    }));
  const acks = operations.filter((op) => op.op === 'ack' && succeeded(op));
  const key = (queue: string, task: number) => `${queue}\u0000${task}`;

  // 1. Never handed out again after an acknowledgement completed.
  for (const ack of acks) {
    for (const grant of grants) {
      if (grant.op.queue === ack.queue && grant.task === ack.task && grant.op.callMs > ack.returnMs) {
        report(
          `task ${ack.task} of ${ack.queue} was acknowledged by ${ack.client} at ${ack.returnMs} ms, yet a claim by ${grant.op.client} that began at ${grant.op.callMs} ms was handed it again`,
        );
      }
    }
  }

  // 2 and 3. Hand-outs of one task, in grant order.
  const byTask = new Map<string, Grant[]>();
  for (const grant of grants) {
    const list = byTask.get(key(grant.op.queue, grant.task)) ?? [];
    list.push(grant);
    byTask.set(key(grant.op.queue, grant.task), list);
  }
  const nacks = operations.filter((op) => op.op === 'nack');
  for (const list of byTask.values()) {
    list.sort((a, b) => a.grantedAt - b.grantedAt || a.attempt - b.attempt);
    for (let i = 1; i < list.length; i++) {
      const before = list[i - 1]!;
      const after = list[i]!;
      if (after.attempt === before.attempt) {
        report(`task ${after.task} of ${after.op.queue} was handed out twice as attempt ${after.attempt}, to ${before.op.worker} and to ${after.op.worker}`);
        continue;
      }
      if (after.grantedAt >= before.expiresAt) continue;
      // The lease was still running: only a nack by its holder, sent before the new grant, ends it early. A
      // nack whose outcome is unknown may have done so.
      const gaveBack = nacks.some(
        (nack) =>
          nack.queue === before.op.queue &&
          nack.task === before.task &&
          nack.client === before.op.client &&
          nack.callMs <= after.grantedAt &&
          (nack.returnMs === Infinity || nack.result?.ok === true),
      );
      if (!gaveBack) {
        report(
          `task ${after.task} of ${after.op.queue} was handed to ${after.op.worker} at ${after.grantedAt} ms while ${before.op.worker}'s lease ran until ${before.expiresAt} ms`,
        );
      }
    }
  }

  // 4. First in, first out among tasks that were surely ready.
  const enqueued = operations.filter((op) => op.op === 'enqueue' && succeeded(op) && op.result!.id !== undefined);
  const claimsWithUnknownOutcome = operations.filter((op) => op.op === 'claim' && op.returnMs === Infinity);
  for (const grant of grants) {
    if (grant.attempt !== 1) continue;
    for (const older of enqueued) {
      const olderId = older.result!.id!;
      if (older.queue !== grant.op.queue || olderId >= grant.task || older.returnMs >= grant.op.callMs) continue;
      // Could any other claim have taken the older task before or during this one?
      const takenBefore = grants.some((g) => g.op.queue === older.queue && g.task === olderId && g.op.callMs <= grant.op.returnMs);
      const maybeTaken = claimsWithUnknownOutcome.some((c) => c.queue === older.queue && c.callMs <= grant.op.returnMs);
      if (!takenBefore && !maybeTaken) {
        report(
          `a claim by ${grant.op.worker} at ${grant.op.callMs}–${grant.op.returnMs} ms was handed task ${grant.task} of ${grant.op.queue}, skipping task ${olderId}, enqueued earlier and never handed out`,
        );
        break;
      }
    }
  }

  // 5. Never lost: each stats read counts as done every task acknowledged before it began.
  const statsReads = operations.filter((op) => op.op === 'stats' && succeeded(op) && op.result!.done !== undefined);
  for (const read of statsReads) {
    const ackedBefore = new Set(acks.filter((ack) => ack.queue === read.queue && ack.returnMs < read.callMs).map((ack) => ack.task));
    if (read.result!.done! < ackedBefore.size) {
      const listed = [...ackedBefore].sort((a, b) => (a ?? 0) - (b ?? 0)).slice(0, 10).join(', ');
      report(
        `a stats read of ${read.queue} by ${read.client} at ${read.callMs}–${read.returnMs} ms counted ${read.result!.done} done tasks, but ${ackedBefore.size} acknowledgements had completed before it began (tasks ${listed}${ackedBefore.size > 10 ? ', …' : ''}): an acknowledged task was lost`,
      );
    }
  }

  return { ok: problems.length === 0, problems, claims: grants.length, acks: acks.length };
}
