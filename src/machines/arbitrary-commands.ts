// fast-check generators of command streams for the machines' property tests. Small domains (three keys, two
// queues, three workers, task ids up to 24) so that random commands collide: the same key, the same task, a lease
// that has just expired.

import fc from 'fast-check';
import type { CommandEnvelope, ServiceCommand } from './envelope.ts';
import type { QueueCommand } from './task-queues.ts';

export const KEYS = ['a', 'b', 'c'] as const;
export const VALUES = ['1', '2', '3'] as const;
export const QUEUES = ['jobs', 'mail'] as const;
export const WORKERS = ['w1', 'w2', 'w3'] as const;
export const CLIENTS = ['c1', 'c2', 'c3'] as const;
export const TASK_IDS_MAX = 8;

export const kvCommand: fc.Arbitrary<ServiceCommand> = fc.oneof(
  fc.record({ op: fc.constant('put' as const), key: fc.constantFrom(...KEYS), value: fc.constantFrom(...VALUES) }),
  fc.record({ op: fc.constant('get' as const), key: fc.constantFrom(...KEYS) }),
  fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom(...KEYS) }),
  fc.record({ op: fc.constant('cas' as const), key: fc.constantFrom(...KEYS), from: fc.constantFrom(...VALUES), to: fc.constantFrom(...VALUES) }),
);

const taskId = fc.integer({ min: 1, max: TASK_IDS_MAX });
const optionalWorker = fc.option(fc.constantFrom(...WORKERS), { nil: undefined });

export const queueCommand: fc.Arbitrary<QueueCommand> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('enqueue' as const), queue: fc.constantFrom(...QUEUES), payload: fc.oneof(fc.integer(), fc.constantFrom('x', null, { n: 1 }, [1, 'two'])) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('claim' as const), queue: fc.constantFrom(...QUEUES), worker: fc.constantFrom(...WORKERS), leaseMs: fc.constantFrom(50, 200, 1000) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('ack' as const), queue: fc.constantFrom(...QUEUES), task: taskId, worker: optionalWorker }).map(dropUndefinedWorker) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('nack' as const), queue: fc.constantFrom(...QUEUES), task: taskId, worker: optionalWorker }).map(dropUndefinedWorker) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('stats' as const), queue: fc.constantFrom(...QUEUES) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('peek' as const), queue: fc.constantFrom(...QUEUES) }) },
);

function dropUndefinedWorker<C extends { worker?: string | undefined }>(command: C): C {
  if (command.worker !== undefined) return command;
  const { worker: _omitted, ...rest } = command;
  return rest as C;
}

/** How a step uses its client's session: none, the next request, a retry of the last one, or an older number. */
export type SessionUse = 'none' | 'next' | 'retry' | 'stale';

export interface Step {
  /** Added to the previous stamp; sometimes negative, as when a new leader's clock is behind the old one's. */
  readonly timeStepMs: number;
  readonly command: ServiceCommand;
  readonly client: (typeof CLIENTS)[number];
  readonly sessionUse: SessionUse;
}

export function steps(command: fc.Arbitrary<ServiceCommand>, maxLength = 120, minLength = 10): fc.Arbitrary<Step[]> {
  const step = fc.record({
    timeStepMs: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 120 }) }, { weight: 1, arbitrary: fc.integer({ min: -80, max: -1 }) }),
    command,
    client: fc.constantFrom(...CLIENTS),
    sessionUse: fc.constantFrom<SessionUse>('none', 'next', 'next', 'retry', 'stale'),
  });
  return fc.array(step, { minLength, maxLength });
}

/**
 * Turns steps into envelopes. A retry repeats the client's last envelope exactly (same sequence, same command),
 * with a new stamp, as a client that did not hear back would.
 */
export function envelopesOf(stepList: readonly Step[], startMs = 1000): CommandEnvelope[] {
  const last = new Map<string, { sequence: number; command: ServiceCommand }>();
  const envelopes: CommandEnvelope[] = [];
  let timeMs = startMs;
  for (const step of stepList) {
    timeMs = Math.max(0, timeMs + step.timeStepMs);
    const previous = last.get(step.client);
    if (step.sessionUse === 'none' || (step.sessionUse !== 'next' && !previous)) {
      envelopes.push({ timeMs, command: step.command });
      continue;
    }
    if (step.sessionUse === 'next' || !previous) {
      const sequence = (previous?.sequence ?? 0) + 1;
      last.set(step.client, { sequence, command: step.command });
      envelopes.push({ timeMs, session: { client: step.client, sequence }, command: step.command });
    } else if (step.sessionUse === 'retry') {
      envelopes.push({ timeMs, session: { client: step.client, sequence: previous.sequence }, command: previous.command });
    } else if (previous.sequence > 1) {
      envelopes.push({ timeMs, session: { client: step.client, sequence: previous.sequence - 1 }, command: step.command });
    } else {
      envelopes.push({ timeMs, command: step.command });
    }
  }
  return envelopes;
}

/** Fixed seeds: a failure replays exactly; fast-check prints the seed and the shrunk counterexample. */
export const PROPERTY_RUNS = { seed: 20_240_611, numRuns: 300 } as const;
