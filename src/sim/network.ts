// The packet simulator: per-link latency ranges, loss, duplication, reordering (random delays overtake one
// another), one-way cuts and partitions. Every decision draws from the network's own seeded stream.
import type { NodeId } from '../core/types.ts';
import { timeBetween, type SeededRandom } from '../core/random.ts';
import type { DropReason } from './trace.ts';

export interface LinkSettings {
  latencyMs: readonly [number, number];
  lossRatio: number;
  duplicateRatio: number;
  /** Delays are drawn in steps of this: 1 ms, or FINE_TIME_STEP_MS. */
  timeStepMs: number;
}

export type LinkState = 'up' | 'down' | 'one-way';

export type Route = { readonly drop: DropReason } | { readonly delaysMs: readonly number[] };

const linkKey = (from: NodeId, to: NodeId) => from * 64 + to;

export class Network {
  private readonly cuts = new Set<number>();
  private readonly latencyOverrides = new Map<number, readonly [number, number]>();

  constructor(
    public settings: LinkSettings,
    private readonly random: SeededRandom,
    /** Told the cut links, as [from, to] pairs, whenever they change. */
    private readonly onCutsChanged?: (cuts: [NodeId, NodeId][]) => void,
  ) {}

  /** Decide what becomes of a message sent now from `from` to `to`. */
  route(from: NodeId, to: NodeId): Route {
    if (this.isCut(from, to)) return { drop: 'link-down' };
    if (this.random.chance(this.settings.lossRatio)) return { drop: 'loss' };
    const [min, max] = this.latencyOverrides.get(linkKey(from, to)) ?? this.settings.latencyMs;
    const step = this.settings.timeStepMs;
    const first = timeBetween(this.random, min, max, step);
    if (!this.random.chance(this.settings.duplicateRatio)) return { delaysMs: [first] };
    return { delaysMs: [first, timeBetween(this.random, min, max, step)] };
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cuts.has(linkKey(from, to));
  }

  /** Cut one direction: messages from `from` to `to` are lost, including those already on the way. */
  cut(from: NodeId, to: NodeId): void {
    this.changeCuts(() => this.cuts.add(linkKey(from, to)));
  }

  mend(from: NodeId, to: NodeId): void {
    this.changeCuts(() => this.cuts.delete(linkKey(from, to)));
  }

  /** Split into groups that cannot reach one another; nodes in no group form one more group. */
  partition(groups: readonly (readonly NodeId[])[], nodes: readonly NodeId[]): void {
    const groupOf = new Map<NodeId, number>();
    groups.forEach((group, i) => group.forEach((id) => groupOf.set(id, i)));
    this.changeCuts(() => {
      this.cuts.clear();
      for (const a of nodes) {
        for (const b of nodes) {
          if (a !== b && (groupOf.get(a) ?? -1) !== (groupOf.get(b) ?? -1)) this.cuts.add(linkKey(a, b));
        }
      }
    });
  }

  heal(): void {
    this.changeCuts(() => this.cuts.clear());
  }

  /** The cut links, [from, to], in a stable order. */
  cutLinks(): [NodeId, NodeId][] {
    return [...this.cuts].sort((a, b) => a - b).map((key) => [Math.floor(key / 64), key % 64]);
  }

  private changeCuts(change: () => void): void {
    const before = this.cutLinks().join(';');
    change();
    if (this.onCutsChanged && this.cutLinks().join(';') !== before) this.onCutsChanged(this.cutLinks());
  }

  /** The least time any message now takes on the way: none sent now can arrive sooner. */
  minLatencyMs(): number {
    let least = this.settings.latencyMs[0];
    for (const [min] of this.latencyOverrides.values()) least = Math.min(least, min);
    return least;
  }

  setLinkLatency(from: NodeId, to: NodeId, latencyMs: readonly [number, number]): void {
    this.latencyOverrides.set(linkKey(from, to), latencyMs);
  }

  linkState(a: NodeId, b: NodeId): LinkState {
    const ab = this.isCut(a, b);
    const ba = this.isCut(b, a);
    if (ab && ba) return 'down';
    return ab || ba ? 'one-way' : 'up';
  }
}
