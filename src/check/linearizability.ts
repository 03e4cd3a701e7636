// A linearizability checker: Wing and Gong's search with Lowe's memoization, the approach of the Porcupine
// checker (written afresh here). A history is linearizable when its operations can be put in one order that
// (a) respects real time: an operation that returned before another was called comes first, and (b) gives
// every operation its observed result when run one at a time against a sequential model.
//
// The search walks a list of call and return events in time order. At a call it tries to run that operation
// next; if the model accepts, the operation is "lifted" out of the list and the walk restarts. Reaching a return
// means an operation that must already have run has not: the last choice is undone. Lowe's memoization remembers
// every (set of operations run, model state) pair already explored, which cuts the search from all orders to
// all reachable configurations.
//
// Operations whose outcome is unknown (the client timed out) return at Infinity with no output: the model must
// accept any output for them. The search may place such an operation anywhere after its call, the end included,
// where it has no visible effect: so it may or may not have taken effect, as Porcupine treats it. Left to the
// plain search, each of them doubles the work from its call onwards; searchLinearization says how that is
// avoided without losing any valid order (tested against brute force in linearizability.test.ts).
//
// Explanations: a violation is shrunk to a small set of operations that still cannot be ordered, by steps that
// keep it a proof for the whole history (shrinkViolation), and told in the model's words.
//
// Ties: an operation that returns at t and one called at t are treated as concurrent (either order is allowed).
// This never reports a violation that depends on how two events at the same millisecond were ordered.
//
// Budget: the search counts its steps; it stops with 'unknown' at stepsMax, when a memo bound is reached, or when
// the caller's shouldStop() says so (polled every STOP_POLL_STEPS steps). It never reads a clock itself.

export interface Operation<Input, Output> {
  readonly client: string;
  readonly input: Input;
  /** undefined when the outcome is unknown: the operation may or may not have taken effect. */
  readonly output: Output | undefined;
  readonly callMs: number;
  /** Infinity when the outcome is unknown. */
  readonly returnMs: number;
}

export interface Model<State, Input, Output> {
  init(): State;
  /**
   * Runs `input` against `state`. Returns the next state when a sequential object in `state` could answer
   * `output`, and undefined when it could not. When `output` is undefined (unknown) it must return a state.
   * Must not modify `state`.
   */
  step(state: State, input: Input, output: Output | undefined): State | undefined;
  /** Equal for equal states, different for different ones: the memo's key. */
  stateKey(state: State): string;
  describeOperation(operation: Operation<Input, Output>): string;
  describeState(state: State): string;
  /**
   * True when a history without `operation` that is not linearizable proves the history with it is not either:
   * every valid order of `others` plus `operation` stays valid with `operation` taken out. Read-only operations
   * always qualify; a write qualifies when nothing in `others` depends on what it wrote. Used to shrink a
   * violation to the operations that matter, and to drop unknown-outcome operations that cannot matter.
   * When shrinking, `culprit` is the operation the violation is about: a model may keep what it depends on, so
   * that the smaller set fails for the same reason as the whole history.
   */
  canDropSoundly?(operation: Operation<Input, Output>, others: readonly Operation<Input, Output>[], culprit?: Operation<Input, Output>): boolean;
  /**
   * Equal for two inputs that do the same thing (the same put, the same delete), whoever sent them. Lets the
   * search place identical never-returned operations in call order only: the earlier one can do whatever the
   * later can, so trying both orders is wasted work.
   */
  inputKey?(input: Input): string;
  /** One sentence saying why `culprit` cannot be ordered among `operations`, when the model can tell. */
  explainViolation?(culprit: Operation<Input, Output>, operations: readonly Operation<Input, Output>[]): string | undefined;
}

export type Verdict = 'linearizable' | 'not-linearizable' | 'unknown';

export interface CheckOptions {
  /** Search steps over the whole check, all partitions together. */
  readonly stepsMax?: number;
  /** Polled every few thousand steps; returning true stops the check with 'unknown'. */
  readonly shouldStop?: () => boolean;
  /** Memo entries kept for one partition; beyond it the partition is 'unknown' (bounds memory). */
  readonly memoEntriesMax?: number;
  /** Whether to shrink a violation and explain it (costs more search, within explainStepsMax). */
  readonly explain?: boolean;
  readonly explainStepsMax?: number;
  /** Operations in one history; a longer one is refused. */
  readonly operationsMax?: number;
}

export const DEFAULT_CHECK_OPTIONS = {
  stepsMax: 10_000_000,
  memoEntriesMax: 2_000_000,
  explain: true,
  explainStepsMax: 5_000_000,
  operationsMax: 1_000_000,
} as const;

const STOP_POLL_STEPS = 4096;
/** Bound on (unknown operations × operations) for dropping irrelevant unknowns before a search. */
const DROP_JUDGEMENT_WORK_MAX = 50_000_000;

export interface Partition<Input, Output> {
  readonly label: string;
  readonly operations: readonly Operation<Input, Output>[];
}

export interface PartitionOutcome {
  readonly label: string;
  readonly operations: number;
  readonly verdict: Verdict;
  /** Why the verdict is 'unknown'. */
  readonly reason?: string;
}

export interface Violation<Input, Output> {
  readonly partition: string;
  /** The operation whose result no order explains, given `operations`. */
  readonly culprit: Operation<Input, Output>;
  /** A small set of operations that cannot be ordered, by call time; not linearizable on its own. */
  readonly operations: readonly Operation<Input, Output>[];
  /** Whether shrinking ran to the end (true) or stopped at its budget with a larger, still valid, set. */
  readonly minimal: boolean;
}

export interface CheckResult<Input, Output> {
  readonly verdict: Verdict;
  readonly partitions: number;
  readonly outcomes: readonly PartitionOutcome[];
  /** Search steps spent, the explanation's included. */
  readonly steps: number;
  readonly violation?: Violation<Input, Output>;
  readonly explanation?: string;
  /**
   * When linearizable: each partition's operations in an order that explains every result. Never-returned
   * operations the order did not need are left out (they may or may not have taken effect, after the rest).
   */
  readonly linearization?: readonly { readonly partition: string; readonly operations: readonly Operation<Input, Output>[] }[];
}

/** Counts steps against a limit and polls the caller's stop function; shared by every search of one check. */
export class SearchBudget {
  steps = 0;
  stopReason: string | undefined;

  constructor(
    private readonly stepsMax: number,
    private readonly shouldStop: (() => boolean) | undefined,
    private readonly parent?: SearchBudget,
  ) {}

  /** False once the budget is spent; then `stopReason` says why. */
  spend(): boolean {
    if (this.stopReason !== undefined) return false;
    this.steps++;
    if (this.parent) this.parent.steps++;
    if (this.steps > this.stepsMax) this.stopReason = `the step budget (${this.stepsMax} steps) ran out`;
    else if (this.steps % STOP_POLL_STEPS === 0 && this.shouldStop?.()) this.stopReason = 'the caller asked to stop';
    return this.stopReason === undefined;
  }

  /** A budget of its own `stepsMax` for a sub-task (explaining), counted into this one's steps, same stop function. */
  child(stepsMax: number): SearchBudget {
    return new SearchBudget(stepsMax, this.shouldStop, this);
  }
}

export interface SearchOutcome {
  readonly verdict: Verdict;
  readonly reason?: string;
  /** When linearizable: the indices of the operations placed, in order. */
  readonly order?: readonly number[];
}

interface ListEvent {
  readonly operation: number;
  readonly isCall: boolean;
  /** Position in the time order of all events, never-returned calls included. */
  readonly rank: number;
  /** For a call, its return event. */
  match: ListEvent | null;
  previous: ListEvent | null;
  next: ListEvent | null;
}

/** A configuration explored: which operations were placed, and the state they left. */
interface MemoEntry {
  readonly returnedPlaced: Uint32Array;
  readonly unknownPlaced: Uint32Array;
  readonly stateKey: string;
  /** Set when the search backtracks out of this configuration: everything reachable from it failed. */
  explored: boolean;
}

/**
 * Decides whether `operations` (one partition) are linearizable against `model`. Spends `budget`; answers
 * 'unknown' when it runs out or when the memo holds memoEntriesMax entries.
 *
 * Operations that never returned (unknown outcome, Infinity) get special care. Such an operation X can always be
 * moved to the end of a valid order, where its effect is unseen; and if the operation Y right after X does not
 * notice X (Y would succeed without X and leave the same state), "X, Y" can become "Y" with X moved to the end.
 * So every valid order can be rearranged until each never-returned operation placed before the last returned
 * one is followed at once by an operation that notices it. Hence:
 * - They are kept off the event list, and tried only after the returned candidates of a configuration failed.
 * - One is placed only when some waiting candidate would notice it. Without this each of them would be tried at
 *   every point of the history.
 * - Of identical ones (Model.inputKey), the one called first is placed first.
 * - Once every returned operation is placed, the history is linearizable: the rest go last.
 * - Dominance in the memo: a configuration with the same state and the same returned operations placed, but a
 *   subset of the never-returned ones, can do everything this one can. If it was explored and failed, so does
 *   this one.
 */
export function searchLinearization<State, Input, Output>(
  model: Model<State, Input, Output>,
  operations: readonly Operation<Input, Output>[],
  budget: SearchBudget,
  memoEntriesMax: number = DEFAULT_CHECK_OPTIONS.memoEntriesMax,
): SearchOutcome {
  const neverReturned = operations.map((op) => op.output === undefined && op.returnMs === Infinity);
  const { head, callRanks } = buildEventList(operations, neverReturned);
  const unknownOrder = operations.map((_, index) => index).filter((index) => neverReturned[index]).sort((a, b) => callRanks[a]! - callRanks[b]!);
  const unknownPlaced = new Uint8Array(operations.length);
  // For each never-returned operation, the closest earlier-called identical one: it must be placed first.
  const identicalBefore = new Array<number>(operations.length).fill(-1);
  if (model.inputKey) {
    const lastWithKey = new Map<string, number>();
    for (const index of unknownOrder) {
      const key = model.inputKey(operations[index]!.input);
      identicalBefore[index] = lastWithKey.get(key) ?? -1;
      lastWithKey.set(key, index);
    }
  }
  const words = Math.ceil(operations.length / 32);
  const returnedSet = new Uint32Array(words);
  const unknownSet = new Uint32Array(words);
  const operationHashes = operations.map((_, index) => mix32(index + 1));
  // Memo: hash of (returned operations placed, state) → the configurations with that hash.
  const memo = new Map<number, MemoEntry[]>();
  let memoEntries = 0;
  type Frame = {
    readonly state: State;
    readonly setHash: number;
    readonly entry: MemoEntry;
    /** The returned operation's call event, or the never-returned operation's place in unknownOrder. */
    readonly call: ListEvent | null;
    readonly unknownPosition: number;
    readonly boundaryRank: number;
  };
  const stack: Frame[] = [];
  let state = model.init();
  let setHash = 0;
  let returnedLeft = neverReturned.filter((never) => !never).length;
  // First pass: `event` walks the list of returned operations. Last pass (unknownPosition >= 0): never-returned
  // operations called before the first return the first pass reached (boundaryRank).
  let event = head.next;
  let unknownPosition = -1;
  let boundaryRank = Infinity;

  /** Whether some candidate other than `placed` would notice it: it runs in `after`, and in `before` fails or ends elsewhere. */
  const noticedByCandidate = (before: State, after: State, placed: number): boolean => {
    const notices = (index: number): boolean => {
      const operation = operations[index]!;
      const fromAfter = model.step(after, operation.input, operation.output);
      if (fromAfter === undefined) return false;
      const fromBefore = model.step(before, operation.input, operation.output);
      return fromBefore === undefined || model.stateKey(fromBefore) !== model.stateKey(fromAfter);
    };
    for (let candidate = head.next; candidate !== null && candidate.isCall; candidate = candidate.next) {
      if (notices(candidate.operation)) return true;
    }
    for (const index of unknownOrder) {
      if (callRanks[index]! > boundaryRank) break;
      if (index !== placed && unknownPlaced[index] === 0 && notices(index)) return true;
    }
    return false;
  };

  /** Places operation `index` in state `next` unless a configuration that dominates the result was explored. */
  const place = (index: number, next: State, frame: Omit<Frame, 'state' | 'setHash' | 'entry'>): boolean => {
    const isUnknown = neverReturned[index]!;
    const bits = isUnknown ? unknownSet : returnedSet;
    const word = index >>> 5;
    const bit = 1 << (index & 31);
    bits[word]! |= bit;
    const nextSetHash = isUnknown ? setHash : (setHash ^ operationHashes[index]!) >>> 0;
    const stateKey = model.stateKey(next);
    const key = (nextSetHash ^ Math.imul(hashText(stateKey), 0x9e3779b1)) >>> 0;
    const bucket = memo.get(key);
    const dominated =
      bucket?.some(
        (entry) =>
          entry.stateKey === stateKey &&
          sameBits(entry.returnedPlaced, returnedSet) &&
          (entry.explored ? isSubset(entry.unknownPlaced, unknownSet) : sameBits(entry.unknownPlaced, unknownSet)),
      ) ?? false;
    if (dominated) {
      bits[word]! &= ~bit;
      return false;
    }
    const entry: MemoEntry = { returnedPlaced: returnedSet.slice(), unknownPlaced: unknownSet.slice(), stateKey, explored: false };
    if (bucket) bucket.push(entry);
    else memo.set(key, [entry]);
    memoEntries++;
    stack.push({ ...frame, state, setHash, entry });
    state = next;
    setHash = nextSetHash;
    return true;
  };

  for (;;) {
    if (returnedLeft === 0) {
      // The stack holds one frame per operation placed, in the order placed.
      const order = stack.map((frame) => (frame.call !== null ? frame.call.operation : unknownOrder[frame.unknownPosition]!));
      return { verdict: 'linearizable', order };
    }
    if (!budget.spend()) return { verdict: 'unknown', reason: budget.stopReason };
    if (memoEntries >= memoEntriesMax) return { verdict: 'unknown', reason: `the memo bound (${memoEntriesMax} entries) was reached` };
    if (unknownPosition < 0) {
      if (event === null) throw new Error('linearizability search: walked past the last event');
      if (!event.isCall) {
        // Every returned candidate failed here: now the never-returned ones called before this return.
        boundaryRank = event.rank;
        unknownPosition = 0;
        continue;
      }
      const operation = operations[event.operation]!;
      const next = model.step(state, operation.input, operation.output);
      if (next !== undefined && place(event.operation, next, { call: event, unknownPosition: -1, boundaryRank })) {
        returnedLeft--;
        lift(event);
        event = head.next;
        continue;
      }
      event = event.next;
      continue;
    }
    const index = unknownOrder[unknownPosition];
    if (index !== undefined && callRanks[index]! < boundaryRank) {
      const earlierTwin = identicalBefore[index]!;
      if (unknownPlaced[index] === 0 && (earlierTwin < 0 || unknownPlaced[earlierTwin] === 1)) {
        const operation = operations[index]!;
        const next = model.step(state, operation.input, operation.output);
        if (next !== undefined && noticedByCandidate(state, next, index) && place(index, next, { call: null, unknownPosition, boundaryRank })) {
          unknownPlaced[index] = 1;
          event = head.next;
          unknownPosition = -1;
          continue;
        }
      }
      unknownPosition++;
      continue;
    }
    // Every candidate of this configuration failed: undo the latest choice and try the one after it.
    const top = stack.pop();
    if (top === undefined) return { verdict: 'not-linearizable' };
    top.entry.explored = true;
    state = top.state;
    setHash = top.setHash;
    boundaryRank = top.boundaryRank;
    if (top.call !== null) {
      const placed = top.call.operation;
      returnedSet[placed >>> 5]! &= ~(1 << (placed & 31));
      returnedLeft++;
      unlift(top.call);
      event = top.call.next;
      unknownPosition = -1;
    } else {
      const placed = unknownOrder[top.unknownPosition]!;
      unknownSet[placed >>> 5]! &= ~(1 << (placed & 31));
      unknownPlaced[placed] = 0;
      unknownPosition = top.unknownPosition + 1;
    }
  }
}

/** Checks each partition alone (smallest first) against one shared budget; stops at the first violation. */
export function checkPartitions<State, Input, Output>(
  model: Model<State, Input, Output>,
  partitions: readonly Partition<Input, Output>[],
  options: CheckOptions = {},
): CheckResult<Input, Output> {
  const settings = { ...DEFAULT_CHECK_OPTIONS, ...options };
  const total = partitions.reduce((sum, partition) => sum + partition.operations.length, 0);
  if (total > settings.operationsMax) throw new Error(`history of ${total} operations is over the limit of ${settings.operationsMax} (operationsMax)`);
  partitions.forEach((partition) => partition.operations.forEach((operation, index) => validateOperation(operation, `${partition.label}[${index}]`)));

  const budget = new SearchBudget(settings.stepsMax, options.shouldStop);
  const outcomes: PartitionOutcome[] = [];
  const linearization: { partition: string; operations: Operation<Input, Output>[] }[] = [];
  const order = [...partitions].sort((a, b) => a.operations.length - b.operations.length || compareText(a.label, b.label));
  for (const partition of order) {
    const operations = dropIrrelevantUnknowns(model, partition.operations);
    const { order: placed, ...outcome } = searchLinearization(model, operations, budget, settings.memoEntriesMax);
    outcomes.push({ label: partition.label, operations: partition.operations.length, ...outcome });
    if (placed) linearization.push({ partition: partition.label, operations: placed.map((index) => operations[index]!) });
    if (outcome.verdict !== 'not-linearizable') continue;
    const violation = settings.explain ? shrinkViolation(model, partition.label, operations, budget.child(settings.explainStepsMax), settings.memoEntriesMax) : undefined;
    return {
      verdict: 'not-linearizable',
      partitions: partitions.length,
      outcomes,
      steps: budget.steps,
      ...(violation ? { violation, explanation: explainViolation(model, violation) } : {}),
    };
  }
  const unknown = outcomes.filter((outcome) => outcome.verdict === 'unknown');
  const verdict: Verdict = unknown.length > 0 ? 'unknown' : 'linearizable';
  const explanation =
    verdict === 'unknown'
      ? `undecided: ${unknown.length} of ${partitions.length} partitions could not be decided (${unknown
          .slice(0, 5)
          .map((o) => `${o.label}: ${o.reason}`)
          .join('; ')}${unknown.length > 5 ? '; …' : ''})`
      : undefined;
  return {
    verdict,
    partitions: partitions.length,
    outcomes,
    steps: budget.steps,
    ...(explanation ? { explanation } : {}),
    ...(verdict === 'linearizable' ? { linearization } : {}),
  };
}

/** A single-partition check of `operations`. */
export function checkOperations<State, Input, Output>(
  model: Model<State, Input, Output>,
  operations: readonly Operation<Input, Output>[],
  options: CheckOptions = {},
): CheckResult<Input, Output> {
  return checkPartitions(model, [{ label: 'history', operations }], options);
}

/**
 * Drops unknown-outcome operations that nothing depends on. Exact: with Infinity as return time such an
 * operation can always go last, so dropping it never hides a valid order; and canDropSoundly says no valid order
 * needs it. It spares the search from trying each of them at every point of the history.
 */
export function dropIrrelevantUnknowns<State, Input, Output>(
  model: Model<State, Input, Output>,
  operations: readonly Operation<Input, Output>[],
): Operation<Input, Output>[] {
  if (!model.canDropSoundly) return [...operations];
  // Each judgement scans the others: past this much work, leave the unknowns to the search (only slower).
  const unknownCount = operations.filter((op) => op.output === undefined && op.returnMs === Infinity).length;
  if (unknownCount * operations.length > DROP_JUDGEMENT_WORK_MAX) return [...operations];
  let kept = [...operations];
  for (let pass = 0; pass < 3; pass++) {
    const before = kept.length;
    for (const operation of [...kept]) {
      if (operation.output !== undefined || operation.returnMs !== Infinity) continue;
      const others = kept.filter((other) => other !== operation);
      if (model.canDropSoundly(operation, others)) kept = others;
    }
    if (kept.length === before) break;
  }
  return kept;
}

/**
 * Shrinks a non-linearizable partition to a small set of operations that still cannot be ordered, by steps that
 * keep it a proof: first the shortest prefix in time that fails (later operations removed, those still running
 * at its end made unknown), then removal of operations the model says can go (canDropSoundly), in halving chunks.
 * Every candidate is re-checked; when the budget ends the current set is returned, larger but still valid.
 */
export function shrinkViolation<State, Input, Output>(
  model: Model<State, Input, Output>,
  label: string,
  operations: readonly Operation<Input, Output>[],
  budget: SearchBudget,
  memoEntriesMax: number,
): Violation<Input, Output> | undefined {
  const verdictOf = (candidate: readonly Operation<Input, Output>[]): Verdict => searchLinearization(model, candidate, budget, memoEntriesMax).verdict;
  const returned = (op: Operation<Input, Output>): boolean => op.output !== undefined && op.returnMs !== Infinity;

  // 1. The earliest time T such that the history cut at T cannot be ordered. `best` is always a set proven not
  //    linearizable: the partition itself, or a candidate whose check failed.
  const cutTimes = [...new Set(operations.filter(returned).map((op) => op.returnMs))].sort((a, b) => a - b);
  let best: Operation<Input, Output>[] = [...operations];
  for (let low = 0, high = cutTimes.length - 1; low <= high && budget.stopReason === undefined; ) {
    const middle = (low + high) >> 1;
    const prefix = cutAt(operations, cutTimes[middle]!);
    if (verdictOf(prefix) === 'not-linearizable') {
      best = prefix;
      high = middle - 1;
    } else {
      low = middle + 1;
    }
  }

  // 2. The culprit: of the operations returning last, one whose result, made unknown, lets the rest be ordered.
  const lastReturnMs = Math.max(...best.filter(returned).map((op) => op.returnMs));
  const returnedLast = best.filter((op) => returned(op) && op.returnMs === lastReturnMs);
  const culprit =
    returnedLast.length === 1
      ? returnedLast[0]
      : (returnedLast.find((candidate) => verdictOf(best.map((op) => (op === candidate ? { ...op, output: undefined } : op))) === 'linearizable') ??
        returnedLast[0]);
  if (culprit === undefined) return undefined;

  // 3. Remove what the model says may go, re-checking that what is left still cannot be ordered: halving chunks,
  //    then single operations, latest first (a later reader gone often frees an earlier write), until none goes.
  if (model.canDropSoundly) {
    let current = best;
    const tryDrop = (chosen: readonly Operation<Input, Output>[]): boolean => {
      const candidate = dropSome(model, current, chosen, culprit);
      if (candidate.length === current.length || verdictOf(candidate) !== 'not-linearizable') return false;
      current = candidate;
      return true;
    };
    for (let chunk = Math.ceil(current.length / 2); chunk > 1 && budget.stopReason === undefined; chunk = Math.ceil(chunk / 2)) {
      for (let start = 0; start < current.length && budget.stopReason === undefined; ) {
        if (!tryDrop(current.slice(start, start + chunk))) start += chunk;
      }
    }
    for (let changed = true; changed && budget.stopReason === undefined; ) {
      changed = false;
      for (const operation of [...current].reverse()) {
        if (budget.stopReason !== undefined) break;
        if (current.includes(operation) && tryDrop([operation])) changed = true;
      }
    }
    best = current;
  }
  const minimal = budget.stopReason === undefined;

  // Report operations as they were recorded: one made unknown by the cut returned after the culprit did, so what
  // it returned cannot matter, but its real times and result are less confusing than "unknown".
  const recorded = best.map((op) => (weakenedFrom.get(op) as Operation<Input, Output> | undefined) ?? op).sort((a, b) => a.callMs - b.callMs || a.returnMs - b.returnMs);
  return { partition: label, culprit, operations: recorded, minimal };
}

/** Operations made unknown by cutAt, mapped to the operation as recorded. */
const weakenedFrom = new WeakMap<object, Operation<unknown, unknown>>();

/** The history as seen at time `cutMs`: operations called by then; those still running become unknown. */
export function cutAt<Input, Output>(operations: readonly Operation<Input, Output>[], cutMs: number): Operation<Input, Output>[] {
  return operations
    .filter((op) => op.callMs <= cutMs)
    .map((op) => {
      if (op.returnMs <= cutMs) return op;
      const weakened: Operation<Input, Output> = { ...op, output: undefined, returnMs: Infinity };
      weakenedFrom.set(weakened, weakenedFrom.get(op) ?? op);
      return weakened;
    });
}

/** `operations` without those of `chosen` that can go soundly (never the culprit), each judged against what remains. */
function dropSome<State, Input, Output>(
  model: Model<State, Input, Output>,
  operations: readonly Operation<Input, Output>[],
  chosen: readonly Operation<Input, Output>[],
  culprit: Operation<Input, Output>,
): Operation<Input, Output>[] {
  let remaining = [...operations];
  for (const operation of chosen) {
    if (operation === culprit) continue;
    const others = remaining.filter((other) => other !== operation);
    if (model.canDropSoundly!(operation, others, culprit)) remaining = others;
  }
  return remaining;
}

/** The readable account of a violation: the operation no order explains, why when the model can say, and the set. */
export function explainViolation<State, Input, Output>(model: Model<State, Input, Output>, violation: Violation<Input, Output>): string {
  const { culprit, operations } = violation;
  const reason =
    model.explainViolation?.(culprit, operations) ??
    `${model.describeOperation(culprit)} returned at ${formatMs(culprit.returnMs)} ms, but no order of these operations gives every one of them its result`;
  const lines = operations.map((op) => `  ${op === culprit ? '→' : ' '} ${describeTimed(model, op)}`);
  const size = violation.minimal ? `these ${operations.length} operations cannot be ordered` : `these ${operations.length} operations cannot be ordered (not shrunk further: budget)`;
  return [`${violation.partition}: ${reason}.`, `${size}:`, ...lines].join('\n');
}

export function describeTimed<State, Input, Output>(model: Model<State, Input, Output>, op: Operation<Input, Output>): string {
  const when = op.returnMs === Infinity ? `called at ${formatMs(op.callMs)} ms, outcome unknown` : `${formatMs(op.callMs)}–${formatMs(op.returnMs)} ms`;
  return `${model.describeOperation(op)}  (client ${op.client}, ${when})`;
}

/** A time for people: whole milliseconds as they are, a sub-millisecond clock's times to a microsecond. */
export function formatMs(ms: number): string {
  return String(Number(ms.toFixed(3)));
}

function validateOperation(operation: Operation<unknown, unknown>, path: string): void {
  if (!Number.isFinite(operation.callMs)) throw new Error(`${path}.callMs: expected a finite number, got ${operation.callMs}`);
  if (Number.isNaN(operation.returnMs) || operation.returnMs < operation.callMs) {
    throw new Error(`${path}.returnMs: expected a time at or after callMs ${operation.callMs}, or Infinity, got ${operation.returnMs}`);
  }
}

/**
 * The events of operations that returned, in time order, calls before returns at equal times (touching
 * operations overlap); and the rank of every call in that order, never-returned operations' calls included.
 */
function buildEventList<Input, Output>(
  operations: readonly Operation<Input, Output>[],
  neverReturned: readonly boolean[],
): { head: ListEvent; callRanks: number[] } {
  const events: { time: number; isCall: boolean; operation: number }[] = [];
  operations.forEach((operation, index) => {
    events.push({ time: operation.callMs, isCall: true, operation: index });
    if (!neverReturned[index]) events.push({ time: operation.returnMs, isCall: false, operation: index });
  });
  events.sort((a, b) => a.time - b.time || Number(b.isCall) - Number(a.isCall) || a.operation - b.operation);
  const callRanks = new Array<number>(operations.length).fill(0);
  const calls = new Map<number, ListEvent>();
  const head: ListEvent = { operation: -1, isCall: false, rank: -1, match: null, previous: null, next: null };
  let last = head;
  events.forEach(({ isCall, operation }, rank) => {
    if (isCall) callRanks[operation] = rank;
    if (neverReturned[operation]) return;
    const event: ListEvent = { operation, isCall, rank, match: null, previous: last, next: null };
    if (isCall) calls.set(operation, event);
    else calls.get(operation)!.match = event;
    last.next = event;
    last = event;
  });
  return { head, callRanks };
}

/** Takes a call and its return out of the list; the events keep their links, so unlift can put them back. */
function lift(call: ListEvent): void {
  call.previous!.next = call.next;
  if (call.next) call.next.previous = call.previous;
  const ret = call.match!;
  ret.previous!.next = ret.next;
  if (ret.next) ret.next.previous = ret.previous;
}

/** Undoes lift; lifts are undone in reverse order, so the saved links are still right. */
function unlift(call: ListEvent): void {
  const ret = call.match!;
  ret.previous!.next = ret;
  if (ret.next) ret.next.previous = ret;
  call.previous!.next = call;
  if (call.next) call.next.previous = call;
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether every bit set in `a` is set in `b`. */
function isSubset(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if ((a[i]! & ~b[i]!) !== 0) return false;
  return true;
}

function mix32(value: number): number {
  let x = (value + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
