// The queue checker against the real task queue: histories recorded from concurrent clients of TaskQueues must
// raise no alarm, and a queue that loses acknowledgements must be caught.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SERVICE_OPTIONS } from '../machines/service-options.ts';
import { TaskQueues, type QueueCommand, type QueueResult } from '../machines/task-queues.ts';
import { seededRandom } from './history-generator.ts';
import { checkQueueHistory, type QueueOperation, type QueueOperationResult } from './queue-guarantees.ts';

const QUEUE = 'jobs';

interface Client {
  readonly name: string;
  /** The task this client holds, from its last claim. */
  holding: number | undefined;
  freeAtMs: number;
}

interface InFlight {
  readonly client: Client;
  readonly command: QueueCommand;
  readonly callMs: number;
  readonly effectMs: number;
  readonly returnMs: number;
  /** The client never hears back (the operation may still take effect). */
  readonly unanswered: boolean;
  readonly takesEffect: boolean;
  result?: QueueResult;
}

/**
 * Runs `clients` workers against `apply` for `operations` operations: each takes effect at one instant between
 * its call and return, in time order. Returns the history the clients recorded.
 */
function recordHistory(seed: number, clients: number, operations: number, apply: (command: QueueCommand, nowMs: number) => QueueResult): QueueOperation[] {
  const random = seededRandom(seed);
  const team: Client[] = Array.from({ length: clients }, (_, i) => ({ name: `w${i}`, holding: undefined, freeAtMs: Math.floor(random() * 10) }));
  const inFlight: InFlight[] = [];
  const history: QueueOperation[] = [];
  let started = 0;

  const plan = (client: Client): void => {
    if (started >= operations) return;
    started++;
    const roll = random();
    const command: QueueCommand =
      client.holding !== undefined && roll < 0.6
        ? { op: roll < 0.45 ? 'ack' : 'nack', queue: QUEUE, task: client.holding, worker: client.name }
        : roll < 0.35
          ? { op: 'enqueue', queue: QUEUE, payload: started }
          : roll < 0.85
            ? { op: 'claim', queue: QUEUE, worker: client.name, leaseMs: 20 + Math.floor(random() * 80) }
            : { op: 'stats', queue: QUEUE };
    const callMs = client.freeAtMs + Math.floor(random() * 5);
    const returnMs = callMs + 1 + Math.floor(random() * 20);
    const unanswered = random() < 0.05;
    inFlight.push({ client, command, callMs, returnMs, effectMs: callMs + random() * (returnMs - callMs), unanswered, takesEffect: !unanswered || random() < 0.5 });
    client.freeAtMs = unanswered ? returnMs + 30 : returnMs; // after a time-out, the client moves on
  };
  team.forEach(plan);

  // Effects in time order; a client plans its next operation when the last one returns (its result known).
  let nowMs = 0;
  for (let guard = 0; inFlight.length > 0 && guard < operations * 4; guard++) {
    const pendingEffects = inFlight.filter((op) => op.result === undefined && op.takesEffect);
    const nextEffect = pendingEffects.reduce<InFlight | undefined>((a, b) => (a === undefined || b.effectMs < a.effectMs ? b : a), undefined);
    const nextReturn = inFlight
      .filter((op) => op.result !== undefined || !op.takesEffect)
      .reduce<InFlight | undefined>((a, b) => (a === undefined || b.returnMs < a.returnMs ? b : a), undefined);
    if (nextEffect && (!nextReturn || nextEffect.effectMs <= nextReturn.returnMs)) {
      nowMs = Math.max(nowMs, Math.floor(nextEffect.effectMs));
      nextEffect.result = apply(nextEffect.command, nowMs);
      continue;
    }
    const done = nextReturn!;
    inFlight.splice(inFlight.indexOf(done), 1);
    const { client, command } = done;
    const base = { client: client.name, op: command.op as QueueOperation['op'], queue: QUEUE, callMs: done.callMs };
    const fields =
      command.op === 'claim' ? { worker: command.worker, leaseMs: command.leaseMs } : command.op === 'ack' || command.op === 'nack' ? { task: command.task } : {};
    if (done.unanswered) {
      history.push({ ...base, ...fields, returnMs: Infinity });
      if (command.op === 'ack' || command.op === 'nack') client.holding = undefined;
    } else {
      history.push({ ...base, ...fields, returnMs: done.returnMs, result: done.result as QueueOperationResult });
      if (command.op === 'claim') client.holding = 'id' in done.result! ? done.result.id : undefined;
      if (command.op === 'ack' || command.op === 'nack') client.holding = undefined;
    }
    plan(client);
  }
  return history;
}

describe('the queue checker on histories of the real task queue', () => {
  it('raises no alarm, whatever the interleaving, lease expiries and unanswered operations', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 8 }), (seed, clients) => {
        const queues = new TaskQueues(DEFAULT_SERVICE_OPTIONS);
        const history = recordHistory(seed, clients, 300, (command, nowMs) => queues.apply(command, nowMs));
        const result = checkQueueHistory(history);
        expect(result.problems).toEqual([]);
        expect(result.claims).toBeGreaterThan(0);
      }),
      { seed: 99, numRuns: 150 },
    );
  });

  it('catches a queue that answers acknowledgements but forgets some', () => {
    const queues = new TaskQueues(DEFAULT_SERVICE_OPTIONS);
    let acks = 0;
    const forgetful = (command: QueueCommand, nowMs: number): QueueResult => {
      // Every third acknowledgement is answered as done but never applied: the lease runs out, the task returns.
      if (command.op === 'ack' && ++acks % 3 === 0) return { ok: true, acked: command.task };
      return queues.apply(command, nowMs);
    };
    const history = recordHistory(5, 4, 400, forgetful);
    const result = checkQueueHistory(history);
    expect(result.ok).toBe(false);
    expect(result.problems.join('\n')).toMatch(/was acknowledged by .* yet a claim by .* was handed it again|an acknowledged task was lost/);
  });
});
