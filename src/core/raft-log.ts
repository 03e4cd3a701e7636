// The in-memory log of one node. Entries before `firstIndex` are compacted away: only the index and term of
// the last compacted entry remain (`snapshotIndex`, `snapshotTerm`), which is all the consistency check needs.
// The log only ever changes by appending at the end or truncating a suffix; nothing else rewrites it.
import type { Entry } from './types.ts';

export class RaftLog {
  private entries: Entry[];
  private snapshotIndexValue: number;
  private snapshotTermValue: number;
  /** Entries at or after this index have not yet been handed to the host for persistence. */
  private unstableFromIndex: number;

  constructor(snapshotIndex: number, snapshotTerm: number, stableEntries: readonly Entry[]) {
    this.snapshotIndexValue = snapshotIndex;
    this.snapshotTermValue = snapshotTerm;
    this.entries = [];
    for (const entry of stableEntries) {
      if (entry.index <= snapshotIndex) continue;
      if (entry.index !== snapshotIndex + this.entries.length + 1) {
        throw new Error(`stored log has a gap: entry ${entry.index} after ${snapshotIndex + this.entries.length}`);
      }
      this.entries.push(entry);
    }
    this.unstableFromIndex = this.lastIndex() + 1;
  }

  get snapshotIndex(): number {
    return this.snapshotIndexValue;
  }

  get snapshotTerm(): number {
    return this.snapshotTermValue;
  }

  firstIndex(): number {
    return this.snapshotIndexValue + 1;
  }

  lastIndex(): number {
    return this.snapshotIndexValue + this.entries.length;
  }

  lastTerm(): number {
    return this.termAt(this.lastIndex())!;
  }

  /** The term of the entry at `index`; undefined when it is compacted away or beyond the end. */
  termAt(index: number): number | undefined {
    if (index === this.snapshotIndexValue) return this.snapshotTermValue;
    if (index < this.snapshotIndexValue || index > this.lastIndex()) return undefined;
    return this.entries[index - this.snapshotIndexValue - 1]!.term;
  }

  entryAt(index: number): Entry | undefined {
    if (index <= this.snapshotIndexValue || index > this.lastIndex()) return undefined;
    return this.entries[index - this.snapshotIndexValue - 1];
  }

  /** Entries in [from, to], at most `maxCount` of them and about `maxBytes` of data (at least one entry). */
  slice(from: number, to: number, maxCount = Infinity, maxBytes = Infinity): Entry[] {
    if (from < this.firstIndex()) throw new Error(`slice from ${from}: compacted below ${this.firstIndex()}`);
    const end = Math.min(to, this.lastIndex(), from + maxCount - 1);
    const result: Entry[] = [];
    let bytes = 0;
    for (let index = from; index <= end; index++) {
      const entry = this.entries[index - this.snapshotIndexValue - 1]!;
      bytes += entry.data.length;
      if (result.length > 0 && bytes > maxBytes) break;
      result.push(entry);
    }
    return result;
  }

  /**
   * §5.4.1: is a log ending at (lastTerm, lastIndex) at least as up-to-date as ours? Compare the last terms;
   * with equal terms, the longer log wins.
   */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /** Does our entry at `index` have `term`? (The AppendEntries consistency check, §5.3.) */
  matches(index: number, term: number): boolean {
    return this.termAt(index) === term;
  }

  /** The first index holding `term`, scanning back from `index` (fast backup). */
  firstIndexOfTerm(term: number, index: number): number {
    let first = index;
    while (first - 1 >= this.firstIndex() && this.termAt(first - 1) === term) first--;
    return first;
  }

  /** The last index at or below `index` whose term is `term`, or 0 when there is none. */
  lastIndexOfTerm(term: number, index: number): number {
    for (let i = Math.min(index, this.lastIndex()); i >= this.firstIndex(); i--) {
      const t = this.termAt(i)!;
      if (t === term) return i;
      if (t < term) return 0; // terms only grow along a log
    }
    return 0;
  }

  append(entry: Entry): void {
    if (entry.index !== this.lastIndex() + 1) {
      throw new Error(`append of entry ${entry.index} after last index ${this.lastIndex()}`);
    }
    if (entry.term < this.lastTerm()) {
      throw new Error(`append of entry in term ${entry.term} after term ${this.lastTerm()}`);
    }
    this.entries.push(entry);
  }

  /** Remove every entry at or after `index`. */
  truncateFrom(index: number): void {
    if (index <= this.snapshotIndexValue) throw new Error(`truncate at ${index}: at or below the snapshot`);
    if (index > this.lastIndex()) return;
    this.entries.length = index - this.snapshotIndexValue - 1;
    this.unstableFromIndex = Math.min(this.unstableFromIndex, index);
  }

  /**
   * Discard entries up to `index`, which a snapshot now covers (§7). Entries after it stay: a snapshot taken
   * here, or one received whose last entry matches ours (Figure 13, step 6).
   */
  compactTo(index: number): void {
    const term = this.termAt(index);
    if (term === undefined) throw new Error(`compact to ${index}: no such entry (log holds ${this.snapshotIndexValue}..${this.lastIndex()})`);
    if (index === this.snapshotIndexValue) return;
    this.entries = this.entries.slice(index - this.snapshotIndexValue);
    this.snapshotIndexValue = index;
    this.snapshotTermValue = term;
    this.unstableFromIndex = Math.max(this.unstableFromIndex, index + 1);
  }

  /** Replace the whole log by a snapshot's position: nothing of ours agrees with it (Figure 13, step 7). */
  resetTo(index: number, term: number): void {
    this.entries = [];
    this.snapshotIndexValue = index;
    this.snapshotTermValue = term;
    this.unstableFromIndex = index + 1;
  }

  /** Entries the host has not been given yet to persist. */
  unstableEntries(): Entry[] {
    if (this.unstableFromIndex > this.lastIndex()) return [];
    return this.entries.slice(this.unstableFromIndex - this.snapshotIndexValue - 1);
  }

  /** The host made entries up to (index, term) durable; ignored if the log changed under it since. */
  stableTo(index: number, term: number): void {
    if (this.termAt(index) === term && index >= this.unstableFromIndex) this.unstableFromIndex = index + 1;
  }
}
