// Linearizability of a key-value history: each key is an independent register (put, get, delete, cas), so the
// history is split by key and each part checked alone (P-compositionality: a history is linearizable exactly
// when each object's sub-history is).

import {
  checkPartitions,
  formatMs,
  type CheckOptions,
  type Model,
  type Operation,
  type PartitionOutcome,
  type Verdict,
} from './linearizability.ts';

/**
 * What a client saw. Accepts the service's result shapes (ReplicatedService, SPEC §5) as they are:
 * get `{ok: true, value}` or `{ok: false, error: 'not_found'}` (or the simulator's `{ok: true, value: null}`);
 * put `{ok: true}`; delete `{ok: true, existed}` (existed optional); cas `{ok: true}` or
 * `{ok: false, error: 'cas_mismatch', value}` (value optional). Any other error means the operation was refused
 * and had no effect. No result, or an Infinity return time, means the outcome is unknown.
 */
export interface KvOperationResult {
  readonly ok?: boolean;
  readonly value?: string | null;
  readonly existed?: boolean;
  readonly error?: string;
}

export interface KvOperation {
  readonly client: string;
  readonly op: 'put' | 'get' | 'delete' | 'cas';
  readonly key: string;
  /** put */
  readonly value?: string;
  /** cas: the value expected (null: expected absent) */
  readonly from?: string | null;
  /** cas: the value written */
  readonly to?: string;
  readonly callMs: number;
  /** Infinity when the outcome is unknown (the client timed out). */
  readonly returnMs: number;
  readonly result?: KvOperationResult;
}

export interface KvCheckResult {
  readonly verdict: Verdict;
  readonly partitions: number;
  readonly outcomes: readonly PartitionOutcome[];
  readonly steps: number;
  /** Why not linearizable, or why undecided, in words. */
  readonly explanation?: string;
  /** The operations (as given) that cannot be ordered, by call time; the culprit first in `culprit`. */
  readonly violation?: { readonly key: string; readonly culprit: KvOperation; readonly operations: readonly KvOperation[]; readonly minimal: boolean };
  /** When linearizable: each key's operations (as given) in an order that explains every result. */
  readonly linearization?: readonly (readonly KvOperation[])[];
}

/** The register's value; null when the key is absent. */
type Register = string | null;

/** What an operation's result says about the register before it, and what it did. */
type Outcome =
  | { readonly kind: 'unknown' }
  /** Refused with an error: no effect, and it says nothing about the value. */
  | { readonly kind: 'refused' }
  | { readonly kind: 'read'; readonly value: Register }
  | { readonly kind: 'written' }
  | { readonly kind: 'deleted'; readonly existed: boolean | undefined }
  | { readonly kind: 'swapped' }
  | { readonly kind: 'mismatch'; readonly current: Register | undefined };

type KvHistoryOperation = Operation<KvOperation, Outcome>;

function outcomeOf(operation: KvOperation): Outcome {
  const result = operation.result;
  if (result === undefined || operation.returnMs === Infinity) return { kind: 'unknown' };
  switch (operation.op) {
    case 'get':
      if (result.error === 'not_found') return { kind: 'read', value: null };
      if (result.ok === false) return { kind: 'refused' };
      return { kind: 'read', value: result.value ?? null };
    case 'put':
      return result.ok === false ? { kind: 'refused' } : { kind: 'written' };
    case 'delete':
      return result.ok === false ? { kind: 'refused' } : { kind: 'deleted', existed: result.existed };
    case 'cas':
      if (result.ok !== false) return { kind: 'swapped' };
      if (result.error !== undefined && result.error !== 'cas_mismatch') return { kind: 'refused' };
      return { kind: 'mismatch', current: 'value' in result ? (result.value ?? null) : undefined };
  }
}

/** The value `operation` writes when it takes effect; undefined for operations that never write. */
function writtenValue(input: KvOperation): Register | undefined {
  if (input.op === 'put') return input.value ?? null;
  if (input.op === 'delete') return null;
  if (input.op === 'cas') return input.to ?? null;
  return undefined;
}

/** Whether the result of `operation` depends on the register holding `value` just before it. */
function dependsOn(operation: KvHistoryOperation, value: Register): boolean {
  const outcome = operation.output;
  const input = operation.input;
  if (outcome === undefined) {
    // An unknown cas wrote or not depending on the value; one that never returned can be moved last, where
    // whatever it did is unseen, unless it expected exactly this value.
    if (input.op !== 'cas') return false;
    return operation.returnMs === Infinity ? (input.from ?? null) === value : true;
  }
  switch (outcome.kind) {
    case 'unknown':
    case 'refused':
    case 'written':
      return false;
    case 'read':
      return outcome.value === value;
    case 'deleted':
      return outcome.existed !== undefined && outcome.existed === (value !== null);
    case 'swapped':
      return (input.from ?? null) === value;
    case 'mismatch':
      // Without the current value, a mismatch says only "not `from`", which any other value satisfies.
      return outcome.current === undefined ? true : outcome.current === value;
  }
}

export const kvRegisterModel: Model<Register, KvOperation, Outcome> = {
  init: () => null,

  step(state, input, outcome) {
    if (outcome === undefined || outcome.kind === 'unknown') {
      if (input.op === 'cas') return state === (input.from ?? null) ? (input.to ?? null) : state;
      return input.op === 'get' ? state : writtenValue(input)!;
    }
    switch (outcome.kind) {
      case 'refused':
        return state;
      case 'read':
        return outcome.value === state ? state : undefined;
      case 'written':
        return input.value ?? null;
      case 'deleted':
        return outcome.existed === undefined || outcome.existed === (state !== null) ? null : undefined;
      case 'swapped':
        return state === (input.from ?? null) ? (input.to ?? null) : undefined;
      case 'mismatch':
        if (state === (input.from ?? null)) return undefined;
        return outcome.current === undefined || outcome.current === state ? state : undefined;
    }
  },

  stateKey: (state) => (state === null ? '' : `=${state}`),

  describeOperation: (operation) => describeKvOperation(operation.input, operation.output),

  describeState: (state) => (state === null ? 'absent' : show(state)),

  inputKey: (input) => JSON.stringify([input.op, input.key, input.value ?? null, input.from ?? null, input.to ?? null]),

  canDropSoundly(operation, others, culprit) {
    const outcome = operation.output;
    // No effect in any valid order (a delete that found nothing, a cas that wrote what was there): taking it out
    // of a valid order leaves the order valid.
    const changesNothing =
      operation.input.op === 'get' ||
      outcome?.kind === 'refused' ||
      outcome?.kind === 'mismatch' ||
      (outcome?.kind === 'deleted' && outcome.existed === false) ||
      (outcome?.kind === 'swapped' && (operation.input.from ?? null) === (operation.input.to ?? null));
    if (changesNothing) return true;
    // A write can go when nothing that may run right after it depends on the value it wrote: in a valid order,
    // the operations between it and the next write saw that value, and without it would see the one before.
    // What returned before it was called runs before it; what was called after a later definite write returned
    // runs after that write, which sets the value whatever came before.
    const value = writtenValue(operation.input);
    if (value === undefined) return true;
    // Dropping a write of the value the culprit saw would be sound too when the culprit cannot run right after
    // it, but the set left would fail for another reason ("nothing wrote it") than the history does: keep it.
    if (culprit && observedValue(culprit) === value) return false;
    let laterWriteReturnMs = Infinity;
    for (const other of others) {
      if (isDefiniteWrite(other) && other.callMs > operation.returnMs && other.returnMs < laterWriteReturnMs) laterWriteReturnMs = other.returnMs;
    }
    return !others.some((other) => other.returnMs >= operation.callMs && other.callMs <= laterWriteReturnMs && dependsOn(other, value));
  },

  explainViolation(culprit, operations) {
    const observed = observedValue(culprit);
    if (observed === undefined) return undefined;
    const culpritText = `${describeKvOperation(culprit.input, culprit.output)} returned at ${formatMs(culprit.returnMs)} ms`;
    const writersOfObserved = operations.filter((op) => op !== culprit && mayWrite(op, observed));
    const key = show(culprit.input.key);
    if (writersOfObserved.length === 0 && observed !== null) return `${culpritText}, but nothing wrote ${show(observed)} to ${key}`;
    // A write of another value that began after every write of the observed value had finished, and finished
    // before the culprit began: by then the observed value was overwritten for good.
    const latestObservedWrite = Math.max(...writersOfObserved.map((op) => op.returnMs), -Infinity);
    const overwrite = operations.find(
      (op) =>
        op !== culprit &&
        op.output !== undefined &&
        (op.output.kind === 'written' || op.output.kind === 'deleted' || op.output.kind === 'swapped') &&
        writtenValue(op.input) !== observed &&
        op.callMs > latestObservedWrite &&
        op.returnMs < culprit.callMs,
    );
    if (!overwrite) return undefined;
    const after = observed === null ? `nothing deleted ${key} after it` : `nothing wrote ${show(observed)} after it`;
    return `${culpritText}, but ${describeKvOperation(overwrite.input, overwrite.output)} completed at ${formatMs(overwrite.returnMs)} ms and ${after}`;
  },
};

/** The register value the culprit's result shows it saw; undefined when its result shows no single value. */
function observedValue(operation: KvHistoryOperation): Register | undefined {
  const outcome = operation.output;
  if (outcome === undefined) return undefined;
  if (outcome.kind === 'read') return outcome.value;
  if (outcome.kind === 'swapped') return operation.input.from ?? null;
  if (outcome.kind === 'mismatch') return outcome.current;
  if (outcome.kind === 'deleted' && outcome.existed === false) return null;
  return undefined;
}

/** Took effect, and wrote: a put, a delete or a successful cas that returned. */
function isDefiniteWrite(operation: KvHistoryOperation): boolean {
  const kind = operation.output?.kind;
  return kind === 'written' || kind === 'deleted' || kind === 'swapped';
}

function mayWrite(operation: KvHistoryOperation, value: Register): boolean {
  const kind = operation.output?.kind ?? 'unknown';
  if (kind === 'refused' || kind === 'read' || kind === 'mismatch') return false;
  return writtenValue(operation.input) === value;
}

/** `get(x) → 1`, `put(x, 2)`, `cas(x, 1 → 2) → mismatch (x was 3)`, `delete(x) → existed`; `→ ?` when unknown. */
export function describeKvOperation(input: KvOperation, outcome: Outcome | undefined): string {
  const key = show(input.key);
  const unknown = outcome === undefined || outcome.kind === 'unknown';
  const refused = outcome?.kind === 'refused' ? ' → refused (no effect)' : '';
  switch (input.op) {
    case 'get':
      if (unknown) return `get(${key}) → ?`;
      if (outcome.kind === 'read') return `get(${key}) → ${outcome.value === null ? 'not found' : show(outcome.value)}`;
      return `get(${key})${refused}`;
    case 'put':
      return `put(${key}, ${show(input.value ?? '')})${unknown ? ' → ?' : refused}`;
    case 'delete': {
      if (unknown) return `delete(${key}) → ?`;
      if (outcome.kind === 'deleted' && outcome.existed !== undefined) return `delete(${key}) → ${outcome.existed ? 'existed' : 'was absent'}`;
      return `delete(${key})${refused}`;
    }
    case 'cas': {
      const base = `cas(${key}, ${input.from === null || input.from === undefined ? 'absent' : show(input.from)} → ${show(input.to ?? '')})`;
      if (unknown) return `${base} → ?`;
      if (outcome.kind === 'swapped') return `${base} → ok`;
      if (outcome.kind === 'mismatch') {
        if (outcome.current === undefined) return `${base} → mismatch`;
        return `${base} → mismatch (${key} was ${outcome.current === null ? 'absent' : show(outcome.current)})`;
      }
      return `${base}${refused}`;
    }
  }
}

function show(text: string): string {
  return /^[\w.:@/-]+$/.test(text) ? text : JSON.stringify(text);
}

/** Checks a key-value history, each key on its own. Throws on a malformed operation, naming it. */
export function checkKvHistory(operations: readonly KvOperation[], options: CheckOptions = {}): KvCheckResult {
  const byKey = new Map<string, KvHistoryOperation[]>();
  const original = new Map<KvHistoryOperation, KvOperation>();
  operations.forEach((operation, index) => {
    validateKvOperation(operation, `operations[${index}]`);
    const outcome = outcomeOf(operation);
    const historyOperation: KvHistoryOperation = {
      client: operation.client,
      input: operation,
      output: outcome.kind === 'unknown' ? undefined : outcome,
      callMs: operation.callMs,
      returnMs: operation.returnMs,
    };
    original.set(historyOperation, operation);
    const list = byKey.get(operation.key);
    if (list) list.push(historyOperation);
    else byKey.set(operation.key, [historyOperation]);
  });
  const partitions = [...byKey].map(([key, list]) => ({ label: `key ${show(key)}`, operations: list }));
  const result = checkPartitions(kvRegisterModel, partitions, options);
  const violation = result.violation;
  return {
    verdict: result.verdict,
    partitions: result.partitions,
    outcomes: result.outcomes,
    steps: result.steps,
    ...(result.explanation ? { explanation: result.explanation } : {}),
    ...(result.linearization ? { linearization: result.linearization.map((part) => part.operations.map((op) => op.input)) } : {}),
    ...(violation
      ? {
          violation: {
            key: violation.culprit.input.key,
            // Shrinking may have made an operation unknown (cut at a time before it returned): report it as given.
            culprit: violation.culprit.input,
            operations: violation.operations.map((op) => op.input),
            minimal: violation.minimal,
          },
        }
      : {}),
  };
}

function validateKvOperation(operation: KvOperation, path: string): void {
  const ops = ['put', 'get', 'delete', 'cas'];
  if (!ops.includes(operation.op)) throw new Error(`${path}.op: expected one of ${ops.join(', ')}, got ${JSON.stringify(operation.op)}`);
  if (typeof operation.key !== 'string') throw new Error(`${path}.key: expected a string`);
  if (operation.op === 'put' && typeof operation.value !== 'string') throw new Error(`${path}.value: expected a string for a put`);
  if (operation.op === 'cas' && (typeof operation.to !== 'string' || (operation.from !== null && typeof operation.from !== 'string'))) {
    throw new Error(`${path}: expected from (a string or null) and to (a string) for a cas`);
  }
  if (!Number.isFinite(operation.callMs)) throw new Error(`${path}.callMs: expected a finite number, got ${operation.callMs}`);
  if (!(operation.returnMs >= operation.callMs)) {
    throw new Error(`${path}.returnMs: expected a time at or after callMs ${operation.callMs}, or Infinity, got ${operation.returnMs}`);
  }
}
