// The client history view's model: the checker's verdict on the run's key-value requests (as
// src/sim/timeline.ts gives them, in the checker's terms), and what to draw:
// each client's requests as intervals from call to answer, packed in rows so that none overlap, with the point
// where the checker's order places each (a linearization), or the operations no order explains.
import { checkKvHistory, type KvCheckResult, type KvOperation } from '../check/kv-linearizability.ts';
import type { HistoryOperation } from '../sim/timeline.ts';

export interface HistoryBar {
  readonly operation: HistoryOperation;
  readonly lane: number;
  /** The row within its client's lane (overlapping requests of one client stack). */
  readonly row: number;
  /** The operation and its answer in words, and the server that answered. */
  readonly label: string;
  /** Drawn left of the bar (near the right edge), not from its start. */
  readonly labelLeft: boolean;
  /** Where the checker's order places it (ms), when linearizable and it is in the order. */
  readonly pointMs: number | undefined;
  /** One of the operations that cannot be ordered. */
  readonly offending: boolean;
  readonly culprit: boolean;
}

export interface HistoryPicture {
  readonly clients: readonly { readonly name: string; readonly rows: number }[];
  readonly bars: readonly HistoryBar[];
  readonly result: KvCheckResult;
  /** The verdict in one sentence. */
  readonly verdict: string;
  /** How much was checked: "5 operations on 1 key". */
  readonly size: string;
  /** The time the picture spans, ms. */
  readonly startMs: number;
  readonly endMs: number;
}

/** How wide the picture is drawn: a bar's row is kept free for its label as well as its interval. */
export interface HistoryLayout {
  readonly plotPx: number;
  /** The width of a label's character, about. */
  readonly charPx: number;
}

/**
 * Lays the history out, with the checker's verdict on it (`checked`, from checkHistory: worked out once per
 * history, while the picture follows the clock); `nowMs` closes open intervals in the picture, not in the check.
 */
export function historyPicture(history: readonly HistoryOperation[], nowMs: number, layout?: HistoryLayout, checked: KvCheckResult = checkHistory(history)): HistoryPicture {
  let startMs = history.length === 0 ? 0 : nowMs;
  let endMs = nowMs;
  for (const { operation } of history) {
    startMs = Math.min(startMs, operation.callMs);
    endMs = Math.max(endMs, operation.returnMs === Infinity ? operation.callMs : operation.returnMs);
  }
  const msPerPx = layout ? Math.max(1, endMs - startMs) / layout.plotPx : 0;
  const result = checked;
  const points = linearizationPoints(result);
  const offenders = new Set(result.violation?.operations ?? []);
  const clientNames = [...new Set(history.map((h) => h.operation.client))].sort();
  const rowsEnd = clientNames.map(() => [] as number[]); // per client, per row: where its last bar ends
  const bars: HistoryBar[] = [];
  for (const h of [...history].sort((a, b) => a.operation.callMs - b.operation.callMs)) {
    const op = h.operation;
    const lane = clientNames.indexOf(op.client);
    const ends = rowsEnd[lane]!;
    const label = operationText(op) + answerText(op) + (h.call.node ? ` via S${h.call.node}` : '');
    const labelMs = (label.length + 2) * (layout?.charPx ?? 0) * msPerPx;
    const barEnd = op.returnMs === Infinity ? endMs : op.returnMs;
    // A label that would run past the right edge goes left of its bar instead.
    const labelLeft = labelMs > 0 && op.callMs + labelMs > endMs;
    const from = labelLeft ? op.callMs - labelMs : op.callMs;
    let row = ends.findIndex((end) => end < from);
    if (row < 0) row = ends.push(0) - 1;
    ends[row] = op.returnMs === Infinity ? Infinity : labelLeft ? barEnd : Math.max(barEnd, op.callMs + labelMs);
    bars.push({
      operation: h,
      lane,
      row,
      label,
      labelLeft,
      pointMs: points.get(op),
      offending: offenders.has(op),
      culprit: result.violation?.culprit === op,
    });
  }
  return {
    clients: clientNames.map((name, lane) => ({ name, rows: Math.max(1, rowsEnd[lane]!.length) })),
    bars,
    result,
    verdict: verdictSentence(result),
    size: `${history.length} operation${history.length === 1 ? '' : 's'} on ${result.partitions} key${result.partitions === 1 ? '' : 's'}`,
    startMs,
    endMs,
  };
}

/** The checker's verdict on the history, within a budget the page can afford on its main thread. */
export function checkHistory(history: readonly HistoryOperation[]): KvCheckResult {
  return checkKvHistory(history.map((h) => h.operation), { stepsMax: 2_000_000, explainStepsMax: 1_000_000 });
}

/**
 * A time inside each operation's interval that follows the checker's order: the earliest moment at or after
 * its call and the point before it. It is never after the return: every operation ordered before it was
 * called before it returned (the order respects real time).
 */
export function linearizationPoints(result: KvCheckResult): Map<KvOperation, number> {
  const points = new Map<KvOperation, number>();
  for (const order of result.linearization ?? []) {
    let at = -Infinity;
    for (const operation of order) {
      at = Math.max(at, operation.callMs);
      // A refused request took no effect: it has no point. An unanswered one the order needed took effect there.
      if (!isRefused(operation)) points.set(operation, at);
    }
  }
  return points;
}

/** Answered with an error other than not-found or mismatch: it took no effect. */
export function isRefused(operation: KvOperation): boolean {
  const result = operation.result;
  return operation.returnMs !== Infinity && result?.ok === false && result.error !== 'not_found' && result.error !== 'cas_mismatch';
}

function operationText(operation: KvOperation): string {
  switch (operation.op) {
    case 'get':
    case 'delete':
      return `${operation.op}(${operation.key})`;
    case 'put':
      return `put(${operation.key}, ${operation.value ?? ''})`;
    case 'cas':
      return `cas(${operation.key}, ${operation.from ?? 'absent'} → ${operation.to ?? ''})`;
  }
}

function answerText(operation: KvOperation): string {
  const result = operation.result;
  if (operation.returnMs === Infinity) return ' → no answer';
  if (!result) return '';
  if (isRefused(operation)) return ` → refused (${result.error})`;
  if (operation.op === 'get') return ` → ${result.error === 'not_found' || result.value === null || result.value === undefined ? 'absent' : String(result.value)}`;
  if (operation.op === 'cas') return result.ok ? ' → swapped' : ' → mismatch';
  return ' → ok';
}

function verdictSentence(result: KvCheckResult): string {
  switch (result.verdict) {
    case 'linearizable':
      return 'Linearizable: one order of the operations explains every answer (the dots).';
    case 'not-linearizable':
      // The explanation's first line is the reason; the rest lists the operations, which the picture marks.
      return `Not linearizable: ${(result.explanation ?? 'no order of the operations explains every answer.').split('\n')[0]!.replace(/^key \S+: /, '')}`;
    case 'unknown':
      return 'Undecided: the checker ran out of its budget before it could tell.';
  }
}
