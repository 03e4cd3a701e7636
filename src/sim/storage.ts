// Simulated stable storage of one node: what survives a crash. Each write is atomic.
import type { Entry, HardState } from '../core/types.ts';
import { EMPTY_STORAGE, type Ready, type StoredState } from '../core/raft-node.ts';

export class MemoryStorage {
  hardState: HardState = EMPTY_STORAGE.hardState;
  entries: Entry[] = [];
  snapshotIndex = 0;
  snapshotTerm = 0;

  /** Make a Ready's hard state and entries durable (thesis §3.8: before its messages leave). */
  persist(rd: Ready): void {
    if (rd.hardState) this.hardState = rd.hardState;
    const first = rd.entries[0];
    if (!first) return;
    // Storage holds entries snapshotIndex+1 .. ; an append at `first.index` replaces everything from there on.
    const keep = first.index - this.snapshotIndex - 1;
    if (keep < 0 || keep > this.entries.length) {
      throw new Error(`storage: append at ${first.index} does not follow stored entries up to ${this.lastIndex()}`);
    }
    this.entries.length = keep;
    for (const entry of rd.entries) this.entries.push(entry);
  }

  lastIndex(): number {
    return this.snapshotIndex + this.entries.length;
  }

  load(): StoredState {
    return { hardState: this.hardState, entries: this.entries.slice(), snapshotIndex: this.snapshotIndex, snapshotTerm: this.snapshotTerm };
  }
}
