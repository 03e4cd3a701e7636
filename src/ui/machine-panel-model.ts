// What the state-machine panel shows, as plain data: the keys compared across nodes, which node's queues
// to draw, and how much of a lease is left. Pure, so it is tested in node.
import type { NodeId } from '../core/types.ts';
import type { MachineView } from '../worker/node.worker.ts';

/** Key rows shown; the rest are counted ("+N more"). */
export const KV_KEYS_SHOWN_MAX = 8;
/** Task chips shown per lane; the lane's count says how many there are. */
export const LANE_CHIPS_MAX = 12;
/** Queues drawn; the rest are counted. */
export const QUEUES_SHOWN_MAX = 3;

export interface KvRow {
  readonly key: string;
  /** Each node's value; undefined where the node has no such key or no machine (down). */
  readonly values: ReadonlyMap<NodeId, string | undefined>;
  /** Every node with a machine holds the same value (or every one lacks the key). */
  readonly agrees: boolean;
}

export interface KvComparison {
  readonly rows: readonly KvRow[];
  /** Keys not shown. */
  readonly hidden: number;
}

/**
 * The keys of every node's machine side by side. With more keys than `max`, the ones where nodes differ are
 * shown first, since those are the interesting ones (a follower behind, or a bug); rows are then sorted by key.
 */
export function compareKv(
  machines: Readonly<Record<NodeId, MachineView>>,
  nodeIds: readonly NodeId[],
  max: number = KV_KEYS_SHOWN_MAX,
): KvComparison {
  const withMachine = nodeIds.filter((id) => machines[id] !== undefined);
  const tables = new Map<NodeId, Map<string, string>>(withMachine.map((id) => [id, new Map(machines[id]!.kv.map(([k, v]) => [k, v]))]));
  const keys = new Set<string>();
  for (const table of tables.values()) for (const key of table.keys()) keys.add(key);

  const all: KvRow[] = [...keys].sort(compareStrings).map((key) => {
    const values = new Map<NodeId, string | undefined>(nodeIds.map((id) => [id, tables.get(id)?.get(key)]));
    const seen = new Set(withMachine.map((id) => values.get(id)));
    return { key, values, agrees: seen.size <= 1 };
  });
  if (all.length <= max) return { rows: all, hidden: 0 };
  const differing = all.filter((row) => !row.agrees);
  const agreeing = all.filter((row) => row.agrees);
  const rows = [...differing, ...agreeing].slice(0, max).sort((a, b) => compareStrings(a.key, b.key));
  return { rows, hidden: all.length - rows.length };
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Whose queues to draw: the selected node's if it is running, else the leader's, else the lowest running
 * node's. Null when no machine has been fetched yet.
 */
export function chooseQueueSource(machines: Readonly<Record<NodeId, MachineView>>, leader: NodeId | null, selected: NodeId | null): NodeId | null {
  if (selected !== null && machines[selected]) return selected;
  if (leader !== null && machines[leader]) return leader;
  const ids = Object.keys(machines)
    .map(Number)
    .sort((a, b) => a - b);
  return ids[0] ?? null;
}

/** How much of a lease is left, 0..1 of `totalMs` (the longest remainder seen for that claim). */
export function leaseFraction(remainingMs: number, totalMs: number): number {
  if (!(totalMs > 0)) return 0;
  return Math.min(1, Math.max(0, remainingMs / totalMs));
}

/** The first `max` items of a lane and how many more the lane holds, by its exact `count`. */
export function takeChips<T>(items: readonly T[], count: number, max: number = LANE_CHIPS_MAX): { shown: readonly T[]; more: number } {
  const shown = items.slice(0, max);
  return { shown, more: Math.max(0, count - shown.length) };
}

/** The most recent `max` items (the done and dead-letter lanes list oldest first). */
export function takeLatestChips<T>(items: readonly T[], count: number, max: number = LANE_CHIPS_MAX): { shown: readonly T[]; more: number } {
  const shown = items.slice(-max);
  return { shown, more: Math.max(0, count - shown.length) };
}

/**
 * Remembers the longest remaining lease seen for each claim (queue, task and attempt), so the bar can shrink
 * from full: the lanes carry when a lease ends but not how long it was. Bounded: past `entriesMax` it forgets.
 */
export class LeaseLengths {
  private readonly longest = new Map<string, number>();

  constructor(private readonly entriesMax = 2000) {}

  observe(queue: string, task: number, attempt: number, remainingMs: number): number {
    const key = `${queue}\u0000${task}\u0000${attempt}`;
    const known = this.longest.get(key);
    if (known !== undefined && known >= remainingMs) return known;
    if (known === undefined && this.longest.size >= this.entriesMax) this.longest.clear();
    this.longest.set(key, remainingMs);
    return remainingMs;
  }
}
