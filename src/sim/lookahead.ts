// Conservative lookahead: how a host runs nodes in parallel and still gives the very run `Simulation.step()`
// gives. No message arrives sooner than the network's least latency after it is sent, so from the next event's
// time t0 until t0 + that latency (and before the next scenario action, which may change anything) every node's
// inputs are already decided: the deliveries queued for it and the timer ticks its own outputs arm. Each node
// works through its share of such a window on its own — in its own Web Worker, all at once — and the driver
// then runs the window's events in their usual order, answering each call with the output worked out ahead.
import type { Message, NodeId } from '../core/types.ts';
import type { ReplicaInput, ReplicaOutput } from './replica.ts';

/** A node's clock: local = localAtOrigin + (global - globalAtOrigin) × rate. */
export interface NodeClock {
  readonly rate: number;
  readonly globalAtOrigin: number;
  readonly localAtOrigin: number;
}

/** What node's clock reads at virtual millisecond `at`. */
export function localTimeAt(clock: NodeClock, at: number): number {
  const { rate, globalAtOrigin, localAtOrigin } = clock;
  return rate === 1 && globalAtOrigin === localAtOrigin ? at : localAtOrigin + (at - globalAtOrigin) * rate;
}

/** The virtual time at which the clock reads `local`, rounded up to the simulation's step (1 ms, or finer). */
export function globalTimeOf(clock: NodeClock, local: number, stepMs: number): number {
  const { rate, globalAtOrigin, localAtOrigin } = clock;
  if (rate === 1 && globalAtOrigin === localAtOrigin) return local;
  return Math.ceil((globalAtOrigin + (local - localAtOrigin) / rate) / stepMs) * stepMs;
}

/** A queued event that gives a node an input, in the queue's order. */
export type WindowEntry =
  | { readonly at: number; readonly kind: 'message'; readonly id: number; readonly message: Message }
  | { readonly at: number; readonly kind: 'timer' };

/** One node's share of a window. */
export interface NodeWindow {
  readonly node: NodeId;
  /** Its deliveries that will reach it (not cut, not dropped) and its live timer events, in queue order. */
  readonly entries: readonly WindowEntry[];
  /** When its pending timer really fires (Simulation's `timerAt`): a timer event at another time is superseded. */
  readonly timerAt: number;
  readonly clock: NodeClock;
  /** The simulation's time step (globalTimeOf). */
  readonly timeStepMs: number;
}

export interface Window {
  /** The window is [startMs, endMs): the events before endMs. */
  readonly startMs: number;
  readonly endMs: number;
  readonly nodes: readonly NodeWindow[];
}

/** One input a node took in a window, and what it answered. `message`: the delivery's trace id. */
export interface PlannedInput {
  readonly message?: number;
  readonly nowMs: number;
  readonly output: ReplicaOutput;
}

/**
 * Work through a node's share of a window with `handle` (the node's Replica), exactly as the driver would:
 * events in (time, queue order); a timer event fires only if it is the one armed (`timerAt`), and disarms it;
 * after every input the node's next deadline arms a timer event if it is sooner than the one armed, queued after
 * everything already queued.
 */
export function planNodeWindow(window: NodeWindow, endMs: number, handle: (input: ReplicaInput, nowMs: number) => ReplicaOutput): PlannedInput[] {
  const pending: { readonly entry: WindowEntry; readonly order: number }[] = window.entries.map((entry, order) => ({ entry, order }));
  let order = pending.length;
  let timerAt = window.timerAt;
  const planned: PlannedInput[] = [];
  for (;;) {
    let next = -1;
    for (let i = 0; i < pending.length; i++) {
      const { entry, order: o } = pending[i]!;
      const best = pending[next];
      if (entry.at < endMs && (!best || entry.at < best.entry.at || (entry.at === best.entry.at && o < best.order))) next = i;
    }
    if (next < 0) break;
    const { entry } = pending.splice(next, 1)[0]!;
    if (entry.kind === 'timer') {
      if (entry.at !== timerAt) continue; // superseded by a sooner deadline
      timerAt = Infinity;
    }
    const nowMs = localTimeAt(window.clock, entry.at);
    const input: ReplicaInput = entry.kind === 'message' ? { kind: 'message', message: entry.message } : { kind: 'tick' };
    const output = handle(input, nowMs);
    planned.push(entry.kind === 'message' ? { message: entry.id, nowMs, output } : { nowMs, output });
    const armAt = Math.max(globalTimeOf(window.clock, output.deadlineMs, window.timeStepMs), entry.at);
    if (armAt < timerAt) {
      timerAt = armAt;
      pending.push({ entry: { at: armAt, kind: 'timer' }, order: order++ });
    }
  }
  return planned;
}

/**
 * Answers the driver's calls during a window from the nodes' plans, checking that each call is the one planned:
 * a mismatch means the lookahead was wrong, and the run would silently differ from `step()`'s, so it throws.
 */
export class PlannedAnswers {
  private readonly plans: Map<NodeId, { readonly inputs: readonly PlannedInput[]; next: number }>;

  constructor(plans: ReadonlyMap<NodeId, readonly PlannedInput[]>) {
    this.plans = new Map([...plans].map(([node, inputs]) => [node, { inputs, next: 0 }]));
  }

  answer(node: NodeId, input: ReplicaInput, nowMs: number, message: number | undefined): ReplicaOutput {
    const plan = this.plans.get(node);
    const planned = plan?.inputs[plan.next];
    const wanted = input.kind === 'message' ? `message ${message}` : input.kind;
    if (!plan || !planned || (planned.message === undefined ? input.kind !== 'tick' : planned.message !== message) || planned.nowMs !== nowMs) {
      const had = planned ? (planned.message === undefined ? 'tick' : `message ${planned.message}`) + ` at ${planned.nowMs}` : 'nothing';
      throw new Error(`lookahead diverged: S${node} was given ${wanted} at ${nowMs} but had planned ${had}`);
    }
    plan.next++;
    return planned.output;
  }

  /** Every planned input was asked for (else the plan did work the run did not). */
  finish(): void {
    for (const [node, plan] of this.plans) {
      if (plan.next !== plan.inputs.length) throw new Error(`lookahead diverged: S${node} planned ${plan.inputs.length} inputs, the run gave ${plan.next}`);
    }
  }
}
