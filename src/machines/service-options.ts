// The service's limits and timings. They are part of the replicated state's definition: every replica must use
// the same ones, so a snapshot carries them and a restore adopts them.

export interface ServiceOptions {
  /** Distinct keys the store holds; a put of a new key beyond it fails with 'limit_reached'. */
  readonly keysMax: number;
  /** Named queues; an enqueue that would create one more fails with 'limit_reached'. */
  readonly queuesMax: number;
  /** Pending, claimed and dead tasks in one queue together; an enqueue beyond it fails with 'limit_reached'. */
  readonly tasksPerQueueMax: number;
  /** A task handed out this many times and then failed (nack or lease expiry) moves to the dead-letter list. */
  readonly attemptsMax: number;
  /** The wait after the first nack; each later nack doubles it, up to backoffMsMax. */
  readonly backoffMsBase: number;
  readonly backoffMsMax: number;
  /** Ids of the most recently completed tasks kept per queue, for the UI; the count of done tasks is exact. */
  readonly doneIdsKept: number;
  /** Items listed per lane by `peek` and `queueLanes`; the counts are always complete. */
  readonly laneItemsMax: number;
  /** Client sessions kept; one more evicts the least recently used (thesis §6.3). */
  readonly sessionsMax: number;
  /** A session with no request for this long (in log time) expires. */
  readonly sessionTtlMs: number;
  /** Ids of expired or evicted sessions remembered, so that their retries get 'session_expired'. */
  readonly expiredClientsRemembered: number;
}

export const DEFAULT_SERVICE_OPTIONS: ServiceOptions = {
  keysMax: 100_000,
  queuesMax: 256,
  tasksPerQueueMax: 100_000,
  attemptsMax: 5,
  backoffMsBase: 100,
  backoffMsMax: 10_000,
  doneIdsKept: 100,
  laneItemsMax: 200,
  sessionsMax: 1024,
  sessionTtlMs: 600_000,
  expiredClientsRemembered: 4096,
};

/** Fills in defaults and checks every option is a whole number in its range; throws naming the first that is not. */
export function resolveServiceOptions(options: Partial<ServiceOptions> = {}): ServiceOptions {
  const resolved: ServiceOptions = { ...DEFAULT_SERVICE_OPTIONS, ...options };
  const ranges: Record<keyof ServiceOptions, [number, number]> = {
    keysMax: [1, 10_000_000],
    queuesMax: [1, 100_000],
    tasksPerQueueMax: [1, 10_000_000],
    attemptsMax: [1, 1000],
    backoffMsBase: [1, 86_400_000],
    backoffMsMax: [1, 86_400_000],
    doneIdsKept: [0, 100_000],
    laneItemsMax: [1, 100_000],
    sessionsMax: [1, 1_000_000],
    sessionTtlMs: [1, 365 * 86_400_000],
    expiredClientsRemembered: [0, 10_000_000],
  };
  for (const key of Object.keys(resolved) as (keyof ServiceOptions)[]) {
    const range = ranges[key];
    if (!range) throw new Error(`service options: unknown option ${JSON.stringify(key)}`);
    const value = resolved[key];
    if (!Number.isSafeInteger(value) || value < range[0] || value > range[1]) {
      throw new Error(`service options: ${key}: expected a whole number from ${range[0]} to ${range[1]}, got ${String(value)}`);
    }
  }
  if (resolved.backoffMsMax < resolved.backoffMsBase) {
    throw new Error(`service options: backoffMsMax ${resolved.backoffMsMax} is below backoffMsBase ${resolved.backoffMsBase}`);
  }
  return resolved;
}
