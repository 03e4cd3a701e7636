// The rules behind the toolbar and the keyboard: which node a control acts on, which controls apply to it now,
// the speed steps, settings that a scenario file would refuse, and the keyboard map. Pure, so tested in Node.
import type { NodeId } from '../core/types.ts';
import type { Action } from '../playground/live-cluster.ts';
import type { ClusterSummary, Selection } from '../playground/store.ts';
import { NODES_MAX } from '../sim/scenario.ts';

/** The node the controls act on: the selected one, else the leader, else the first node. */
export function chosenNode(selection: Selection, view: ClusterSummary | null): NodeId | null {
  if (!view || view.nodes.length === 0) return null;
  if (selection?.kind === 'node' && view.nodes.some((n) => n.id === selection.id)) return selection.id;
  return view.leader ?? view.nodes[0]!.id;
}

export interface Availability {
  readonly crash: boolean;
  readonly restart: boolean;
  readonly timeout: boolean;
  readonly snapshot: boolean;
  readonly transfer: boolean;
  readonly partition: boolean;
  readonly heal: boolean;
  readonly addNode: boolean;
  readonly removeNode: boolean;
  /** Client requests need a node to take them: the leader, or the chosen one when it is up. */
  readonly request: boolean;
}

/** Which controls make sense for node `id` in `view` (disabled otherwise, so a click never does nothing). */
export function availability(view: ClusterSummary | null, id: NodeId | null, target: 'leader' | NodeId): Availability {
  const node = view?.nodes.find((n) => n.id === id);
  const up = node?.status === 'up';
  const count = view?.nodes.length ?? 0;
  const targetNode = target === 'leader' ? null : view?.nodes.find((n) => n.id === target);
  return {
    crash: up,
    restart: node?.status === 'down',
    timeout: up && node.role !== 'leader',
    snapshot: up,
    transfer: up && view?.leader != null && view.leader !== id,
    partition: node !== undefined && count >= 2,
    heal: (view?.links ?? []).some((link) => link.state !== 'up'),
    addNode: view !== null && count < NODES_MAX,
    removeNode: node !== undefined && count > 1,
    request: target === 'leader' ? view?.leader != null : targetNode?.status === 'up',
  };
}

/** The index of the step in `speeds` nearest to `speed` (on the log scale the steps follow). */
export function speedIndex(speed: number, speeds: readonly number[]): number {
  let best = 0;
  speeds.forEach((s, i) => {
    if (Math.abs(Math.log(s / speed)) < Math.abs(Math.log(speeds[best]! / speed))) best = i;
  });
  return best;
}

/** `0.05×`, `1×`, `10×`. */
export function formatSpeed(speed: number): string {
  return `${Number(speed.toPrecision(3))}×`;
}

/** The next speed step up (+1) or down (-1), staying within the steps. */
export function stepSpeed(speed: number, speeds: readonly number[], direction: 1 | -1): number {
  const index = Math.min(speeds.length - 1, Math.max(0, speedIndex(speed, speeds) + direction));
  return speeds[index]!;
}

/**
 * Why a timing setting would be refused (a scenario file with it would not load), or null when it is fine:
 * whole milliseconds, min ≤ max, and heartbeats more often than the shortest election timeout (§5.2).
 */
export function timingProblem(electionTimeoutMs: readonly [number, number], heartbeatMs: number): string | null {
  const [min, max] = electionTimeoutMs;
  if (![min, max, heartbeatMs].every((n) => Number.isSafeInteger(n))) return 'Use whole milliseconds.';
  if (min < 1) return 'The election timeout must be at least 1 ms.';
  if (min > max) return 'The election timeout minimum must not exceed its maximum.';
  if (heartbeatMs < 1) return 'The heartbeat must be at least 1 ms.';
  if (heartbeatMs >= min) return `The heartbeat (${heartbeatMs} ms) must be shorter than the election timeout minimum (${min} ms).`;
  return null;
}

/**
 * The `set` actions that take the timing from `now` to `next`, in an order that keeps every step valid (each
 * `set` in a scenario file is checked against the settings at that point): a shorter heartbeat goes first, a
 * longer one after the election timeout.
 */
export function timingActions(
  now: { readonly electionTimeoutMs: readonly [number, number]; readonly heartbeatMs: number },
  next: { readonly electionTimeoutMs: readonly [number, number]; readonly heartbeatMs: number },
): Action[] {
  const actions: Action[] = [];
  const electionChanged = now.electionTimeoutMs[0] !== next.electionTimeoutMs[0] || now.electionTimeoutMs[1] !== next.electionTimeoutMs[1];
  const election: Action = { do: 'set', key: 'electionTimeoutMs', value: [next.electionTimeoutMs[0], next.electionTimeoutMs[1]] };
  const heartbeat: Action = { do: 'set', key: 'heartbeatMs', value: next.heartbeatMs };
  if (next.heartbeatMs < now.heartbeatMs) actions.push(heartbeat);
  if (electionChanged) actions.push(election);
  if (next.heartbeatMs > now.heartbeatMs) actions.push(heartbeat);
  return actions;
}

/** An enqueue payload: JSON when it parses as JSON (`{"n": 1}`, `42`), otherwise the text itself. */
export function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function scenarioFileName(seed: number): string {
  return `raft-playground-seed${seed}.json`;
}

// ---- Keyboard -------------------------------------------------------------------------------------------------

export type ShortcutCommand =
  | { readonly kind: 'toggle-pause' }
  | { readonly kind: 'step' }
  | { readonly kind: 'speed'; readonly direction: 1 | -1 }
  | { readonly kind: 'select'; readonly node: NodeId }
  | { readonly kind: 'crash' | 'restart' | 'timeout' | 'snapshot' | 'partition' }
  | { readonly kind: 'heal' }
  | { readonly kind: 'put' }
  | { readonly kind: 'export' }
  | { readonly kind: 'help' };

/** Every shortcut, as the overlay lists it. */
export const SHORTCUTS: readonly { readonly keys: readonly string[]; readonly does: string }[] = [
  { keys: ['Space'], does: 'Pause or resume' },
  { keys: ['.', 'n'], does: 'Step: run the next event' },
  { keys: ['+', '−'], does: 'Speed up / slow down' },
  { keys: ['1', '…', '9'], does: 'Select node S1 … S9' },
  { keys: ['c'], does: 'Crash the selected node' },
  { keys: ['r'], does: 'Restart the selected node' },
  { keys: ['t'], does: 'Time out the selected node (start an election)' },
  { keys: ['s'], does: 'Snapshot the selected node' },
  { keys: ['p'], does: 'Partition: cut the selected node off from the rest' },
  { keys: ['h'], does: 'Heal the network' },
  { keys: ['w'], does: 'Write: put k1=1, k2=2, … through the leader' },
  { keys: ['e'], does: 'Export the run as a scenario file' },
  { keys: ['?'], does: 'Show or hide this list' },
  { keys: ['Esc'], does: 'Close this list' },
];

/** The command for a key press (KeyboardEvent.key), or null when the key is not a shortcut. */
export function commandForKey(key: string): ShortcutCommand | null {
  if (/^[1-9]$/.test(key)) return { kind: 'select', node: Number(key) };
  switch (key) {
    case ' ':
    case 'Spacebar':
      return { kind: 'toggle-pause' };
    case '.':
    case 'n':
      return { kind: 'step' };
    case '+':
    case '=':
      return { kind: 'speed', direction: 1 };
    case '-':
    case '_':
      return { kind: 'speed', direction: -1 };
    case 'c':
      return { kind: 'crash' };
    case 'r':
      return { kind: 'restart' };
    case 't':
      return { kind: 'timeout' };
    case 's':
      return { kind: 'snapshot' };
    case 'p':
      return { kind: 'partition' };
    case 'h':
      return { kind: 'heal' };
    case 'w':
      return { kind: 'put' };
    case 'e':
      return { kind: 'export' };
    case '?':
      return { kind: 'help' };
    default:
      return null;
  }
}
