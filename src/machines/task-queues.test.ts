import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROPERTY_RUNS, QUEUES, queueCommand } from './arbitrary-commands.ts';
import type { JsonValue } from './json-value.ts';
import { DEFAULT_SERVICE_OPTIONS, type ServiceOptions } from './service-options.ts';
import { TaskQueues, type QueueCommand, type QueueLanes, type QueueResult } from './task-queues.ts';

const OPTIONS: ServiceOptions = { ...DEFAULT_SERVICE_OPTIONS, attemptsMax: 3, backoffMsBase: 100, backoffMsMax: 400 };

/** Applies commands at given log times, keeping the results. */
function run(queues: TaskQueues, script: readonly [number, QueueCommand][]): QueueResult[] {
  return script.map(([nowMs, command]) => queues.apply(command, nowMs));
}

const enqueue = (payload: JsonValue, queue = 'jobs'): QueueCommand => ({ op: 'enqueue', queue, payload });
const claim = (worker: string, leaseMs = 1000, queue = 'jobs'): QueueCommand => ({ op: 'claim', queue, worker, leaseMs });
const ack = (task: number, worker?: string, queue = 'jobs'): QueueCommand =>
  worker === undefined ? { op: 'ack', queue, task } : { op: 'ack', queue, task, worker };
const nack = (task: number, worker?: string, queue = 'jobs'): QueueCommand =>
  worker === undefined ? { op: 'nack', queue, task } : { op: 'nack', queue, task, worker };

describe('TaskQueues: enqueue and claim', () => {
  it('gives increasing ids, unique across queues', () => {
    const queues = new TaskQueues(OPTIONS);
    const results = run(queues, [
      [0, enqueue('a')],
      [0, enqueue('b', 'mail')],
      [5, enqueue('c')],
    ]);
    expect(results).toEqual([
      { ok: true, id: 1 },
      { ok: true, id: 2 },
      { ok: true, id: 3 },
    ]);
  });

  it('hands out the oldest ready task first, with its payload, attempt 1 and a lease of timeMs + leaseMs', () => {
    const queues = new TaskQueues(OPTIONS);
    run(queues, [
      [0, enqueue({ n: 1 })],
      [1, enqueue({ n: 2 })],
    ]);
    expect(queues.apply(claim('w1', 500), 10)).toEqual({ ok: true, empty: false, id: 1, payload: { n: 1 }, attempt: 1, leaseExpiresAt: 510 });
    expect(queues.apply(claim('w2', 500), 11)).toEqual({ ok: true, empty: false, id: 2, payload: { n: 2 }, attempt: 1, leaseExpiresAt: 511 });
    expect(queues.apply(claim('w3'), 12)).toEqual({ ok: true, empty: true });
  });

  it('answers empty for a queue that does not exist, and zero counts', () => {
    const queues = new TaskQueues(OPTIONS);
    expect(queues.apply(claim('w1', 100, 'nowhere'), 0)).toEqual({ ok: true, empty: true });
    expect(queues.apply({ op: 'stats', queue: 'nowhere' }, 0)).toEqual({ ok: true, pending: 0, claimed: 0, done: 0, dead: 0 });
  });

  it('does not let a claim change the payload a later claim gets', () => {
    const queues = new TaskQueues(OPTIONS);
    queues.apply(enqueue({ list: [1] }), 0);
    const first = queues.apply(claim('w1', 10), 0);
    if (!('payload' in first)) throw new Error('expected a task');
    (first.payload as { list: number[] }).list.push(2);
    const again = queues.apply(claim('w2', 10), 20);
    expect(again).toMatchObject({ id: 1, payload: { list: [1] }, attempt: 2 });
  });
});

describe('TaskQueues: leases', () => {
  it('keeps a task from every other worker while its lease is valid, and frees it when the lease ends', () => {
    const queues = new TaskQueues(OPTIONS);
    run(queues, [
      [0, enqueue('only')],
      [0, claim('w1', 100)],
    ]);
    expect(queues.apply(claim('w2', 100), 99)).toEqual({ ok: true, empty: true });
    // At leaseExpiresAt exactly the lease is over (valid while time < leaseExpiresAt).
    expect(queues.apply(claim('w2', 100), 100)).toMatchObject({ id: 1, attempt: 2, leaseExpiresAt: 200 });
  });

  it('refuses an ack from a worker whose lease expired, and one from a worker that never held the task', () => {
    const queues = new TaskQueues(OPTIONS);
    run(queues, [
      [0, enqueue('t')],
      [0, claim('w1', 100)],
    ]);
    expect(queues.apply(ack(1, 'w2'), 50)).toMatchObject({ ok: false, error: 'not_holder' });
    expect(queues.apply(ack(1, 'w1'), 150)).toMatchObject({ ok: false, error: 'lease_expired' });
    queues.apply(claim('w2', 100), 160);
    expect(queues.apply(ack(1, 'w1'), 170)).toMatchObject({ ok: false, error: 'not_holder' });
    expect(queues.apply(ack(1, 'w2'), 170)).toEqual({ ok: true, acked: 1 });
  });

  it('returns an expired task ahead of younger ones (FIFO by enqueue order)', () => {
    const queues = new TaskQueues(OPTIONS);
    run(queues, [
      [0, enqueue('old')],
      [0, claim('w1', 100)],
      [10, enqueue('young')],
    ]);
    expect(queues.apply(claim('w2', 100), 100)).toMatchObject({ id: 1, payload: 'old', attempt: 2 });
    expect(queues.apply(claim('w3', 100), 100)).toMatchObject({ id: 2, payload: 'young', attempt: 1 });
  });

  it('moves a task whose lease expired on its last attempt to the dead-letter list', () => {
    const queues = new TaskQueues(OPTIONS);
    queues.apply(enqueue('doomed'), 0);
    for (let attempt = 1; attempt <= OPTIONS.attemptsMax; attempt++) {
      expect(queues.apply(claim('w1', 10), attempt * 100)).toMatchObject({ id: 1, attempt });
    }
    expect(queues.apply({ op: 'stats', queue: 'jobs' }, 1000)).toEqual({ ok: true, pending: 0, claimed: 0, done: 0, dead: 1 });
    expect(queues.apply(ack(1), 1000)).toMatchObject({ ok: false, error: 'dead' });
  });
});

describe('TaskQueues: ack and nack', () => {
  it('completes an acknowledged task: counted as done, never handed out again', () => {
    const queues = new TaskQueues(OPTIONS);
    run(queues, [
      [0, enqueue('t')],
      [0, claim('w1', 100)],
    ]);
    expect(queues.apply(ack(1, 'w1'), 10)).toEqual({ ok: true, acked: 1 });
    expect(queues.apply(claim('w2', 100), 10_000)).toEqual({ ok: true, empty: true });
    expect(queues.apply(ack(1, 'w1'), 10_000)).toMatchObject({ ok: false, error: 'already_done' });
    expect(queues.counts('jobs')).toEqual({ pending: 0, claimed: 0, done: 1, dead: 0 });
  });

  it('refuses to ack a pending task, an unknown one, and one named under another queue', () => {
    const queues = new TaskQueues(OPTIONS);
    run(queues, [
      [0, enqueue('t')],
      [0, enqueue('m', 'mail')],
    ]);
    expect(queues.apply(ack(1), 0)).toMatchObject({ ok: false, error: 'not_claimed' });
    expect(queues.apply(ack(99), 0)).toMatchObject({ ok: false, error: 'unknown_task' });
    expect(queues.apply(ack(2), 0)).toMatchObject({ ok: false, error: 'unknown_task' });
  });

  it('retries a nacked task after an exponential backoff, capped, then dead-letters it', () => {
    const queues = new TaskQueues({ ...OPTIONS, attemptsMax: 5, backoffMsBase: 100, backoffMsMax: 300 });
    queues.apply(enqueue('flaky'), 0);
    let now = 0;
    const readyTimes: number[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      expect(queues.apply(claim('w1', 1000), now)).toMatchObject({ id: 1, attempt });
      const result = queues.apply(nack(1, 'w1'), now);
      expect(result).toMatchObject({ ok: true, outcome: 'retry', attempts: attempt });
      if (!('readyAt' in result)) throw new Error('expected a retry');
      readyTimes.push(result.readyAt - now);
      expect(queues.apply(claim('w2', 1000), result.readyAt - 1)).toEqual({ ok: true, empty: true });
      now = result.readyAt;
    }
    expect(readyTimes).toEqual([100, 200, 300, 300]);
    expect(queues.apply(claim('w1', 1000), now)).toMatchObject({ id: 1, attempt: 5 });
    expect(queues.apply(nack(1, 'w1'), now)).toEqual({ ok: true, outcome: 'dead', attempts: 5 });
    expect(queues.lanes('jobs')).toMatchObject({ dead: [1], pending: [], claimed: [] });
  });

  it('lets a worker nack only a task it holds', () => {
    const queues = new TaskQueues(OPTIONS);
    run(queues, [
      [0, enqueue('t')],
      [0, claim('w1', 100)],
    ]);
    expect(queues.apply(nack(1, 'w2'), 1)).toMatchObject({ ok: false, error: 'not_holder' });
    expect(queues.apply(nack(1), 1)).toMatchObject({ ok: true, outcome: 'retry' });
    expect(queues.apply(nack(1), 2)).toMatchObject({ ok: false, error: 'not_claimed' });
  });
});

describe('TaskQueues: counts, lanes and bounds', () => {
  it('shows each task in exactly one lane', () => {
    const queues = new TaskQueues(OPTIONS);
    run(queues, [
      [0, enqueue('1')],
      [0, enqueue('2')],
      [0, enqueue('3')],
      [0, enqueue('4')],
      [0, claim('w1', 100)], // 1
      [0, claim('w2', 100)], // 2
      [0, claim('w3', 100)], // 3
      [1, ack(1, 'w1')],
      [1, nack(2, 'w2')],
    ]);
    const lanes: QueueLanes = queues.lanes('jobs');
    expect(lanes).toEqual({
      queue: 'jobs',
      counts: { pending: 2, claimed: 1, done: 1, dead: 0 },
      pending: [
        { id: 2, readyAt: 101, attempts: 1 },
        { id: 4, readyAt: 0, attempts: 0 },
      ],
      claimed: [{ id: 3, worker: 'w3', leaseExpiresAt: 100, attempt: 1 }],
      done: [1],
      dead: [],
      truncated: false,
    });
    expect(queues.apply({ op: 'peek', queue: 'jobs' }, 1)).toEqual({ ok: true, lanes });
    expect(queues.queueNames()).toEqual(['jobs']);
  });

  it('keeps a bounded list of done ids and an exact done count', () => {
    const queues = new TaskQueues({ ...OPTIONS, doneIdsKept: 3 });
    for (let i = 1; i <= 5; i++) {
      queues.apply(enqueue(i), i);
      queues.apply(claim('w1', 10), i);
      queues.apply(ack(i), i);
    }
    expect(queues.lanes('jobs').done).toEqual([3, 4, 5]);
    expect(queues.counts('jobs').done).toBe(5);
  });

  it('cuts long lanes at laneItemsMax and says so', () => {
    const queues = new TaskQueues({ ...OPTIONS, laneItemsMax: 2 });
    for (let i = 0; i < 5; i++) queues.apply(enqueue(i), 0);
    const lanes = queues.lanes('jobs');
    expect(lanes.pending.map((item) => item.id)).toEqual([1, 2]);
    expect(lanes.counts.pending).toBe(5);
    expect(lanes.truncated).toBe(true);
  });

  it('refuses a task beyond tasksPerQueueMax and a queue beyond queuesMax, naming the limit', () => {
    const queues = new TaskQueues({ ...OPTIONS, tasksPerQueueMax: 2, queuesMax: 1 });
    run(queues, [
      [0, enqueue(1)],
      [0, enqueue(2)],
    ]);
    expect(queues.apply(enqueue(3), 0)).toMatchObject({ ok: false, error: 'limit_reached', message: expect.stringContaining('tasksPerQueueMax') });
    expect(queues.apply(enqueue(1, 'mail'), 0)).toMatchObject({ ok: false, error: 'limit_reached', message: expect.stringContaining('queuesMax') });
    // Completing a task frees its place.
    run(queues, [
      [0, claim('w1', 10)],
      [0, ack(1)],
    ]);
    expect(queues.apply(enqueue(3), 0)).toEqual({ ok: true, id: 3 });
  });

  it('refuses time going backwards (the service clamps stamps before they get here)', () => {
    const queues = new TaskQueues(OPTIONS);
    queues.advanceTo(100);
    expect(() => queues.advanceTo(99)).toThrow('time went back from 100 to 99 ms');
  });

  it('keeps stale timers bounded under many short claims', () => {
    const queues = new TaskQueues(OPTIONS);
    for (let i = 0; i < 5000; i++) {
      queues.apply(enqueue(i), 0);
      queues.apply(claim('w1', 1_000_000), 0);
      queues.apply(ack(i + 1), 0);
    }
    const timers = (queues as unknown as { timers: { size: number } }).timers;
    expect(timers.size).toBeLessThanOrEqual(1024 + 1);
  });
});

describe('TaskQueues: snapshots', () => {
  it('restores waiting and claimed tasks with their timers', () => {
    const queues = new TaskQueues(OPTIONS);
    run(queues, [
      [0, enqueue('a')],
      [0, enqueue('b')],
      [0, claim('w1', 100)],
      [0, claim('w2', 100)],
      [10, nack(2, 'w2')],
    ]);
    const restored = TaskQueues.fromSnapshot(JSON.parse(JSON.stringify(queues.toSnapshot())), OPTIONS, 10);
    expect(restored.toSnapshot()).toEqual(queues.toSnapshot());
    const script: [number, QueueCommand][] = [
      [50, claim('w3', 100)],
      [110, claim('w3', 100)],
      [111, claim('w3', 100)],
    ];
    expect(run(restored, script)).toEqual(run(queues, script));
    expect(restored.toSnapshot()).toEqual(queues.toSnapshot());
  });

  it('refuses a malformed snapshot, naming the part', () => {
    expect(() => TaskQueues.fromSnapshot({ nextTaskId: 1, queues: [], tasks: [[1]] }, OPTIONS, 0)).toThrow('tasks[0]');
    expect(() => TaskQueues.fromSnapshot({ nextTaskId: 2, queues: [], tasks: [[1, 'q', '1', 0, 'ready', 0, null, 0, null]] }, OPTIONS, 0)).toThrow(
      'names queue "q"',
    );
    expect(() => TaskQueues.fromSnapshot(null, OPTIONS, 0)).toThrow('expected an object');
  });
});

// A deliberately naive model of the same rules: a flat list scanned in full on every command. The real
// implementation (heaps, timers, lazy expiry) must give exactly its results.
interface ModelTask {
  id: number;
  queue: string;
  payload: JsonValue;
  attempts: number;
  state: 'pending' | 'claimed' | 'dead' | 'done';
  readyAt: number;
  holder: string | null;
  leaseExpiresAt: number;
  lastReturn: 'nack' | 'expiry' | null;
}

class NaiveQueues {
  private readonly tasks: ModelTask[] = [];
  private readonly deadOrder = new Map<string, number[]>();
  private readonly doneOrder = new Map<string, number[]>();
  private readonly queueNames = new Set<string>();

  constructor(private readonly options: ServiceOptions) {}

  apply(command: QueueCommand, now: number): unknown {
    const expiring = this.tasks
      .filter((task) => task.state === 'claimed' && task.leaseExpiresAt <= now)
      .sort((a, b) => a.leaseExpiresAt - b.leaseExpiresAt || a.id - b.id);
    for (const task of expiring) {
      task.holder = null;
      task.lastReturn = 'expiry';
      if (task.attempts >= this.options.attemptsMax) this.kill(task);
      else [task.state, task.readyAt] = ['pending', task.leaseExpiresAt];
    }
    switch (command.op) {
      case 'enqueue': {
        const id = this.tasks.length + 1;
        this.queueNames.add(command.queue);
        this.tasks.push({ id, queue: command.queue, payload: command.payload, attempts: 0, state: 'pending', readyAt: now, holder: null, leaseExpiresAt: 0, lastReturn: null });
        return { ok: true, id };
      }
      case 'claim': {
        const task = this.tasks.find((t) => t.queue === command.queue && t.state === 'pending' && t.readyAt <= now);
        if (!task) return { ok: true, empty: true };
        Object.assign(task, { state: 'claimed', holder: command.worker, leaseExpiresAt: now + command.leaseMs, attempts: task.attempts + 1 });
        return { ok: true, empty: false, id: task.id, payload: task.payload, attempt: task.attempts, leaseExpiresAt: task.leaseExpiresAt };
      }
      case 'ack':
      case 'nack': {
        const task = this.tasks.find((t) => t.id === command.task);
        if (!task || task.queue !== command.queue) return { ok: false, error: 'unknown_task' };
        if (task.state === 'done') return { ok: false, error: 'already_done' };
        if (task.state === 'dead') return { ok: false, error: 'dead' };
        if (task.state === 'pending') return { ok: false, error: task.lastReturn === 'expiry' ? 'lease_expired' : 'not_claimed' };
        if (command.worker !== undefined && command.worker !== task.holder) return { ok: false, error: 'not_holder' };
        task.holder = null;
        if (command.op === 'ack') {
          task.state = 'done';
          this.doneOrder.set(task.queue, [...(this.doneOrder.get(task.queue) ?? []), task.id]);
          return { ok: true, acked: task.id };
        }
        task.lastReturn = 'nack';
        if (task.attempts >= this.options.attemptsMax) {
          this.kill(task);
          return { ok: true, outcome: 'dead', attempts: task.attempts };
        }
        task.state = 'pending';
        task.readyAt = now + Math.min(this.options.backoffMsMax, this.options.backoffMsBase * 2 ** (task.attempts - 1));
        return { ok: true, outcome: 'retry', attempts: task.attempts, readyAt: task.readyAt };
      }
      case 'stats':
        return { ok: true, ...this.counts(command.queue) };
      case 'peek': {
        const mine = this.tasks.filter((t) => t.queue === command.queue);
        return {
          ok: true,
          lanes: {
            queue: command.queue,
            counts: this.counts(command.queue),
            pending: mine.filter((t) => t.state === 'pending').map((t) => ({ id: t.id, readyAt: t.readyAt, attempts: t.attempts })),
            claimed: mine.filter((t) => t.state === 'claimed').map((t) => ({ id: t.id, worker: t.holder, leaseExpiresAt: t.leaseExpiresAt, attempt: t.attempts })),
            done: this.doneOrder.get(command.queue) ?? [],
            dead: this.deadOrder.get(command.queue) ?? [],
            truncated: false,
          },
        };
      }
    }
  }

  private counts(queue: string) {
    const mine = this.tasks.filter((t) => t.queue === queue);
    const count = (state: ModelTask['state']) => mine.filter((t) => t.state === state).length;
    return { pending: count('pending'), claimed: count('claimed'), done: count('done'), dead: count('dead') };
  }

  private kill(task: ModelTask): void {
    task.state = 'dead';
    this.deadOrder.set(task.queue, [...(this.deadOrder.get(task.queue) ?? []), task.id]);
  }
}

function withoutMessage(result: QueueResult): unknown {
  if (result.ok) return result;
  return { ok: false, error: result.error };
}

type TimedCommand = [stepMs: number, command: QueueCommand, aim: number | undefined];

/**
 * Random ids rarely name a claimed task, so most acks and nacks also carry an `aim`: they are pointed at one of the
 * last few tasks handed out (see aimed), which may since have expired, been re-claimed or completed.
 */
const timedQueueCommands: fc.Arbitrary<TimedCommand[]> = fc.array(
  fc.tuple(fc.integer({ min: 0, max: 150 }), queueCommand, fc.option(fc.nat(3), { nil: undefined, freq: 4 })),
  { minLength: 10, maxLength: 150 },
);

/** Applies aimed commands, remembering recent hand-outs so that acks and nacks can be aimed at them. */
class AimedRunner {
  private readonly recentClaims: { queue: string; task: number }[] = [];
  now = 0;

  constructor(private readonly apply: (command: QueueCommand, now: number) => QueueResult) {}

  step([stepMs, command, aim]: TimedCommand): { command: QueueCommand; result: QueueResult } {
    this.now += stepMs;
    const aimed = this.aimed(command, aim);
    const result = this.apply(aimed, this.now);
    if (aimed.op === 'claim' && 'id' in result) {
      this.recentClaims.unshift({ queue: aimed.queue, task: result.id });
      this.recentClaims.length = Math.min(this.recentClaims.length, 4);
    }
    return { command: aimed, result };
  }

  private aimed(command: QueueCommand, aim: number | undefined): QueueCommand {
    if ((command.op !== 'ack' && command.op !== 'nack') || aim === undefined || this.recentClaims.length === 0) return command;
    const target = this.recentClaims[aim % this.recentClaims.length]!;
    return { ...command, queue: target.queue, task: target.task };
  }
}

describe('TaskQueues: properties under random claim, ack, nack and expiry', () => {
  it('gives exactly the results of a naive model of the same rules', () => {
    fc.assert(
      fc.property(timedQueueCommands, (script) => {
        const queues = new TaskQueues(OPTIONS);
        const model = new NaiveQueues(OPTIONS);
        const runner = new AimedRunner((command, now) => queues.apply(command, now));
        for (const timed of script) {
          const { command, result } = runner.step(timed);
          expect(withoutMessage(result)).toEqual(model.apply(command, runner.now));
        }
      }),
      PROPERTY_RUNS,
    );
  });

  it('never hands out an acknowledged task, never grants two valid leases on one task, and hands out the oldest ready task', () => {
    fc.assert(
      fc.property(timedQueueCommands, (script) => {
        const queues = new TaskQueues(OPTIONS);
        const acked = new Set<number>();
        const leases = new Map<number, { worker: string; leaseExpiresAt: number }>();
        let readyBefore: QueueLanes | undefined;
        const runner = new AimedRunner((command, now) => {
          // What was claimable just before this command: for FIFO, the lowest ready id in the claimed queue.
          readyBefore = command.op === 'claim' ? queues.lanes(command.queue) : undefined;
          return queues.apply(command, now);
        });
        for (const timed of script) {
          const { command, result } = runner.step(timed);
          const now = runner.now;
          if (command.op === 'claim' && 'leaseExpiresAt' in result) {
            expect(acked.has(result.id), `task ${result.id} handed out after its ack`).toBe(false);
            const previous = leases.get(result.id);
            if (previous) expect(previous.leaseExpiresAt, `task ${result.id} handed out during ${previous.worker}'s lease`).toBeLessThanOrEqual(now);
            leases.set(result.id, { worker: command.worker, leaseExpiresAt: result.leaseExpiresAt });
            const olderReady = readyBefore!.pending.filter((item) => item.readyAt <= now && item.id < result.id);
            // Lanes were read before this command's expiry pass: a lease ending now adds a ready task, never hides one.
            expect(olderReady, `task ${result.id} handed out before older ready tasks`).toEqual([]);
          }
          if ((command.op === 'ack' || command.op === 'nack') && result.ok) leases.delete(command.task);
          if (command.op === 'ack' && result.ok) acked.add(command.task);
        }
        // Nothing acknowledged is lost: every ack is counted as done and no acked id sits in another lane.
        const done = QUEUES.reduce((sum, queue) => sum + queues.counts(queue).done, 0);
        expect(done).toBe(acked.size);
        for (const queue of QUEUES) {
          const lanes = queues.lanes(queue);
          const elsewhere = [...lanes.pending.map((item) => item.id), ...lanes.claimed.map((item) => item.id), ...lanes.dead];
          expect(elsewhere.filter((id) => acked.has(id))).toEqual([]);
        }
      }),
      PROPERTY_RUNS,
    );
  });

  it('behaves the same after a snapshot and restore at any point', () => {
    fc.assert(
      fc.property(timedQueueCommands, fc.nat(), (script, cutSeed) => {
        const cut = script.length === 0 ? 0 : cutSeed % script.length;
        const straight = new TaskQueues(OPTIONS);
        let copy = new TaskQueues(OPTIONS);
        let copyResult: QueueResult | undefined;
        const runner = new AimedRunner((command, now) => {
          copyResult = copy.apply(command, now);
          return straight.apply(command, now);
        });
        script.forEach((timed, index) => {
          // The snapshot is taken between entries, at the log time of the last one applied.
          if (index === cut) copy = TaskQueues.fromSnapshot(JSON.parse(JSON.stringify(copy.toSnapshot())), OPTIONS, runner.now);
          const { result } = runner.step(timed);
          expect(copyResult).toEqual(result);
        });
        expect(copy.toSnapshot()).toEqual(straight.toSnapshot());
      }),
      PROPERTY_RUNS,
    );
  });
});
