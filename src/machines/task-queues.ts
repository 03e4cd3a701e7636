// A distributed task queue, replicated by Raft: named queues of tasks that workers claim under a lease, then
// acknowledge (done) or nack (retry with backoff, dead-letter after too many attempts).
//
// Time is the log time the service passes in (the leader's stamp on each command), never a clock: a lease
// expires when a command with a later stamp is applied, so every replica expires it at the same entry.
//
// The guarantees, each tested in task-queues.test.ts:
// - an acknowledged task is never lost and never handed out again (it leaves every lane and only its id is kept);
// - while a lease is valid (log time < leaseExpiresAt) no other claim gets the task;
// - among ready tasks, claims hand out the oldest (the lowest id: ids increase with every enqueue).

import { MinHeap } from './min-heap.ts';
import type { JsonValue } from './json-value.ts';
import type { ServiceOptions } from './service-options.ts';

export type QueueCommand =
  | { readonly op: 'enqueue'; readonly queue: string; readonly payload: JsonValue }
  | { readonly op: 'claim'; readonly queue: string; readonly worker: string; readonly leaseMs: number }
  | { readonly op: 'ack'; readonly queue: string; readonly task: number; readonly worker?: string }
  | { readonly op: 'nack'; readonly queue: string; readonly task: number; readonly worker?: string }
  /** Read-only: the counts of SPEC §5's `GET /queues/{q}`. */
  | { readonly op: 'stats'; readonly queue: string }
  /** Read-only: the lanes, for the UI. */
  | { readonly op: 'peek'; readonly queue: string };

export const QUEUE_OPS: readonly QueueCommand['op'][] = ['enqueue', 'claim', 'ack', 'nack', 'stats', 'peek'];

export interface QueueCounts {
  readonly pending: number;
  readonly claimed: number;
  readonly done: number;
  readonly dead: number;
}

/** Every task a queue has held: pending, claimed, done or dead. */
export function tasksEver(counts: QueueCounts): number {
  return counts.pending + counts.claimed + counts.done + counts.dead;
}

export interface QueueLanes {
  readonly queue: string;
  readonly counts: QueueCounts;
  /** Waiting and ready tasks by id (the order claims take them once ready); `attempts` is how many claims so far. */
  readonly pending: readonly { readonly id: number; readonly readyAt: number; readonly attempts: number }[];
  readonly claimed: readonly { readonly id: number; readonly worker: string; readonly leaseExpiresAt: number; readonly attempt: number }[];
  /** The most recently completed ids, oldest first (bounded: the count in `counts.done` is exact). */
  readonly done: readonly number[];
  /** Dead-lettered ids in the order they died. */
  readonly dead: readonly number[];
  /** True when a lane held more items than `laneItemsMax` and was cut. */
  readonly truncated: boolean;
}

export type QueueErrorCode =
  | 'limit_reached'
  | 'unknown_task'
  | 'already_done'
  | 'dead'
  | 'not_claimed'
  | 'lease_expired'
  | 'not_holder';

export interface QueueError {
  readonly ok: false;
  readonly error: QueueErrorCode;
  readonly message: string;
}

export interface EnqueueResult {
  readonly ok: true;
  readonly id: number;
}
export interface ClaimedTask {
  readonly ok: true;
  readonly empty: false;
  readonly id: number;
  readonly payload: JsonValue;
  /** 1 for the first hand-out, then one more for each retry. */
  readonly attempt: number;
  readonly leaseExpiresAt: number;
}
export interface ClaimEmpty {
  readonly ok: true;
  readonly empty: true;
}
export interface AckResult {
  readonly ok: true;
  readonly acked: number;
}
export type NackResult =
  | { readonly ok: true; readonly outcome: 'retry'; readonly attempts: number; readonly readyAt: number }
  | { readonly ok: true; readonly outcome: 'dead'; readonly attempts: number };
export interface StatsResult extends QueueCounts {
  readonly ok: true;
}
export interface PeekResult {
  readonly ok: true;
  readonly lanes: QueueLanes;
}

export type QueueResult = EnqueueResult | ClaimedTask | ClaimEmpty | AckResult | NackResult | StatsResult | PeekResult | QueueError;

export type QueueOptions = Pick<
  ServiceOptions,
  'queuesMax' | 'tasksPerQueueMax' | 'attemptsMax' | 'backoffMsBase' | 'backoffMsMax' | 'doneIdsKept' | 'laneItemsMax'
>;

/** waiting: pending, not ready before readyAtMs (backoff); ready: pending and claimable; claimed: under a lease. */
type TaskState = 'waiting' | 'ready' | 'claimed' | 'dead';
type ReturnCause = 'nack' | 'expiry' | null;

interface Task {
  readonly id: number;
  readonly queue: string;
  readonly payloadJson: string;
  /** How many times a claim handed it out. */
  attempts: number;
  state: TaskState;
  readyAtMs: number;
  holder: string | null;
  leaseExpiresAtMs: number;
  /** Why it last left a worker, to tell "your lease expired" from "it was never yours" when an ack comes late. */
  lastReturn: ReturnCause;
}

interface Queue {
  readonly name: string;
  /** Ids of ready tasks; the lowest is the oldest, and is handed out first. */
  readonly ready: MinHeap<number>;
  /** Pending, claimed and dead tasks; what counts against tasksPerQueueMax. */
  readonly liveIds: Set<number>;
  pending: number;
  claimed: number;
  done: number;
  readonly recentDoneIds: number[];
  readonly deadIds: number[];
}

/** A moment when a waiting task becomes ready or a lease ends. Checked against the task when it fires. */
interface Timer {
  readonly atMs: number;
  readonly id: number;
}

/** The snapshot form: plain JSON, sorted, so equal states give equal text. */
export interface TaskQueuesSnapshot {
  readonly nextTaskId: number;
  readonly queues: readonly { readonly name: string; readonly done: number; readonly recentDoneIds: number[]; readonly deadIds: number[] }[];
  /** [id, queue, payloadJson, attempts, state, readyAtMs, holder, leaseExpiresAtMs, lastReturn], by id. */
  readonly tasks: readonly (readonly [number, string, string, number, TaskState, number, string | null, number, ReturnCause])[];
}

/** Stale timers (of tasks acked or nacked before their lease ended) beyond this multiple of live tasks are swept. */
const STALE_TIMERS_FACTOR = 4;
const STALE_TIMERS_SLACK = 1024;

export class TaskQueues {
  private readonly queuesByName = new Map<string, Queue>();
  private readonly tasks = new Map<number, Task>();
  private readonly timers = new MinHeap<Timer>((a, b) => a.atMs < b.atMs || (a.atMs === b.atMs && a.id < b.id));
  private nextTaskId = 1;
  private nowMs = 0;

  constructor(private readonly options: QueueOptions) {}

  /** Applies the leases and backoffs that end at or before `nowMs`. Called before every command. */
  advanceTo(nowMs: number): void {
    if (nowMs < this.nowMs) throw new Error(`task queues: time went back from ${this.nowMs} to ${nowMs} ms`);
    this.nowMs = nowMs;
    // Each pass removes one timer, so the loop ends within the heap's size.
    for (let timer = this.timers.peek(); timer !== undefined && timer.atMs <= nowMs; timer = this.timers.peek()) {
      this.timers.pop();
      const task = this.tasks.get(timer.id);
      if (!task) continue; // completed since
      if (task.state === 'waiting' && task.readyAtMs === timer.atMs) this.makeReady(task);
      else if (task.state === 'claimed' && task.leaseExpiresAtMs === timer.atMs) this.expireLease(task);
    }
  }

  apply(command: QueueCommand, nowMs: number): QueueResult {
    this.advanceTo(nowMs);
    switch (command.op) {
      case 'enqueue':
        return this.enqueue(command.queue, JSON.stringify(command.payload));
      case 'claim':
        return this.claim(command.queue, command.worker, command.leaseMs);
      case 'ack':
        return this.ack(command.queue, command.task, command.worker);
      case 'nack':
        return this.nack(command.queue, command.task, command.worker);
      case 'stats':
        return { ok: true, ...this.counts(command.queue) };
      case 'peek':
        return { ok: true, lanes: this.lanes(command.queue) };
    }
  }

  counts(queueName: string): QueueCounts {
    const queue = this.queuesByName.get(queueName);
    if (!queue) return { pending: 0, claimed: 0, done: 0, dead: 0 };
    return { pending: queue.pending, claimed: queue.claimed, done: queue.done, dead: queue.deadIds.length };
  }

  queueNames(): string[] {
    return [...this.queuesByName.keys()].sort(compareStrings);
  }

  lanes(queueName: string): QueueLanes {
    const queue = this.queuesByName.get(queueName);
    const counts = this.counts(queueName);
    if (!queue) return { queue: queueName, counts, pending: [], claimed: [], done: [], dead: [], truncated: false };
    const limit = this.options.laneItemsMax;
    const live = [...queue.liveIds].sort((a, b) => a - b).map((id) => this.taskOf(id));
    const pending = live
      .filter((task) => task.state === 'waiting' || task.state === 'ready')
      .map((task) => ({ id: task.id, readyAt: task.readyAtMs, attempts: task.attempts }));
    const claimed = live
      .filter((task) => task.state === 'claimed')
      .map((task) => ({ id: task.id, worker: task.holder ?? '', leaseExpiresAt: task.leaseExpiresAtMs, attempt: task.attempts }));
    const truncated =
      pending.length > limit || claimed.length > limit || queue.recentDoneIds.length > limit || queue.deadIds.length > limit;
    return {
      queue: queueName,
      counts,
      pending: pending.slice(0, limit),
      claimed: claimed.slice(0, limit),
      done: queue.recentDoneIds.slice(-limit),
      dead: queue.deadIds.slice(-limit),
      truncated,
    };
  }

  toSnapshot(): TaskQueuesSnapshot {
    const queues = this.queueNames().map((name) => {
      const queue = this.queuesByName.get(name)!;
      return { name, done: queue.done, recentDoneIds: [...queue.recentDoneIds], deadIds: [...queue.deadIds] };
    });
    const tasks = [...this.tasks.values()]
      .sort((a, b) => a.id - b.id)
      .map(
        (task) =>
          [task.id, task.queue, task.payloadJson, task.attempts, task.state, task.readyAtMs, task.holder, task.leaseExpiresAtMs, task.lastReturn] as const,
      );
    return { nextTaskId: this.nextTaskId, queues, tasks };
  }

  /** Rebuilds queues from a snapshot taken at log time `nowMs`. Throws on malformed data. */
  static fromSnapshot(data: unknown, options: QueueOptions, nowMs: number): TaskQueues {
    const snapshot = validateSnapshot(data);
    const restored = new TaskQueues(options);
    restored.nowMs = nowMs;
    restored.nextTaskId = snapshot.nextTaskId;
    for (const saved of snapshot.queues) {
      const queue = restored.createQueue(saved.name);
      queue.done = saved.done;
      queue.recentDoneIds.push(...saved.recentDoneIds);
      queue.deadIds.push(...saved.deadIds);
    }
    for (const [id, queueName, payloadJson, attempts, state, readyAtMs, holder, leaseExpiresAtMs, lastReturn] of snapshot.tasks) {
      const queue = restored.queuesByName.get(queueName);
      if (!queue) throw new Error(`task queues snapshot: task ${id} names queue ${JSON.stringify(queueName)}, which the snapshot lacks`);
      if (id >= snapshot.nextTaskId) throw new Error(`task queues snapshot: task ${id} is not below nextTaskId ${snapshot.nextTaskId}`);
      const task: Task = { id, queue: queueName, payloadJson, attempts, state, readyAtMs, holder, leaseExpiresAtMs, lastReturn };
      restored.tasks.set(id, task);
      queue.liveIds.add(id);
      if (state === 'ready') queue.ready.push(id);
      if (state === 'waiting') restored.timers.push({ atMs: readyAtMs, id });
      if (state === 'claimed') restored.timers.push({ atMs: leaseExpiresAtMs, id });
      if (state === 'waiting' || state === 'ready') queue.pending++;
      if (state === 'claimed') queue.claimed++;
    }
    return restored;
  }

  private enqueue(queueName: string, payloadJson: string): EnqueueResult | QueueError {
    let queue = this.queuesByName.get(queueName);
    if (!queue) {
      if (this.queuesByName.size >= this.options.queuesMax) {
        return failure('limit_reached', `cannot create queue ${JSON.stringify(queueName)}: the service holds ${this.queuesByName.size} queues, its limit (queuesMax)`);
      }
      queue = this.createQueue(queueName);
    }
    if (queue.liveIds.size >= this.options.tasksPerQueueMax) {
      return failure(
        'limit_reached',
        `queue ${JSON.stringify(queueName)} holds ${queue.liveIds.size} pending, claimed and dead tasks, its limit (tasksPerQueueMax)`,
      );
    }
    const id = this.nextTaskId++;
    const task: Task = { id, queue: queueName, payloadJson, attempts: 0, state: 'ready', readyAtMs: this.nowMs, holder: null, leaseExpiresAtMs: 0, lastReturn: null };
    this.tasks.set(id, task);
    queue.liveIds.add(id);
    queue.pending++;
    queue.ready.push(id);
    return { ok: true, id };
  }

  private claim(queueName: string, worker: string, leaseMs: number): ClaimedTask | ClaimEmpty {
    const queue = this.queuesByName.get(queueName);
    const id = queue?.ready.pop();
    if (!queue || id === undefined) return { ok: true, empty: true };
    const task = this.taskOf(id);
    assert(task.state === 'ready', `task ${id} in the ready heap of ${queueName} is ${task.state}`);
    task.state = 'claimed';
    task.attempts++;
    task.holder = worker;
    task.leaseExpiresAtMs = this.nowMs + leaseMs;
    queue.pending--;
    queue.claimed++;
    this.addTimer({ atMs: task.leaseExpiresAtMs, id });
    return { ok: true, empty: false, id, payload: JSON.parse(task.payloadJson) as JsonValue, attempt: task.attempts, leaseExpiresAt: task.leaseExpiresAtMs };
  }

  private ack(queueName: string, id: number, worker: string | undefined): AckResult | QueueError {
    const held = this.findHeldTask(queueName, id, worker, 'acknowledge');
    if ('error' in held) return held;
    const queue = this.queueOf(held);
    this.tasks.delete(id);
    queue.liveIds.delete(id);
    queue.claimed--;
    queue.done++;
    if (this.options.doneIdsKept > 0) {
      queue.recentDoneIds.push(id);
      if (queue.recentDoneIds.length > this.options.doneIdsKept) queue.recentDoneIds.shift();
    }
    return { ok: true, acked: id };
  }

  private nack(queueName: string, id: number, worker: string | undefined): NackResult | QueueError {
    const held = this.findHeldTask(queueName, id, worker, 'nack');
    if ('error' in held) return held;
    const queue = this.queueOf(held);
    queue.claimed--;
    held.holder = null;
    held.lastReturn = 'nack';
    if (held.attempts >= this.options.attemptsMax) {
      this.markDead(held);
      return { ok: true, outcome: 'dead', attempts: held.attempts };
    }
    held.state = 'waiting';
    held.readyAtMs = this.nowMs + this.backoffMs(held.attempts);
    queue.pending++;
    this.addTimer({ atMs: held.readyAtMs, id });
    return { ok: true, outcome: 'retry', attempts: held.attempts, readyAt: held.readyAtMs };
  }

  /** The task when `worker` (or anyone, when no worker is named) holds a valid lease on it; else why not. */
  private findHeldTask(queueName: string, id: number, worker: string | undefined, verb: string): Task | QueueError {
    const task = this.tasks.get(id);
    const queue = this.queuesByName.get(queueName);
    if (!task || task.queue !== queueName) {
      if (queue?.recentDoneIds.includes(id)) return failure('already_done', `cannot ${verb} task ${id}: it is already done`);
      return failure('unknown_task', `cannot ${verb} task ${id}: queue ${JSON.stringify(queueName)} has no such pending or claimed task (never enqueued there, or done long ago)`);
    }
    if (task.state === 'dead') return failure('dead', `cannot ${verb} task ${id}: it is in the dead-letter list after ${task.attempts} attempts`);
    if (task.state !== 'claimed') {
      if (task.lastReturn === 'expiry') {
        return failure('lease_expired', `cannot ${verb} task ${id}: its lease expired at ${task.leaseExpiresAtMs} ms and it went back to pending`);
      }
      return failure('not_claimed', `cannot ${verb} task ${id}: it is pending, not claimed`);
    }
    if (worker !== undefined && task.holder !== worker) {
      // The lease it had expired and another worker claimed the task since, or it never held it.
      return failure('not_holder', `cannot ${verb} task ${id}: worker ${JSON.stringify(worker)} does not hold it (${JSON.stringify(task.holder)} does)`);
    }
    assert(task.leaseExpiresAtMs > this.nowMs, `claimed task ${id} outlived its lease: ${task.leaseExpiresAtMs} <= ${this.nowMs}`);
    return task;
  }

  private expireLease(task: Task): void {
    const queue = this.queueOf(task);
    queue.claimed--;
    task.holder = null;
    task.lastReturn = 'expiry';
    if (task.attempts >= this.options.attemptsMax) {
      this.markDead(task);
      return;
    }
    // Ready at once, and, being older than anything enqueued since, first in line again.
    task.readyAtMs = task.leaseExpiresAtMs;
    queue.pending++;
    task.state = 'ready';
    queue.ready.push(task.id);
  }

  private makeReady(task: Task): void {
    task.state = 'ready';
    this.queueOf(task).ready.push(task.id);
  }

  private markDead(task: Task): void {
    task.state = 'dead';
    this.queueOf(task).deadIds.push(task.id);
  }

  /** Exponential from backoffMsBase, doubling per attempt, capped at backoffMsMax. */
  private backoffMs(attempts: number): number {
    const doublings = Math.min(Math.max(attempts - 1, 0), 40);
    return Math.min(this.options.backoffMsMax, this.options.backoffMsBase * 2 ** doublings);
  }

  private addTimer(timer: Timer): void {
    this.timers.push(timer);
    if (this.timers.size > STALE_TIMERS_FACTOR * this.tasks.size + STALE_TIMERS_SLACK) this.sweepStaleTimers();
  }

  /** Rebuilds the timer heap from live tasks; fired or not, a stale timer never changes anything, so this is unobservable. */
  private sweepStaleTimers(): void {
    this.timers.clear();
    for (const task of this.tasks.values()) {
      if (task.state === 'waiting') this.timers.push({ atMs: task.readyAtMs, id: task.id });
      if (task.state === 'claimed') this.timers.push({ atMs: task.leaseExpiresAtMs, id: task.id });
    }
  }

  private createQueue(name: string): Queue {
    const queue: Queue = {
      name,
      ready: new MinHeap<number>((a, b) => a < b),
      liveIds: new Set(),
      pending: 0,
      claimed: 0,
      done: 0,
      recentDoneIds: [],
      deadIds: [],
    };
    this.queuesByName.set(name, queue);
    return queue;
  }

  private taskOf(id: number): Task {
    const task = this.tasks.get(id);
    assert(task !== undefined, `task ${id} is listed but missing`);
    return task;
  }

  private queueOf(task: Task): Queue {
    const queue = this.queuesByName.get(task.queue);
    assert(queue !== undefined, `task ${task.id} names queue ${task.queue}, which does not exist`);
    return queue;
  }
}

function failure(error: QueueErrorCode, message: string): QueueError {
  return { ok: false, error, message };
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`task queues: ${message}`);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const TASK_STATES: readonly TaskState[] = ['waiting', 'ready', 'claimed', 'dead'];

function validateSnapshot(data: unknown): TaskQueuesSnapshot {
  const fail = (what: string): never => {
    throw new Error(`task queues snapshot: ${what}`);
  };
  const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
  const isIdList = (value: unknown): value is number[] => Array.isArray(value) && value.every(isCount);
  if (typeof data !== 'object' || data === null) return fail('expected an object');
  const { nextTaskId, queues, tasks } = data as Record<string, unknown>;
  if (!isCount(nextTaskId) || nextTaskId < 1) fail('nextTaskId: expected a whole number of at least 1');
  if (!Array.isArray(queues)) return fail('queues: expected a list');
  queues.forEach((queue: unknown, index) => {
    const { name, done, recentDoneIds, deadIds } = (queue ?? {}) as Record<string, unknown>;
    if (typeof name !== 'string' || !isCount(done) || !isIdList(recentDoneIds) || !isIdList(deadIds)) {
      fail(`queues[${index}]: expected {name, done, recentDoneIds, deadIds}`);
    }
  });
  if (!Array.isArray(tasks)) return fail('tasks: expected a list');
  tasks.forEach((task: unknown, index) => {
    const fields = task as unknown[];
    const ok =
      Array.isArray(fields) &&
      fields.length === 9 &&
      isCount(fields[0]) &&
      typeof fields[1] === 'string' &&
      typeof fields[2] === 'string' &&
      isCount(fields[3]) &&
      TASK_STATES.includes(fields[4] as TaskState) &&
      isCount(fields[5]) &&
      (fields[6] === null || typeof fields[6] === 'string') &&
      isCount(fields[7]) &&
      (fields[8] === null || fields[8] === 'nack' || fields[8] === 'expiry');
    if (!ok) fail(`tasks[${index}]: expected [id, queue, payloadJson, attempts, state, readyAtMs, holder, leaseExpiresAtMs, lastReturn]`);
  });
  return data as TaskQueuesSnapshot;
}
