// A priority queue of timed events. Ties in time break by rank, then insertion order, so a run is reproducible.

interface Slot<T> {
  readonly at: number;
  /** 0 for events that go first at their millisecond, 1 for the rest. */
  readonly rank: number;
  readonly seq: number;
  readonly value: T;
}

export class EventQueue<T> {
  private heap: Slot<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** `first`: ahead of every event at the same time that is not `first` (whenever either was pushed). */
  push(at: number, value: T, first = false): void {
    const heap = this.heap;
    heap.push({ at, rank: first ? 0 : 1, seq: this.seq++, value });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  /** The time of the earliest event, or Infinity when empty. */
  peekTime(): number {
    return this.heap.length > 0 ? this.heap[0]!.at : Infinity;
  }

  pop(): { at: number; value: T } | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (!top) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
        i = smallest;
      }
    }
    return { at: top.at, value: top.value };
  }

  /** The pending events due before `horizon`, earliest first (in the order they will be popped). */
  before(horizon: number): { at: number; value: T }[] {
    return this.heap
      .filter((slot) => slot.at < horizon)
      .sort((a, b) => (before(a, b) ? -1 : 1))
      .map(({ at, value }) => ({ at, value }));
  }

  /** Every pending event, earliest first (for inspection and the playground's view of messages in flight). */
  values(): T[] {
    return [...this.heap].sort((a, b) => (before(a, b) ? -1 : 1)).map((slot) => slot.value);
  }
}

function before<T>(a: Slot<T>, b: Slot<T>): boolean {
  return a.at < b.at || (a.at === b.at && (a.rank < b.rank || (a.rank === b.rank && a.seq < b.seq)));
}
