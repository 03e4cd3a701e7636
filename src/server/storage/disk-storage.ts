// Durable storage of one Raft node process: MemoryStorage's semantics (src/sim/storage.ts) on disk.
//
// The data directory holds a write-ahead log in segments (wal-0000000000000001.log, ...), the latest snapshot
// (`snapshot`, replaced atomically through `snapshot.tmp`) and a LOCK file. `append` encodes a Ready's hard
// state, snapshot and entries and returns at once; `sync` makes everything appended so far durable with one
// write however many Readies it covers (group commit). The host sends a Ready's messages only after the `sync`
// that follows its `append` resolves (thesis §3.8).
//
// The active segment is opened with O_DSYNC, so a write returns once its data is durable: one system call
// instead of a write and an fdatasync. Its file is zero-filled ahead of the records, in the background, so that a
// record lands in blocks already allocated and the durable write needs no journal commit for the file's size
// (etcd preallocates its segments for the same reason). Recovery reads a zero tail as the clean end of the log;
// rotation and close cut it off.
import { constants } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { StoredState } from '../../core/raft-node.ts';
import type { Entry, HardState, Snapshot } from '../../core/types.ts';
import { lockDirectory, type DirectoryLock } from './lock-file.ts';
import {
  CorruptLogError,
  decodeEntries,
  encodeEntries,
  encodeJsonRecord,
  RecordType,
  scanRecords,
  type ScannedRecord,
  type SegmentHeader,
  type SnapshotFile,
  type SnapshotMarker,
  type SnapshotMarkerRecord,
} from './record.ts';
import { ReplayedLog } from './replayed-log.ts';

export const SNAPSHOT_FILE = 'snapshot';
export const SNAPSHOT_TEMP_FILE = 'snapshot.tmp';

export interface DiskStorageOptions {
  /** A new segment begins before a write would take the current one past this size (one write never splits). */
  readonly segmentBytes?: number;
  /** Bytes of records appended and not yet synced, at most: a bound on one group commit. */
  readonly pendingBytesMax?: number;
  /** Bytes zero-filled ahead of the records at a time (0: none). */
  readonly preallocateBytes?: number;
  /** Called with the duration of every durable write or fsync (log segment, snapshot, directory), for a histogram. */
  readonly onFsync?: (ms: number) => void;
  /** Recovery's notices: a torn tail cut off, a leftover snapshot.tmp removed, a stale lock taken over. */
  readonly onWarning?: (message: string) => void;
}

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_PENDING_BYTES_MAX = 256 * 1024 * 1024;
export const DEFAULT_PREALLOCATE_BYTES = 1024 * 1024;

/** The active segment's flags: every write is durable when it returns (where the platform has O_DSYNC). */
const SEGMENT_FLAGS = constants.O_RDWR | (constants.O_DSYNC ?? 0);
const WRITES_ARE_DURABLE = constants.O_DSYNC !== undefined;

/** The part of a Ready that storage keeps. */
export interface PersistRequest {
  readonly hardState: HardState | null;
  readonly snapshot: Snapshot | null;
  readonly entries: readonly Entry[];
}

export interface OpenedStorage {
  readonly storage: DiskStorage;
  /** What the node restarts from: the same as MemoryStorage.load() after the same durable Readies. */
  readonly stored: StoredState;
}

interface Segment {
  readonly sequence: number;
  readonly path: string;
  /** Bytes of records (the file may be longer: a zero-filled tail). */
  bytes: number;
  /** The highest entry index written in this segment (0: none): it may go once a snapshot covers this. */
  maxEntryIndex: number;
}

interface PendingRecord {
  readonly kind: 'record';
  readonly bytes: Buffer;
  readonly hardState?: HardState;
  readonly marker?: SnapshotMarker;
  readonly lastEntryIndex?: number;
}

interface PendingSnapshot {
  readonly kind: 'snapshot';
  readonly bytes: Buffer;
}

type Pending = PendingRecord | PendingSnapshot;

const SEGMENT_NAME = /^wal-(\d{16})\.log$/;

function segmentName(sequence: number): string {
  return `wal-${String(sequence).padStart(16, '0')}.log`;
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

async function removeIfExists(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
}

async function readIfExists(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
}

async function writeAll(handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, position + written);
    written += bytesWritten;
  }
}

function decodeJson<T>(record: ScannedRecord, file: string): T {
  try {
    return JSON.parse(record.payload.toString('utf8')) as T;
  } catch {
    throw new CorruptLogError(file, record.offset, 'the record passes its checksum but its JSON does not parse');
  }
}

export class DiskStorage {
  private readonly segmentBytes: number;
  private readonly pendingBytesMax: number;
  /** Set to 0 for good once a zero fill fails: records still go to the file, only slower. */
  private preallocateBytes: number;
  /** The active segment's file may hold zeros (or records) up to here, and no further. */
  private zeroedEnd: number;
  /** The zero fill under way, from `from` on: no record may be written there until it is done. */
  private zeroFill: { readonly from: number; readonly done: Promise<void> } | null = null;
  private readonly onFsync: (ms: number) => void;

  // What `append` has accepted (synced or not): enough to validate the next Ready as MemoryStorage would.
  private snapshotIndex: number;
  /** Terms of the entries after the snapshot. */
  private readonly terms: number[];
  private snapshotGeneration: number;

  // What the log on disk says so far: the header of a new segment repeats it.
  private writtenHardState: HardState;
  private writtenSnapshot: SnapshotMarker | null;

  private pending: Pending[] = [];
  private pendingBytes = 0;
  /** The flush that has taken its batch and is writing it, and the one that will take the next batch. */
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  /** After a failed write or fsync the log's state on disk is unknown: every later call fails with it. */
  private failure: Error | null = null;
  /** Set when close() begins: from then on append and sync refuse, so nothing slips in behind the last flush. */
  private closing: Promise<void> | null = null;
  private fsyncs = 0;

  private constructor(
    readonly dir: string,
    private readonly lock: DirectoryLock,
    private readonly segments: Segment[],
    private handle: FileHandle,
    replayed: ReplayedLog,
    writtenSnapshot: SnapshotMarker | null,
    options: DiskStorageOptions,
  ) {
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.pendingBytesMax = options.pendingBytesMax ?? DEFAULT_PENDING_BYTES_MAX;
    this.preallocateBytes = options.preallocateBytes ?? DEFAULT_PREALLOCATE_BYTES;
    this.zeroedEnd = segments[segments.length - 1]!.bytes;
    this.onFsync = options.onFsync ?? (() => {});
    this.snapshotIndex = replayed.base;
    this.terms = replayed.entries.map((entry) => entry.term);
    this.snapshotGeneration = replayed.snapshot?.generation ?? 0;
    this.writtenHardState = replayed.hardState;
    this.writtenSnapshot = writtenSnapshot;
  }

  /**
   * Lock `dir` (creating it if needed), replay its log and return what the node restarts from. A torn tail
   * of the last segment is cut off and reported to `onWarning`; corruption anywhere else throws
   * CorruptLogError naming the file and byte offset.
   */
  static async open(dir: string, options: DiskStorageOptions = {}): Promise<OpenedStorage> {
    const warn = options.onWarning ?? ((message: string) => console.warn(message));
    await mkdir(dir, { recursive: true });
    const lock = await lockDirectory(dir, warn);
    let handle: FileHandle | null = null;
    let recovered: Recovered;
    try {
      const tempPath = join(dir, SNAPSHOT_TEMP_FILE);
      if (await removeIfExists(tempPath)) warn(`storage: removed ${tempPath}, a snapshot whose write a crash interrupted`);

      const segments = await listSegments(dir);
      if (segments.length === 0) {
        const path = join(dir, segmentName(1));
        await (await open(path, 'wx')).close();
        await syncDirectory(dir, () => {});
        segments.push({ sequence: 1, path, bytes: 0, maxEntryIndex: 0 });
      }
      const replayed = new ReplayedLog();
      for (const [i, segment] of segments.entries()) {
        const last = i === segments.length - 1;
        const bytes = await readFile(segment.path);
        const scan = scanRecords(bytes, segment.path, last ? 'truncate' : 'refuse');
        replaySegment(scan.records, segment, replayed);
        segment.bytes = scan.validBytes;
        if (!last) continue;
        handle = await open(segment.path, SEGMENT_FLAGS);
        if (scan.validBytes < bytes.length) {
          await handle.truncate(scan.validBytes);
          await handle.sync();
          const torn = bytes.length - scan.validBytes;
          if (!scan.zeroTail) warn(`storage: cut off a torn tail of ${torn} bytes at byte ${scan.validBytes} of ${segment.path} (a write a crash interrupted)`);
        }
      }
      recovered = { segments, handle: handle!, ...(await reconcileSnapshot(dir, replayed)) };
    } catch (error) {
      await handle?.close();
      await lock.release();
      throw error;
    }

    const { segments, replayed, logSnapshot, snapshot, missingMarker } = recovered;
    const stored: StoredState = { hardState: replayed.hardState, snapshot, entries: replayed.entries };
    const storage = new DiskStorage(dir, lock, segments, recovered.handle, replayed, logSnapshot, options);
    if (missingMarker) {
      storage.queue({ kind: 'record', bytes: encodeJsonRecord(RecordType.snapshotMarker, missingMarker), marker: markerOf(missingMarker) });
      try {
        await storage.sync();
      } catch (error) {
        await storage.close();
        throw error;
      }
    }
    storage.preallocate();
    return { storage, stored };
  }

  /** How many fsyncs this storage has done (log, snapshot and directory). */
  get fsyncCount(): number {
    return this.fsyncs;
  }

  /** The segments' file names, oldest first. */
  segmentFiles(): string[] {
    return this.segments.map((segment) => segment.path);
  }

  lastIndex(): number {
    return this.snapshotIndex + this.terms.length;
  }

  /**
   * Queue a Ready's hard state, snapshot and entries, in that order, as MemoryStorage.persist applies them.
   * Nothing is durable until the next `sync` resolves. Throws, queueing nothing, when the entries do not
   * follow what is stored or a snapshot does not advance past the current one.
   */
  append(rd: PersistRequest): void {
    this.checkUsable();
    const { hardState, snapshot, entries } = rd;

    // Check everything before queueing anything: a Ready is accepted whole or not at all.
    let snapshotIndexAfter = this.snapshotIndex;
    let lastIndexAfter = this.lastIndex();
    let keep = false;
    if (snapshot) {
      if (snapshot.index <= this.snapshotIndex) {
        throw new Error(`storage: snapshot at ${snapshot.index} does not advance past the stored snapshot at ${this.snapshotIndex}`);
      }
      keep = this.termAt(snapshot.index) === snapshot.term;
      snapshotIndexAfter = snapshot.index;
      lastIndexAfter = keep ? lastIndexAfter : snapshot.index;
    }
    const first = entries[0];
    if (first) {
      if (first.index <= snapshotIndexAfter || first.index > lastIndexAfter + 1) {
        throw new Error(`storage: append at ${first.index} does not follow stored entries up to ${lastIndexAfter}`);
      }
      entries.forEach((entry, i) => {
        if (entry.index !== first.index + i) throw new Error(`storage: entry ${entry.index} follows entry ${first.index + i - 1} in one append`);
      });
    }

    const records: Pending[] = [];
    if (hardState) records.push({ kind: 'record', bytes: encodeJsonRecord(RecordType.hardState, hardState), hardState });
    if (snapshot) {
      const generation = this.snapshotGeneration + 1;
      const file: SnapshotFile = { generation, index: snapshot.index, term: snapshot.term, snapshot };
      const marker: SnapshotMarkerRecord = { generation, index: snapshot.index, term: snapshot.term, keep };
      records.push({ kind: 'snapshot', bytes: encodeJsonRecord(RecordType.snapshot, file) });
      records.push({ kind: 'record', bytes: encodeJsonRecord(RecordType.snapshotMarker, marker), marker: markerOf(marker) });
    }
    if (first) records.push({ kind: 'record', bytes: encodeEntries(entries), lastEntryIndex: first.index + entries.length - 1 });
    const recordBytes = records.reduce((sum, item) => sum + (item.kind === 'record' ? item.bytes.length : 0), 0);
    if (this.pendingBytes + recordBytes > this.pendingBytesMax) {
      throw new Error(`storage: ${this.pendingBytes + recordBytes} bytes would wait for sync, above pendingBytesMax ${this.pendingBytesMax}`);
    }

    for (const item of records) this.queue(item);
    if (snapshot) {
      this.snapshotGeneration++;
      if (keep) this.terms.splice(0, snapshot.index - this.snapshotIndex);
      else this.terms.length = 0;
      this.snapshotIndex = snapshot.index;
    }
    if (first) {
      this.terms.length = first.index - this.snapshotIndex - 1;
      for (const entry of entries) this.terms.push(entry.term);
    }
  }

  /**
   * Make everything appended so far durable. With the disk idle, the write starts before this returns, so a
   * caller can start its disk write first and do other work while it runs. Calls made while a flush is writing
   * share the next flush: one write for all of them (plus the snapshot file's, when a snapshot is among them).
   */
  sync(): Promise<void> {
    if (this.closing) return Promise.reject(this.closedError());
    return this.syncAppended();
  }

  private syncAppended(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.queued) return this.queued;
    if (this.pending.length === 0) return this.running ?? Promise.resolve();
    if (this.running === null) return this.startFlush();
    const queued = this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return this.startFlush();
      });
    this.queued = queued;
    return queued;
  }

  private startFlush(): Promise<void> {
    const running: Promise<void> = this.flush().finally(() => {
      if (this.running === running) this.running = null;
    });
    this.running = running;
    return running;
  }

  /** Sync what is appended, then release the files and the lock. */
  close(): Promise<void> {
    return (this.closing ??= this.shutDown());
  }

  private async shutDown(): Promise<void> {
    try {
      if (!this.failure) {
        await this.syncAppended();
        await this.cutZeroTail();
      }
    } finally {
      await this.zeroFill?.done;
      await this.handle.close();
      await this.lock.release();
    }
  }

  // ---- Internals -----------------------------------------------------------------------------------------

  private checkUsable(): void {
    if (this.closing) throw this.closedError();
    if (this.failure) throw this.failure;
  }

  private closedError(): Error {
    return new Error(`storage: ${this.dir} is closed`);
  }

  private termAt(index: number): number | undefined {
    return this.terms[index - this.snapshotIndex - 1];
  }

  private queue(item: Pending): void {
    this.pending.push(item);
    if (item.kind === 'record') this.pendingBytes += item.bytes.length;
  }

  private get activeSegment(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  private async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    try {
      // A snapshot file must be durable before the marker that follows it in the batch is written, and the
      // records before it (the same Ready's hard state) before the file: write the batch in runs between them.
      let run: PendingRecord[] = [];
      for (const item of batch) {
        if (item.kind === 'record') {
          run.push(item);
          continue;
        }
        await this.writeRecords(run);
        run = [];
        await this.writeSnapshotFile(item.bytes);
      }
      await this.writeRecords(run);
      await this.deleteCoveredSegments();
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
      throw this.failure;
    }
  }

  private async writeRecords(run: readonly PendingRecord[]): Promise<void> {
    if (run.length === 0) return;
    const recordBytes = run.reduce((sum, record) => sum + record.bytes.length, 0);
    if (this.activeSegment.bytes > 0 && this.activeSegment.bytes + recordBytes > this.segmentBytes) await this.rotate();
    const segment = this.activeSegment;
    const parts: Buffer[] = [];
    if (segment.bytes === 0) {
      const header: SegmentHeader = { hardState: this.writtenHardState, snapshot: this.writtenSnapshot };
      parts.push(encodeJsonRecord(RecordType.segmentHeader, header));
    }
    for (const record of run) parts.push(record.bytes);
    const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    if (this.zeroFill && segment.bytes + bytes.length > this.zeroFill.from) await this.zeroFill.done;
    const start = performance.now();
    await writeAll(this.handle, bytes, segment.bytes);
    if (!WRITES_ARE_DURABLE) await this.handle.datasync();
    this.observeFsync(performance.now() - start);
    segment.bytes += bytes.length;
    this.zeroedEnd = Math.max(this.zeroedEnd, segment.bytes);
    for (const record of run) {
      if (record.hardState) this.writtenHardState = record.hardState;
      if (record.marker) this.writtenSnapshot = record.marker;
      if (record.lastEntryIndex !== undefined) segment.maxEntryIndex = Math.max(segment.maxEntryIndex, record.lastEntryIndex);
    }
    this.preallocate();
  }

  /** Start zero-filling the next stretch of the active segment when the records come near the end of the last. */
  private preallocate(): void {
    const segment = this.activeSegment;
    if (this.preallocateBytes === 0 || this.zeroFill !== null || this.zeroedEnd - segment.bytes >= this.preallocateBytes) return;
    const from = Math.max(this.zeroedEnd, segment.bytes);
    const to = Math.min(from + 2 * this.preallocateBytes, this.segmentBytes);
    if (to <= from) return;
    // Failed or not, the file may now hold zeros up to `to`, which rotation and close must cut off; after a
    // failure records still go to the file, only without space filled ahead.
    const done = writeAll(this.handle, zeros(to - from), from)
      .catch(() => {
        this.preallocateBytes = 0;
      })
      .then(() => {
        this.zeroedEnd = Math.max(this.zeroedEnd, to);
        this.zeroFill = null;
      });
    this.zeroFill = { from, done };
  }

  /** Cut the active segment's file back to its records: a segment left behind, or closed, has no zero tail. */
  private async cutZeroTail(): Promise<void> {
    await this.zeroFill?.done;
    const segment = this.activeSegment;
    if (this.zeroedEnd <= segment.bytes) return;
    await this.handle.truncate(segment.bytes);
    await this.fsync(this.handle);
    this.zeroedEnd = segment.bytes;
  }

  private async rotate(): Promise<void> {
    await this.cutZeroTail();
    const sequence = this.activeSegment.sequence + 1;
    const path = join(this.dir, segmentName(sequence));
    const handle = await open(path, constants.O_CREAT | constants.O_EXCL | SEGMENT_FLAGS);
    await this.handle.close();
    this.handle = handle;
    this.zeroedEnd = 0;
    this.segments.push({ sequence, path, bytes: 0, maxEntryIndex: 0 });
    await syncDirectory(this.dir, (ms) => this.observeFsync(ms));
  }

  /** Write to snapshot.tmp, fsync it, rename it over the snapshot, fsync the directory: all or nothing. */
  private async writeSnapshotFile(bytes: Buffer): Promise<void> {
    const tempPath = join(this.dir, SNAPSHOT_TEMP_FILE);
    const handle = await open(tempPath, 'w');
    try {
      await writeAll(handle, bytes, 0);
      await this.fsync(handle);
    } finally {
      await handle.close();
    }
    await rename(tempPath, join(this.dir, SNAPSHOT_FILE));
    await syncDirectory(this.dir, (ms) => this.observeFsync(ms));
  }

  /**
   * Delete the oldest segments whose entries are all at or below the durable snapshot's index. The segment
   * after a deleted one must hold its durable header, which restates the hard state and snapshot.
   */
  private async deleteCoveredSegments(): Promise<void> {
    const covered = this.writtenSnapshot?.index ?? 0;
    while (this.segments.length > 1 && this.segments[0]!.maxEntryIndex <= covered && this.segments[1]!.bytes > 0) {
      // One at a time, oldest first, each removal durable before the next: a crash never leaves a gap.
      await unlink(this.segments[0]!.path);
      await syncDirectory(this.dir, (ms) => this.observeFsync(ms));
      this.segments.shift();
    }
  }

  private async fsync(handle: FileHandle): Promise<void> {
    const start = performance.now();
    await handle.sync();
    this.observeFsync(performance.now() - start);
  }

  private observeFsync(ms: number): void {
    this.fsyncs++;
    this.onFsync(ms);
  }
}

let zeroBytes = Buffer.alloc(0);

/** `length` zero bytes, from one buffer that is only ever read. */
function zeros(length: number): Buffer {
  if (zeroBytes.length < length) zeroBytes = Buffer.alloc(length);
  return zeroBytes.subarray(0, length);
}

function markerOf(marker: SnapshotMarker): SnapshotMarker {
  return { generation: marker.generation, index: marker.index, term: marker.term };
}

async function syncDirectory(dir: string, observe: (ms: number) => void): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    const start = performance.now();
    await handle.sync();
    observe(performance.now() - start);
  } finally {
    await handle.close();
  }
}

/** The segments, oldest first; a missing one between two others is corruption. */
async function listSegments(dir: string): Promise<Segment[]> {
  const segments: Segment[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const match = SEGMENT_NAME.exec(name);
    if (match) segments.push({ sequence: Number(match[1]), path: join(dir, name), bytes: 0, maxEntryIndex: 0 });
  }
  for (let i = 1; i < segments.length; i++) {
    const expected = segments[i - 1]!.sequence + 1;
    if (segments[i]!.sequence !== expected) {
      throw new CorruptLogError(join(dir, segmentName(expected)), null, `it is missing, between ${segments[i - 1]!.path} and ${segments[i]!.path}`);
    }
  }
  return segments;
}

function replaySegment(records: readonly ScannedRecord[], segment: Segment, replayed: ReplayedLog): void {
  records.forEach((record, i) => {
    if ((i === 0) !== (record.type === RecordType.segmentHeader)) {
      throw new CorruptLogError(segment.path, record.offset, i === 0 ? 'the segment does not begin with a header' : 'a segment header appears after the first record');
    }
    switch (record.type) {
      case RecordType.segmentHeader:
        replayed.applyHeader(decodeJson<SegmentHeader>(record, segment.path));
        break;
      case RecordType.hardState:
        replayed.setHardState(decodeJson<HardState>(record, segment.path));
        break;
      case RecordType.snapshotMarker:
        replayed.saveSnapshot(decodeJson<SnapshotMarkerRecord>(record, segment.path));
        break;
      case RecordType.entries: {
        let entries: Entry[];
        try {
          entries = decodeEntries(record.payload);
        } catch (error) {
          throw new CorruptLogError(segment.path, record.offset, `the record passes its checksum but ${(error as Error).message}`);
        }
        replayed.append(entries);
        const last = entries[entries.length - 1];
        if (last) segment.maxEntryIndex = Math.max(segment.maxEntryIndex, last.index);
        break;
      }
      default:
        throw new CorruptLogError(segment.path, record.offset, `a record of type ${record.type} does not belong in a log segment`);
    }
  });
}

interface Recovered {
  readonly segments: Segment[];
  readonly handle: FileHandle;
  readonly replayed: ReplayedLog;
  /** The latest snapshot the log records (before any marker the open adds). */
  readonly logSnapshot: SnapshotMarker | null;
  readonly snapshot: Snapshot | null;
  /** The marker a crash kept out of the log, to be written before the storage is used. */
  readonly missingMarker: SnapshotMarkerRecord | null;
}

/**
 * Match the snapshot file with the log. The file is written and made durable before the marker that records
 * it in the log, so it holds the log's latest snapshot or, after a crash between the two, the one after it:
 * then the replay takes that snapshot last, as MemoryStorage would have, and the open records it in the log.
 */
async function reconcileSnapshot(dir: string, replayed: ReplayedLog): Promise<Omit<Recovered, 'segments' | 'handle'>> {
  const path = join(dir, SNAPSHOT_FILE);
  const file = await readSnapshotFile(path);
  const logSnapshot = replayed.snapshot;
  const logGeneration = logSnapshot?.generation ?? 0;
  let missingMarker: SnapshotMarkerRecord | null = null;
  if (file === null) {
    if (logSnapshot) throw new CorruptLogError(path, null, `it is missing, but the log records snapshot ${logGeneration} at index ${logSnapshot.index}`);
  } else if (file.generation === logGeneration + 1) {
    missingMarker = { ...markerOf(file), keep: replayed.agrees(file.index, file.term) };
    replayed.saveSnapshot(missingMarker);
  } else if (file.generation !== logGeneration || file.index !== logSnapshot?.index || file.term !== logSnapshot.term) {
    const inLog = logSnapshot ? `snapshot ${logGeneration} at index ${logSnapshot.index} term ${logSnapshot.term}` : 'no snapshot';
    throw new CorruptLogError(path, null, `it holds snapshot ${file.generation} at index ${file.index} term ${file.term}, but the log records ${inLog}`);
  }
  const snapshotIndex = file?.index ?? 0;
  if (replayed.base !== snapshotIndex) {
    throw new Error(`storage: the replay of ${dir} ends with entries after index ${replayed.base}, not after the snapshot at ${snapshotIndex}`);
  }
  return { replayed, logSnapshot, snapshot: file?.snapshot ?? null, missingMarker };
}

async function readSnapshotFile(path: string): Promise<SnapshotFile | null> {
  const bytes = await readIfExists(path);
  if (bytes === null) return null;
  const { records } = scanRecords(bytes, path, 'refuse');
  const record = records[0];
  if (records.length !== 1 || record?.type !== RecordType.snapshot) {
    throw new CorruptLogError(path, null, `it holds ${records.length} records instead of one snapshot record`);
  }
  return decodeJson<SnapshotFile>(record, path);
}
