// The state a replay of the write-ahead log rebuilds, record by record, with MemoryStorage's semantics.
//
// Segments wholly covered by a snapshot are deleted, so a replay may begin after entries it never sees. It
// begins from the first remaining segment's header (hard state and snapshot then in force) and knows no
// entries yet. An append that does not follow what the replay knows therefore follows entries in a deleted
// segment: the replay starts its known entries afresh there. Deleted segments hold only entries at or below
// a durable snapshot's index, and snapshot indexes only grow, so every entry the final state keeps (those
// after the last snapshot) was written in a segment that remains: the result is the same as a full replay.
import { EMPTY_STORAGE } from '../../core/raft-node.ts';
import type { Entry, HardState } from '../../core/types.ts';
import type { SegmentHeader, SnapshotMarker, SnapshotMarkerRecord } from './record.ts';

export class ReplayedLog {
  hardState: HardState = EMPTY_STORAGE.hardState;
  snapshot: SnapshotMarker | null = null;
  /** The index just before `entries[0]`: the snapshot's index, or past it when the replay began past it. */
  base = 0;
  entries: Entry[] = [];
  private started = false;

  /**
   * The first segment's header starts the replay: everything known at first comes from it. Later headers
   * restate what the replay already holds.
   */
  applyHeader(header: SegmentHeader): void {
    if (this.started) return;
    this.started = true;
    this.hardState = header.hardState;
    this.snapshot = header.snapshot;
    this.base = header.snapshot?.index ?? 0;
    this.entries = [];
  }

  setHardState(hardState: HardState): void {
    this.hardState = hardState;
  }

  /** An append at `entries[0].index` replaces everything from there on. */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (!first) return;
    const keep = first.index - 1 - this.base;
    if (keep < 0 || keep > this.entries.length) {
      this.base = first.index - 1;
      this.entries = entries.slice();
      return;
    }
    this.entries.length = keep;
    for (const entry of entries) this.entries.push(entry);
  }

  /** Whether the entry at `index` is known and has `term` (Figure 13: then the entries after it stay). */
  agrees(index: number, term: number): boolean {
    const at = index - this.base - 1;
    return at >= 0 && at < this.entries.length && this.entries[at]!.term === term;
  }

  saveSnapshot(marker: SnapshotMarkerRecord): void {
    const drop = marker.index - this.base;
    if (!marker.keep) {
      this.entries = [];
      this.base = marker.index;
    } else if (drop >= 0) {
      this.entries = this.entries.slice(drop);
      this.base = marker.index;
    }
    // Kept, with every known entry after it (the replay began past it, in a segment after deleted ones): the
    // entries stay as they are. Emptying them would lose entries that were synced and acknowledged.
    this.snapshot = { generation: marker.generation, index: marker.index, term: marker.term };
  }
}
