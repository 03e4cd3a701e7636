// Durable storage on real files, with MemoryStorage (src/sim/storage.ts) as the oracle: after the same Readies,
// reopening the directory must load what MemoryStorage loads. Each test works in its own temporary directory.
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Ready } from '../../core/raft-node.ts';
import type { Entry, HardState, Snapshot } from '../../core/types.ts';
import { MemoryStorage } from '../../sim/storage.ts';
import { DiskStorage, SNAPSHOT_FILE, SNAPSHOT_TEMP_FILE, type DiskStorageOptions, type OpenedStorage, type PersistRequest } from './disk-storage.ts';
import { DirectoryLockedError, LOCK_FILE } from './lock-file.ts';
import { CorruptLogError, scanRecords } from './record.ts';

// ---- Helpers ------------------------------------------------------------------------------------------------

const directories: string[] = [];
const opened: DiskStorage[] = [];
let warnings: string[] = [];

afterEach(async () => {
  for (const storage of opened.splice(0)) await storage.close().catch(() => undefined);
  for (const dir of directories.splice(0)) await rm(dir, { recursive: true, force: true });
  warnings = [];
});

async function makeTempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'raft-storage-'));
  directories.push(dir);
  return dir;
}

async function openStorage(dir: string, options: DiskStorageOptions = {}): Promise<OpenedStorage> {
  const result = await DiskStorage.open(dir, { onWarning: (message) => warnings.push(message), ...options });
  opened.push(result.storage);
  return result;
}

function entry(index: number, term: number, data = `command ${index}`): Entry {
  return { index, term, type: 'command', data };
}

function entries(first: number, last: number, term: number, data?: string): Entry[] {
  const list: Entry[] = [];
  for (let index = first; index <= last; index++) list.push(entry(index, term, data));
  return list;
}

function snapshotAt(index: number, term: number): Snapshot {
  return { index, term, config: { voters: [1, 2, 3], learners: [] }, data: `machine as of ${index}` };
}

function readyOf(request: Partial<PersistRequest>): Ready {
  return {
    hardState: request.hardState ?? null,
    snapshot: request.snapshot ?? null,
    entries: request.entries ?? [],
    messages: [],
    committedEntries: [],
    readStates: [],
    events: [],
  };
}

/** Give both the storage under test and the oracle the same Ready. */
function persistBoth(storage: DiskStorage, oracle: MemoryStorage, request: Partial<PersistRequest>): void {
  const rd = readyOf(request);
  oracle.persist(rd);
  storage.append(rd);
}

function copyOf(oracle: MemoryStorage): MemoryStorage {
  const copy = new MemoryStorage();
  copy.hardState = oracle.hardState;
  copy.snapshot = oracle.snapshot;
  copy.entries = oracle.entries.slice();
  return copy;
}

async function segmentNames(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.startsWith('wal-')).sort();
}

/** The directory as a crash would leave it: the files as they are now, and a lock whose process is gone. */
async function copyAsAfterCrash(dir: string): Promise<string> {
  const copy = await makeTempDir();
  await cp(dir, copy, { recursive: true, filter: (source) => !source.endsWith(LOCK_FILE) });
  return copy;
}

type Write = (this: unknown, buffer: Buffer, offset: number, length: number, position: number) => Promise<unknown>;

/** Stand in for FileHandle.write (a disk that is slow or fails) until the returned undo is called. */
async function interceptWrites(make: (write: Write) => Write): Promise<() => void> {
  const probe = await open(join(await makeTempDir(), 'probe'), 'w');
  const handleClass = Object.getPrototypeOf(probe) as { write: Write };
  await probe.close();
  const write = handleClass.write;
  handleClass.write = make(write);
  return () => {
    handleClass.write = write;
  };
}

function isZeroFill(buffer: Buffer, offset: number, length: number): boolean {
  return length > 64 && buffer.subarray(offset, offset + length).every((byte) => byte === 0);
}

/** A message is one sentence: once the file name is taken out, its only full stop ends it. */
function expectOneSentence(message: string, file: string): void {
  expect(message.replaceAll(file, 'FILE').match(/[.!?]/g)).toEqual(['.']);
  expect(message.endsWith('.')).toBe(true);
}

async function openError(dir: string): Promise<unknown> {
  try {
    await openStorage(dir);
  } catch (error) {
    return error;
  }
  throw new Error(`opening ${dir} succeeded`);
}

// ---- Round trip against the oracle --------------------------------------------------------------------------

describe('round trip', () => {
  it('a fresh directory loads as empty storage', async () => {
    const dir = await makeTempDir();
    const { stored } = await openStorage(dir);
    expect(stored).toEqual(new MemoryStorage().load());
  });

  it('appends, a truncating append, hard states and a snapshot load back as MemoryStorage holds them', async () => {
    const dir = await makeTempDir();
    const oracle = new MemoryStorage();
    const { storage } = await openStorage(dir);
    persistBoth(storage, oracle, { hardState: { term: 1, votedFor: 1 }, entries: entries(1, 5, 1) });
    persistBoth(storage, oracle, { hardState: { term: 2, votedFor: 3 } });
    persistBoth(storage, oracle, { entries: entries(4, 8, 2) }); // replaces 4 and 5
    persistBoth(storage, oracle, { snapshot: snapshotAt(6, 2), entries: entries(9, 9, 2) }); // keeps 7 and 8
    await storage.sync();
    await storage.close();

    const { stored } = await openStorage(dir);
    expect(stored).toEqual(oracle.load());
    expect(stored.entries.map((e) => e.index)).toEqual([7, 8, 9]);
  });

  it('refuses, queueing nothing, an append that does not follow the stored entries, as MemoryStorage does', async () => {
    const dir = await makeTempDir();
    const { storage } = await openStorage(dir);
    storage.append(readyOf({ entries: entries(1, 3, 1) }));
    const gap = readyOf({ hardState: { term: 5, votedFor: 2 }, entries: entries(5, 5, 1) });
    expect(() => new MemoryStorage().persist(gap)).toThrow('storage: append at 5 does not follow stored entries up to 0');
    expect(() => storage.append(gap)).toThrow('storage: append at 5 does not follow stored entries up to 3');
    await storage.close();
    const { stored } = await openStorage(dir);
    expect(stored.hardState).toEqual({ term: 0, votedFor: 0 });
    expect(stored.entries).toHaveLength(3);
  });

  it('refuses a snapshot that does not advance past the stored one', async () => {
    const dir = await makeTempDir();
    const { storage } = await openStorage(dir);
    storage.append(readyOf({ entries: entries(1, 5, 1) }));
    storage.append(readyOf({ snapshot: snapshotAt(3, 1) }));
    expect(() => storage.append(readyOf({ snapshot: snapshotAt(3, 1) }))).toThrow('storage: snapshot at 3 does not advance past the stored snapshot at 3');
  });

  // Random Readies, synced now and then; now and then the process closes and reopens, or crashes (the
  // directory as it is, without what was appended since the last sync). Small segments, so that rotation
  // and the deletion of covered segments happen often.
  const stepArbitrary = fc.record({
    hardState: fc.option(fc.record({ term: fc.integer({ min: 0, max: 9 }), votedFor: fc.integer({ min: 0, max: 5 }) }), { freq: 3 }),
    snapshot: fc.option(fc.record({ at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), matchTerm: fc.boolean(), term: fc.integer({ min: 1, max: 9 }) }), { freq: 4 }),
    entries: fc.option(
      fc.record({
        at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        term: fc.integer({ min: 1, max: 9 }),
        data: fc.array(fc.string({ unit: 'binary', maxLength: 40 }), { minLength: 1, maxLength: 5 }),
      }),
      { freq: 5, nil: null },
    ),
    after: fc.constantFrom('none', 'none', 'sync', 'sync', 'sync', 'reopen', 'crash'),
  });

  it('reopening loads what MemoryStorage holds after the same Readies, through rotations, deletions and crashes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArbitrary, { minLength: 1, maxLength: 25 }), fc.constantFrom(0, 40, 1024), async (steps, preallocateBytes) => {
        let dir = await makeTempDir();
        const options: DiskStorageOptions = { segmentBytes: 300, preallocateBytes };
        let storage = (await openStorage(dir, options)).storage;
        let oracle = new MemoryStorage();
        let durable = copyOf(oracle);
        for (const step of steps) {
          const hardState: HardState | null = step.hardState;
          let snapshot: Snapshot | null = null;
          if (step.snapshot) {
            // An index after the stored snapshot, up to one past the last entry.
            const low = oracle.snapshotIndex + 1;
            const index = low + Math.floor(step.snapshot.at * (oracle.lastIndex() + 2 - low));
            const stored = oracle.entries[index - oracle.snapshotIndex - 1];
            snapshot = snapshotAt(index, step.snapshot.matchTerm && stored ? stored.term : step.snapshot.term);
          }
          // The entries follow the state after the snapshot, as in one Ready.
          oracle.persist(readyOf({ hardState, snapshot }));
          let appended: Entry[] = [];
          if (step.entries) {
            const low = oracle.snapshotIndex + 1;
            const first = low + Math.floor(step.entries.at * (oracle.lastIndex() + 2 - low));
            appended = step.entries.data.map((data, i) => entry(first + i, step.entries!.term, data));
            oracle.persist(readyOf({ entries: appended }));
          }
          storage.append(readyOf({ hardState, snapshot, entries: appended }));
          expect(storage.lastIndex()).toBe(oracle.lastIndex());

          if (step.after === 'sync') {
            await storage.sync();
            durable = copyOf(oracle);
          } else if (step.after === 'reopen') {
            await storage.close();
            const reopened = await openStorage(dir, options);
            expect(reopened.stored).toEqual(oracle.load());
            storage = reopened.storage;
            durable = copyOf(oracle);
          } else if (step.after === 'crash') {
            dir = await copyAsAfterCrash(dir);
            const reopened = await openStorage(dir, options);
            expect(reopened.stored).toEqual(durable.load());
            storage = reopened.storage;
            oracle = copyOf(durable);
          }
        }
        await storage.close();
        expect((await openStorage(dir, options)).stored).toEqual(oracle.load());
      }),
      { numRuns: 40 },
    );
  });
});

// ---- Group commit -----------------------------------------------------------------------------------------

describe('snapshots behind the log', () => {
  it('a snapshot below the first entry of the first remaining segment keeps every entry after it', async () => {
    // The state machine lags the log: snapshots land below entries that a rotation already moved to segment 2.
    const dir = await makeTempDir();
    const { storage } = await openStorage(dir, { segmentBytes: 12_000 });
    storage.append(readyOf({ hardState: { term: 1, votedFor: 1 }, entries: entries(1, 10, 1, 'x'.repeat(1000)) }));
    await storage.sync();
    storage.append(readyOf({ entries: entries(11, 20, 1, 'y'.repeat(200)) }));
    await storage.sync();
    storage.append(readyOf({ snapshot: snapshotAt(5, 1) }));
    await storage.sync();
    storage.append(readyOf({ snapshot: snapshotAt(12, 1) })); // lets the first segment go
    await storage.sync();
    expect(storage.lastIndex()).toBe(20);
    await storage.close();
    const reopened = await openStorage(dir, { segmentBytes: 12_000 });
    expect(reopened.stored.snapshot?.index).toBe(12);
    expect(reopened.stored.entries.map((e) => e.index)).toEqual([13, 14, 15, 16, 17, 18, 19, 20]);
  });
});

describe('group commit', () => {
  it('appends before a sync share one durable write, and all are durable', async () => {
    const dir = await makeTempDir();
    const { storage } = await openStorage(dir);
    const before = storage.fsyncCount;
    for (let index = 1; index <= 100; index++) {
      storage.append(readyOf({ hardState: { term: index, votedFor: 1 }, entries: [entry(index, index)] }));
    }
    await storage.sync();
    expect(storage.fsyncCount - before).toBe(1);
    await storage.close();
    const { stored } = await openStorage(dir);
    expect(stored.entries.map((e) => e.index)).toEqual(entries(1, 100, 0).map((e) => e.index));
    expect(stored.hardState).toEqual({ term: 100, votedFor: 1 });
  });

  it('syncs asked for while a flush is writing wait for it and then share the next one', async () => {
    const dir = await makeTempDir();
    const { storage } = await openStorage(dir);
    const before = storage.fsyncCount;
    storage.append(readyOf({ entries: [entry(1, 1)] }));
    const first = storage.sync(); // the disk is idle: this write has begun
    const later: Promise<void>[] = [];
    for (let index = 2; index <= 50; index++) {
      storage.append(readyOf({ entries: [entry(index, 1)] }));
      later.push(storage.sync());
    }
    await Promise.all([first, ...later]);
    expect(storage.fsyncCount - before).toBe(2);
    await storage.close();
    expect((await openStorage(dir)).stored.entries).toHaveLength(50);
  });

  it('appends beyond pendingBytesMax without a sync are refused, naming the limit', async () => {
    const dir = await makeTempDir();
    const { storage } = await openStorage(dir, { pendingBytesMax: 1000 });
    storage.append(readyOf({ entries: [entry(1, 1, 'a'.repeat(600))] }));
    expect(() => storage.append(readyOf({ entries: [entry(2, 1, 'b'.repeat(600))] }))).toThrow(/above pendingBytesMax 1000$/);
    await storage.sync();
    storage.append(readyOf({ entries: [entry(2, 1, 'b'.repeat(600))] }));
  });

  it('reports the duration of each fsync', async () => {
    const dir = await makeTempDir();
    const durations: number[] = [];
    const { storage } = await openStorage(dir, { onFsync: (ms) => durations.push(ms) });
    storage.append(readyOf({ entries: [entry(1, 1)] }));
    await storage.sync();
    expect(durations).toHaveLength(storage.fsyncCount);
    expect(durations.every((ms) => ms >= 0)).toBe(true);
  });

  it('once close() has begun, append and sync refuse: nothing slips in behind the last flush', async () => {
    const dir = await makeTempDir();
    const oracle = new MemoryStorage();
    const { storage } = await openStorage(dir);
    persistBoth(storage, oracle, { entries: entries(1, 3, 1) });
    const closing = storage.close();
    expect(() => storage.append(readyOf({ entries: entries(4, 4, 1) }))).toThrow(`storage: ${dir} is closed`);
    await expect(storage.sync()).rejects.toThrow(`storage: ${dir} is closed`);
    expect(storage.close()).toBe(closing);
    await closing;
    expect((await openStorage(dir)).stored).toEqual(oracle.load());
  });

  it('a sync with nothing appended does no fsync', async () => {
    const dir = await makeTempDir();
    const { storage } = await openStorage(dir);
    const before = storage.fsyncCount;
    await storage.sync();
    expect(storage.fsyncCount).toBe(before);
  });
});

// ---- Crashes: torn tails and corruption ---------------------------------------------------------------------

describe('recovery', () => {
  /** Four Readies, each synced, the last one a single record; the oracle before it, and where it begins. */
  async function fourSyncedReadies(dir: string): Promise<{ beforeLast: MemoryStorage; after: MemoryStorage; lastStart: number; segment: string }> {
    const { storage } = await openStorage(dir);
    const oracle = new MemoryStorage();
    persistBoth(storage, oracle, { hardState: { term: 1, votedFor: 2 }, entries: entries(1, 3, 1) });
    await storage.sync();
    persistBoth(storage, oracle, { entries: entries(4, 6, 1, 'ünïcode ✓') });
    await storage.sync();
    persistBoth(storage, oracle, { hardState: { term: 2, votedFor: 3 } });
    await storage.close(); // cuts the zero-filled tail: the file ends where the last record will begin
    const segment = storage.segmentFiles()[0]!;
    const beforeLast = copyOf(oracle);
    const lastStart = (await stat(segment)).size;
    const reopened = (await openStorage(dir)).storage;
    persistBoth(reopened, oracle, { entries: entries(5, 9, 2) });
    await reopened.sync();
    await reopened.close();
    return { beforeLast, after: oracle, lastStart, segment };
  }

  it('a log cut at every byte of its last record loses that record and nothing synced before it', async () => {
    const dir = await makeTempDir();
    const { beforeLast, lastStart, segment } = await fourSyncedReadies(dir);
    const whole = await readFile(segment);
    expect(whole.length - lastStart).toBeGreaterThan(60);
    for (let cut = lastStart; cut < whole.length; cut++) {
      await writeFile(segment, whole.subarray(0, cut));
      warnings = [];
      const { storage, stored } = await openStorage(dir);
      expect(stored, `cut at ${cut}`).toEqual(beforeLast.load());
      if (cut > lastStart) expect(warnings).toEqual([expect.stringContaining(`cut off a torn tail of ${cut - lastStart} bytes at byte ${lastStart} of ${segment}`)]);
      await storage.close();
      expect((await stat(segment)).size).toBe(lastStart);
    }
  });

  it('after cutting a torn tail the log goes on from the last valid record', async () => {
    const dir = await makeTempDir();
    const { beforeLast, lastStart, segment } = await fourSyncedReadies(dir);
    await writeFile(segment, (await readFile(segment)).subarray(0, lastStart + 20));
    const oracle = copyOf(beforeLast);
    const { storage } = await openStorage(dir);
    persistBoth(storage, oracle, { entries: entries(7, 8, 3) });
    await storage.close();
    expect((await openStorage(dir)).stored).toEqual(oracle.load());
  });

  it('the active segment is zero-filled ahead of its records; a crash leaves the zeros, read as the clean end', async () => {
    const dir = await makeTempDir();
    const oracle = new MemoryStorage();
    const { storage } = await openStorage(dir, { preallocateBytes: 1024 });
    // Well past the first fills, so that records land in filled space and wait for a fill they would overlap.
    for (let index = 1; index <= 60; index++) {
      persistBoth(storage, oracle, { entries: [entry(index, 1, 'x'.repeat(100))] });
      await storage.sync();
    }
    const segment = storage.segmentFiles()[0]!;
    const crashed = await copyAsAfterCrash(dir);
    const bytes = await readFile(join(crashed, basename(segment)));
    const { validBytes, zeroTail } = scanRecords(bytes, segment, 'truncate');
    expect(validBytes).toBeGreaterThan(60 * 100);
    expect(bytes.length).toBeGreaterThan(validBytes);
    expect(zeroTail).toBe(true);
    expect((await openStorage(crashed)).stored).toEqual(oracle.load());
    expect(warnings).toEqual([]);
    await storage.close();
    expect((await stat(segment)).size).toBe(validBytes);
  });

  it('a torn record in the zero-filled tail is cut off as a torn tail', async () => {
    const dir = await makeTempDir();
    const oracle = new MemoryStorage();
    const { storage } = await openStorage(dir, { preallocateBytes: 1024 });
    for (let index = 1; index <= 5; index++) {
      persistBoth(storage, oracle, { entries: [entry(index, 1, 'x'.repeat(100))] });
      await storage.sync();
    }
    const segment = storage.segmentFiles()[0]!;
    const crashed = join(await copyAsAfterCrash(dir), basename(segment));
    const bytes = await readFile(crashed);
    const { records, validBytes } = scanRecords(bytes, segment, 'truncate');
    expect(bytes.length).toBeGreaterThan(validBytes + 40);
    // The first 40 bytes of a record reached the disk, the rest of it did not.
    bytes.copy(bytes, validBytes, records[2]!.offset, records[2]!.offset + 40);
    await writeFile(crashed, bytes);
    const reopened = await openStorage(join(crashed, '..'));
    expect(reopened.stored).toEqual(oracle.load());
    expect(warnings).toEqual([expect.stringContaining(`cut off a torn tail of ${bytes.length - validBytes} bytes at byte ${validBytes}`)]);
  });

  it('a flipped byte in a record with valid records after it is refused, naming the file and the offset', async () => {
    const dir = await makeTempDir();
    const { segment } = await fourSyncedReadies(dir);
    const whole = await readFile(segment);
    const { records } = scanRecords(whole, segment, 'refuse');
    const middle = records[2]!;
    const end = records[3]!.offset;
    for (let at = middle.offset; at < end; at++) {
      const damaged = Buffer.from(whole);
      damaged[at] = damaged[at]! ^ 0x10;
      await writeFile(segment, damaged);
      const error = await openError(dir);
      expect(error, `byte ${at}`).toBeInstanceOf(CorruptLogError);
      expect((error as CorruptLogError).message).toContain(`${segment} is corrupt at byte ${middle.offset}: `);
      expectOneSentence((error as CorruptLogError).message, segment);
    }
    // A refused open leaves the directory unlocked and the log untouched.
    expect(await readdir(dir)).not.toContain(LOCK_FILE);
    await writeFile(segment, whole);
    expect((await openStorage(dir)).stored.entries).toHaveLength(9);
  });

  it('damage at the end of a segment that is not the last is refused, not cut off', async () => {
    const dir = await makeTempDir();
    const { storage } = await openStorage(dir, { segmentBytes: 200 });
    for (let index = 1; index <= 12; index++) {
      storage.append(readyOf({ entries: [entry(index, 1, 'y'.repeat(40))] }));
      await storage.sync();
    }
    const [first] = storage.segmentFiles();
    expect(storage.segmentFiles().length).toBeGreaterThan(2);
    await storage.close();
    const bytes = await readFile(first!);
    await writeFile(first!, bytes.subarray(0, bytes.length - 3));
    const error = await openError(dir);
    expect(error).toBeInstanceOf(CorruptLogError);
    expect((error as CorruptLogError).file).toBe(first);
    expectOneSentence((error as CorruptLogError).message, first!);
  });

  it('an empty newest segment (a crash right after a rotation) is written from its start', async () => {
    const dir = await makeTempDir();
    const oracle = new MemoryStorage();
    const { storage } = await openStorage(dir);
    persistBoth(storage, oracle, { hardState: { term: 4, votedFor: 2 }, entries: entries(1, 3, 4) });
    await storage.close();
    await writeFile(join(dir, 'wal-0000000000000002.log'), '');
    const reopened = await openStorage(dir);
    expect(reopened.stored).toEqual(oracle.load());
    persistBoth(reopened.storage, oracle, { entries: entries(4, 5, 4) });
    await reopened.storage.close();
    expect((await openStorage(dir)).stored).toEqual(oracle.load());
  });

  it('a segment missing between two others is refused', async () => {
    const dir = await makeTempDir();
    const { storage } = await openStorage(dir, { segmentBytes: 200 });
    for (let index = 1; index <= 12; index++) {
      storage.append(readyOf({ entries: [entry(index, 1, 'y'.repeat(40))] }));
      await storage.sync();
    }
    const second = storage.segmentFiles()[1]!;
    await storage.close();
    await rm(second);
    const error = await openError(dir);
    expect(error).toBeInstanceOf(CorruptLogError);
    expect((error as Error).message).toContain(`${second} is corrupt: it is missing, between`);
  });
});

// ---- Segments and snapshots ---------------------------------------------------------------------------------

describe('segments and snapshots', () => {
  it('a record write waits for a zero fill it would overlap: the zeros never land on records', async () => {
    const dir = await makeTempDir();
    const oracle = new MemoryStorage();
    // A disk slow to take zeros: each fill lands 30 ms after it is asked for, long after a record would.
    const undo = await interceptWrites(
      (write) =>
        async function (buffer, offset, length, position) {
          if (isZeroFill(buffer, offset, length)) await new Promise((resolve) => setTimeout(resolve, 30));
          return write.call(this, buffer, offset, length, position);
        },
    );
    try {
      // Opening starts the first fill at byte 0, where the first record goes; later records run into later fills.
      const { storage } = await openStorage(dir, { preallocateBytes: 256 });
      for (let index = 1; index <= 12; index++) {
        persistBoth(storage, oracle, { entries: [entry(index, 1, 'x'.repeat(100))] });
        await storage.sync();
      }
      await storage.close();
    } finally {
      undo();
    }
    expect((await openStorage(dir)).stored).toEqual(oracle.load());
  });

  it('a zero fill that fails part-way is still cut off when the segment rotates, so the log reopens whole', async () => {
    const dir = await makeTempDir();
    const oracle = new MemoryStorage();
    const { storage } = await openStorage(dir, { segmentBytes: 4096, preallocateBytes: 1024 });
    // The disk fills up during the second fill: it writes all but 5 bytes of [2048, 4096), then fails.
    let failed = false;
    const undo = await interceptWrites(
      (write) =>
        async function (buffer, offset, length, position) {
          if (!failed && position === 2048 && position + length === 4096 && isZeroFill(buffer, offset, length)) {
            failed = true;
            await write.call(this, buffer, offset, length - 5, position);
            throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
          }
          return write.call(this, buffer, offset, length, position);
        },
    );
    try {
      for (let index = 1; index <= 60; index++) {
        persistBoth(storage, oracle, { entries: [entry(index, 1, 'x'.repeat(100))] });
        await storage.sync();
      }
    } finally {
      undo();
    }
    expect(failed).toBe(true);
    expect(storage.segmentFiles().length).toBeGreaterThan(1);
    await storage.close();
    expect((await openStorage(dir, { segmentBytes: 4096 })).stored).toEqual(oracle.load());
  });

  it('the log rotates into segments and a reopen replays across all of them', async () => {
    const dir = await makeTempDir();
    const oracle = new MemoryStorage();
    const { storage } = await openStorage(dir, { segmentBytes: 1024 });
    persistBoth(storage, oracle, { hardState: { term: 1, votedFor: 1 } });
    for (let index = 1; index <= 200; index += 5) {
      persistBoth(storage, oracle, { entries: entries(index, index + 4, 1, 'z'.repeat(30)) });
      await storage.sync();
    }
    persistBoth(storage, oracle, { hardState: { term: 2, votedFor: 2 }, entries: entries(150, 160, 2) });
    await storage.close();
    const names = await segmentNames(dir);
    expect(names.length).toBeGreaterThan(5);
    expect(names[0]).toBe('wal-0000000000000001.log');
    for (const name of names) expect((await stat(join(dir, name))).size).toBeLessThanOrEqual(1024);
    expect((await openStorage(dir, { segmentBytes: 1024 })).stored).toEqual(oracle.load());
  });

  it('a durable snapshot deletes the segments it wholly covers, and the rest still replays', async () => {
    const dir = await makeTempDir();
    const oracle = new MemoryStorage();
    const { storage } = await openStorage(dir, { segmentBytes: 1024 });
    persistBoth(storage, oracle, { hardState: { term: 3, votedFor: 1 } });
    for (let index = 1; index <= 200; index += 5) {
      persistBoth(storage, oracle, { entries: entries(index, index + 4, 3, 'z'.repeat(30)) });
      await storage.sync();
    }
    const before = await segmentNames(dir);
    persistBoth(storage, oracle, { snapshot: snapshotAt(150, 3) });
    await storage.sync();
    const after = await segmentNames(dir);
    expect(after.length).toBeLessThan(before.length);
    expect(after).toEqual(before.slice(before.length - after.length));
    // Every segment left holds an entry after the snapshot, or is the newest.
    const left = after.slice(0, -1);
    for (const name of left) {
      const { records } = scanRecords(await readFile(join(dir, name)), name, 'refuse');
      expect(records.length).toBeGreaterThan(1);
    }
    persistBoth(storage, oracle, { entries: entries(201, 205, 3) });
    await storage.close();
    const { stored } = await openStorage(dir, { segmentBytes: 1024 });
    expect(stored).toEqual(oracle.load());
    expect(stored.snapshot?.index).toBe(150);
    expect(stored.entries[0]?.index).toBe(151);
    expect(stored.hardState).toEqual({ term: 3, votedFor: 1 });
  });

  it('a snapshot that disagrees with the stored entry at its index replaces the whole log (Figure 13)', async () => {
    const dir = await makeTempDir();
    const oracle = new MemoryStorage();
    const { storage } = await openStorage(dir);
    persistBoth(storage, oracle, { entries: entries(1, 10, 1) });
    persistBoth(storage, oracle, { snapshot: snapshotAt(8, 2) });
    await storage.close();
    const { stored } = await openStorage(dir);
    expect(stored).toEqual(oracle.load());
    expect(stored.entries).toEqual([]);
  });

  it('a snapshot.tmp left by a crash is removed and the snapshot before it stays', async () => {
    const dir = await makeTempDir();
    const oracle = new MemoryStorage();
    const { storage } = await openStorage(dir);
    persistBoth(storage, oracle, { entries: entries(1, 10, 1) });
    persistBoth(storage, oracle, { snapshot: snapshotAt(4, 1) });
    await storage.close();
    await writeFile(join(dir, SNAPSHOT_TEMP_FILE), 'half a snapsh');
    const { stored } = await openStorage(dir);
    expect(stored).toEqual(oracle.load());
    expect(await readdir(dir)).not.toContain(SNAPSHOT_TEMP_FILE);
    expect(warnings).toEqual([expect.stringContaining(`removed ${join(dir, SNAPSHOT_TEMP_FILE)}`)]);
  });

  it('a crash after the snapshot file is in place but before the log records it loads the snapshot', async () => {
    // The same Readies in two directories; the second stops before the snapshot. Its file, put into the
    // first directory, is what a crash between the rename and the log's fsync leaves.
    const dir = await makeTempDir();
    const oracle = new MemoryStorage();
    const { storage } = await openStorage(dir);
    persistBoth(storage, oracle, { hardState: { term: 2, votedFor: 2 }, entries: entries(1, 10, 2) });
    await storage.sync();
    const crashed = await copyAsAfterCrash(dir);
    persistBoth(storage, oracle, { snapshot: snapshotAt(6, 2) });
    await storage.close();
    await cp(join(dir, SNAPSHOT_FILE), join(crashed, SNAPSHOT_FILE));

    const first = await openStorage(crashed);
    expect(first.stored).toEqual(oracle.load());
    // The open recorded the snapshot in the log, so later appends replay after it.
    persistBoth(first.storage, oracle, { entries: entries(11, 12, 2) });
    await first.storage.close();
    expect((await openStorage(crashed)).stored).toEqual(oracle.load());
  });

  it('a snapshot file the log does not account for is refused', async () => {
    const dir = await makeTempDir();
    const { storage } = await openStorage(dir);
    storage.append(readyOf({ entries: entries(1, 10, 1) }));
    storage.append(readyOf({ snapshot: snapshotAt(4, 1) }));
    await storage.close();
    await rm(join(dir, SNAPSHOT_FILE));
    const error = await openError(dir);
    expect(error).toBeInstanceOf(CorruptLogError);
    expect((error as Error).message).toBe(`${join(dir, SNAPSHOT_FILE)} is corrupt: it is missing, but the log records snapshot 1 at index 4.`);
  });
});

// ---- The lock -----------------------------------------------------------------------------------------------

describe('the directory lock', () => {
  it('a second open of a directory in use fails, naming the process', async () => {
    const dir = await makeTempDir();
    await openStorage(dir);
    const error = await openError(dir);
    expect(error).toBeInstanceOf(DirectoryLockedError);
    expect((error as Error).message).toBe(`${dir} is in use by process ${process.pid}`);
  });

  it('close releases the lock', async () => {
    const dir = await makeTempDir();
    const { storage } = await openStorage(dir);
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).trim()).toBe(String(process.pid));
    await storage.close();
    expect(await readdir(dir)).not.toContain(LOCK_FILE);
    await openStorage(dir);
  });

  it('a lock left by a process that is gone is taken over', async () => {
    const dir = await makeTempDir();
    const exited = spawnSync(process.execPath, ['-e', '']);
    expect(exited.status).toBe(0);
    await writeFile(join(dir, LOCK_FILE), `${exited.pid}\n`);
    await openStorage(dir);
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).trim()).toBe(String(process.pid));
    expect(warnings).toEqual([expect.stringContaining(`from process ${exited.pid}, which is not running`)]);
  });

  it('a lock naming our own pid that this process does not hold is a previous life\'s (a container restart), and is taken over', async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, LOCK_FILE), `${process.pid}\n`);
    await openStorage(dir);
    expect(warnings).toEqual([expect.stringContaining(`from process ${process.pid}, which is not running`)]);
    expect((await readdir(dir)).filter((name) => name.startsWith(LOCK_FILE))).toEqual([LOCK_FILE]);
  });

  it('an empty lock (left by an older version that wrote its pid after creating the file) is taken over', async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, LOCK_FILE), '');
    await openStorage(dir);
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).trim()).toBe(String(process.pid));
  });
});
