// Simulated stable storage of one node: what survives a crash. Each write is atomic: a crash happens between
// simulated events, never inside a write, so a snapshot is either entirely saved or not at all.
import type { Entry, HardState, Snapshot } from '../core/types.ts';
import { EMPTY_STORAGE, type Ready, type StoredState } from '../core/raft-node.ts';

export class MemoryStorage {
  hardState: HardState = EMPTY_STORAGE.hardState;
  snapshot: Snapshot | null = null;
  /** Entries after the snapshot. */
  entries: Entry[] = [];

  get snapshotIndex(): number {
    return this.snapshot?.index ?? 0;
  }

  /** Make a Ready's hard state, snapshot and entries durable (thesis §3.8: before its messages leave). */
  persist(rd: Pick<Ready, 'hardState' | 'snapshot' | 'entries'>): void {
    if (rd.hardState) this.hardState = rd.hardState;
    if (rd.snapshot) this.saveSnapshot(rd.snapshot);
    const first = rd.entries[0];
    if (!first) return;
    // An append at `first.index` replaces everything stored from there on.
    const keep = first.index - this.snapshotIndex - 1;
    if (keep < 0 || keep > this.entries.length) {
      throw new Error(`storage: append at ${first.index} does not follow stored entries up to ${this.lastIndex()}`);
    }
    this.entries.length = keep;
    for (const entry of rd.entries) this.entries.push(entry);
  }

  /** Keep the entries after the snapshot only if ours agree with it at its index (Figure 13). */
  private saveSnapshot(snapshot: Snapshot): void {
    const at = snapshot.index - this.snapshotIndex - 1;
    const agrees = at >= 0 && at < this.entries.length && this.entries[at]!.term === snapshot.term;
    this.entries = agrees ? this.entries.slice(at + 1) : [];
    this.snapshot = snapshot;
  }

  get snapshotTerm(): number {
    return this.snapshot?.term ?? 0;
  }

  /** The stored entry at `index`, if it is after the snapshot. */
  entryAt(index: number): Entry | undefined {
    return this.entries[index - this.snapshotIndex - 1];
  }

  lastIndex(): number {
    return this.snapshotIndex + this.entries.length;
  }

  load(): StoredState {
    return { hardState: this.hardState, snapshot: this.snapshot, entries: this.entries.slice() };
  }
}
