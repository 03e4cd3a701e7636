// The record format of the write-ahead log and of the snapshot file, and the scan that tells a torn tail (a
// write the crash interrupted, harmless) from corruption (a damaged record with valid records after it).
//
//   [u32 payload length][u32 CRC-32 of the type byte and the payload][u8 type][payload]     (little-endian)
//
// Entries are binary (they are most of the log); the other records are JSON, which is rare and small.
import { crc32 } from 'node:zlib';
import type { Entry, EntryType, HardState, Snapshot } from '../../core/types.ts';

export const RECORD_HEADER_BYTES = 9;

export const RecordType = {
  /** The first record of every segment: the hard state and snapshot in force when the segment began. */
  segmentHeader: 1,
  hardState: 2,
  entries: 3,
  /** A snapshot was saved here (its data is in the snapshot file); `keep` says whether later entries stayed. */
  snapshotMarker: 4,
  /** The only record of the snapshot file. */
  snapshot: 5,
} as const;

export type RecordTypeCode = (typeof RecordType)[keyof typeof RecordType];

const RECORD_TYPE_MAX = RecordType.snapshot;

/** The log's damage, named by file and byte offset (or by file alone when a whole file is wrong). */
export class CorruptLogError extends Error {
  override readonly name = 'CorruptLogError';

  constructor(
    readonly file: string,
    readonly offset: number | null,
    reason: string,
  ) {
    super(offset === null ? `${file} is corrupt: ${reason}.` : `${file} is corrupt at byte ${offset}: ${reason}.`);
  }
}

export interface SnapshotMarker {
  /** Snapshots are numbered 1, 2, 3...: the snapshot file holds the latest one, or the one after (a crash). */
  readonly generation: number;
  readonly index: number;
  readonly term: number;
}

export interface SnapshotMarkerRecord extends SnapshotMarker {
  /** Whether the entries after the snapshot stayed (the stored entry at its index had its term, Figure 13). */
  readonly keep: boolean;
}

export interface SegmentHeader {
  readonly hardState: HardState;
  readonly snapshot: SnapshotMarker | null;
}

export interface SnapshotFile extends SnapshotMarker {
  readonly snapshot: Snapshot;
}

// ---- Records ---------------------------------------------------------------------------------------------

export function encodeRecord(type: RecordTypeCode, payload: Buffer): Buffer {
  if (payload.length > 0xffff_ffff) throw new Error(`storage: a record of ${payload.length} bytes exceeds 4 GiB`);
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  record.writeUInt32LE(payload.length, 0);
  record.writeUInt8(type, 8);
  payload.copy(record, RECORD_HEADER_BYTES);
  record.writeUInt32LE(crc32(record.subarray(8)), 4);
  return record;
}

export function encodeJsonRecord(type: RecordTypeCode, value: unknown): Buffer {
  return encodeRecord(type, Buffer.from(JSON.stringify(value), 'utf8'));
}

export interface ScannedRecord {
  readonly type: RecordTypeCode;
  readonly payload: Buffer;
  /** Byte offset of the record in its file. */
  readonly offset: number;
}

export interface ScanResult {
  readonly records: ScannedRecord[];
  /** Bytes of whole, valid records from the start; fewer than the file holds when its tail is torn or zeroed. */
  readonly validBytes: number;
  /** Only zeros follow the records: the space a log segment fills in ahead, not a torn write. */
  readonly zeroTail: boolean;
}

/** Why the record at `offset` is not valid, or null when it is. */
function recordProblem(bytes: Buffer, offset: number): string | null {
  const remaining = bytes.length - offset;
  if (remaining < RECORD_HEADER_BYTES) return `a record header is cut short after ${remaining} bytes`;
  const type = bytes.readUInt8(offset + 8);
  const length = bytes.readUInt32LE(offset);
  if (type < 1 || type > RECORD_TYPE_MAX) return `the record has unknown type ${type}`;
  if (length > remaining - RECORD_HEADER_BYTES) return `the record of ${length} bytes runs past the end of the file`;
  const expected = bytes.readUInt32LE(offset + 4);
  const actual = crc32(bytes.subarray(offset + 8, offset + RECORD_HEADER_BYTES + length));
  return expected === actual ? null : 'the record fails its checksum';
}

/** The first offset at or after `from` where a whole valid record starts, or -1. */
function findValidRecord(bytes: Buffer, from: number): number {
  for (let offset = from; offset + RECORD_HEADER_BYTES <= bytes.length; offset++) {
    if (recordProblem(bytes, offset) === null) return offset;
  }
  return -1;
}

/**
 * Read every record of a file. With `tornTail: 'truncate'` (the last segment), zeros to the end are space
 * filled in ahead, and an invalid record with nothing valid anywhere after it is a write the crash cut short:
 * the scan stops there and reports the valid length. Anything else invalid is corruption and throws: a damaged
 * record followed by a valid one, or damage in a file that is never written again after a sync (an older
 * segment, the snapshot). A zero header is never a valid record (type 0 does not exist).
 */
export function scanRecords(bytes: Buffer, file: string, tornTail: 'truncate' | 'refuse'): ScanResult {
  const records: ScannedRecord[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const problem = recordProblem(bytes, offset);
    if (problem === null) {
      const length = bytes.readUInt32LE(offset);
      const type = bytes.readUInt8(offset + 8) as RecordTypeCode;
      records.push({ type, payload: bytes.subarray(offset + RECORD_HEADER_BYTES, offset + RECORD_HEADER_BYTES + length), offset });
      offset += RECORD_HEADER_BYTES + length;
      continue;
    }
    if (tornTail === 'refuse') throw new CorruptLogError(file, offset, `${problem}, and this file is never left with a torn tail`);
    if (isZero(bytes.subarray(offset))) return { records, validBytes: offset, zeroTail: true };
    const next = findValidRecord(bytes, offset + 1);
    if (next !== -1) throw new CorruptLogError(file, offset, `${problem}, and a valid record follows at byte ${next}`);
    return { records, validBytes: offset, zeroTail: false };
  }
  return { records, validBytes: offset, zeroTail: false };
}

function isZero(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

// ---- Entries (binary) ------------------------------------------------------------------------------------
//
//   [f64 index of the first entry][u32 count], then per entry [f64 term][u8 kind][u32 data bytes][data]
//
// The kind's low bits are the entry type; bit 7 says the data is UTF-16LE rather than UTF-8. Strings with
// surrogates go as UTF-16LE, since UTF-8 would replace a lone surrogate and change the data.

const ENTRY_TYPES: readonly EntryType[] = ['noop', 'command', 'config'];
const UTF16_FLAG = 0x80;
const SURROGATE = /[\uD800-\uDFFF]/;

export function encodeEntries(entries: readonly Entry[]): Buffer {
  const first = entries[0];
  if (!first) throw new Error('storage: an entries record needs at least one entry');
  const encodings: BufferEncoding[] = [];
  let size = 12;
  for (const entry of entries) {
    const encoding: BufferEncoding = SURROGATE.test(entry.data) ? 'utf16le' : 'utf8';
    encodings.push(encoding);
    size += 13 + Buffer.byteLength(entry.data, encoding);
  }
  const payload = Buffer.allocUnsafe(size);
  payload.writeDoubleLE(first.index, 0);
  payload.writeUInt32LE(entries.length, 8);
  let offset = 12;
  entries.forEach((entry, i) => {
    const encoding = encodings[i]!;
    const kind = ENTRY_TYPES.indexOf(entry.type);
    if (kind < 0) throw new Error(`storage: entry ${entry.index} has unknown type ${String(entry.type)}`);
    payload.writeDoubleLE(entry.term, offset);
    payload.writeUInt8(kind | (encoding === 'utf16le' ? UTF16_FLAG : 0), offset + 8);
    const written = payload.write(entry.data, offset + 13, encoding);
    payload.writeUInt32LE(written, offset + 9);
    offset += 13 + written;
  });
  return encodeRecord(RecordType.entries, payload);
}

/** Throws a plain Error when the payload is inconsistent; the caller names the file and offset. */
export function decodeEntries(payload: Buffer): Entry[] {
  if (payload.length < 12) throw new Error('the entries record is shorter than its header');
  const firstIndex = payload.readDoubleLE(0);
  const count = payload.readUInt32LE(8);
  const entries: Entry[] = [];
  let offset = 12;
  for (let i = 0; i < count; i++) {
    if (offset + 13 > payload.length) throw new Error(`entry ${i + 1} of ${count} is cut short`);
    const term = payload.readDoubleLE(offset);
    const kind = payload.readUInt8(offset + 8);
    const length = payload.readUInt32LE(offset + 9);
    const type = ENTRY_TYPES[kind & ~UTF16_FLAG];
    if (type === undefined) throw new Error(`entry ${i + 1} of ${count} has unknown type ${kind & ~UTF16_FLAG}`);
    if (offset + 13 + length > payload.length) throw new Error(`entry ${i + 1} of ${count} runs past its record`);
    const data = payload.toString(kind & UTF16_FLAG ? 'utf16le' : 'utf8', offset + 13, offset + 13 + length);
    entries.push({ index: firstIndex + i, term, type, data });
    offset += 13 + length;
  }
  if (offset !== payload.length) throw new Error(`the entries record has ${payload.length - offset} bytes after its last entry`);
  return entries;
}
