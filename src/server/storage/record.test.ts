// The record format: entries survive encoding exactly, and the scan tells a torn tail from corruption.
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../core/types.ts';
import { CorruptLogError, decodeEntries, encodeEntries, encodeJsonRecord, RECORD_HEADER_BYTES, RecordType, scanRecords } from './record.ts';

const FILE = '/data/wal-0000000000000001.log';

function entry(index: number, term: number, data: string, type: Entry['type'] = 'command'): Entry {
  return { index, term, type, data };
}

/** Five records of different types and sizes, and the offset where each begins. */
function sampleLog(): { bytes: Buffer; offsets: number[] } {
  const records = [
    encodeJsonRecord(RecordType.segmentHeader, { hardState: { term: 0, votedFor: 0 }, snapshot: null }),
    encodeJsonRecord(RecordType.hardState, { term: 2, votedFor: 3 }),
    encodeEntries([entry(1, 2, ''), entry(2, 2, '{"op":"put"}')]),
    encodeEntries([entry(3, 2, 'x'.repeat(40))]),
    encodeJsonRecord(RecordType.hardState, { term: 3, votedFor: 1 }),
  ];
  const offsets: number[] = [];
  let offset = 0;
  for (const record of records) {
    offsets.push(offset);
    offset += record.length;
  }
  return { bytes: Buffer.concat(records), offsets };
}

/** A message is one sentence: once the file name is taken out, its only full stop ends it. */
function expectOneSentence(message: string, file: string): void {
  expect(message.replaceAll(file, 'FILE').match(/[.!?]/g)).toEqual(['.']);
  expect(message.endsWith('.')).toBe(true);
}

describe('entries records', () => {
  it('decode to the entries encoded, whatever their data', () => {
    const entries = [
      entry(7, 1, '', 'noop'),
      entry(8, 1, '{"voters":[1,2,3],"learners":[]}', 'config'),
      entry(9, 2, 'héllo wörld ✓ 🚀'),
      entry(10, 2, 'lone \uD800 surrogate \uDC00 and pair \uD83D\uDE80'),
      entry(11, 3, 'x'.repeat(10_000)),
    ];
    const record = encodeEntries(entries);
    const { records } = scanRecords(record, FILE, 'refuse');
    expect(records).toHaveLength(1);
    expect(decodeEntries(records[0]!.payload)).toEqual(entries);
  });
});

describe('scanning a log', () => {
  it('reads every record of an intact log', () => {
    const { bytes, offsets } = sampleLog();
    const scan = scanRecords(bytes, FILE, 'truncate');
    expect(scan.records.map((record) => record.offset)).toEqual(offsets);
    expect(scan.validBytes).toBe(bytes.length);
  });

  it('a log cut at any byte of its last record loses that record and nothing before it', () => {
    const { bytes, offsets } = sampleLog();
    const lastStart = offsets[offsets.length - 1]!;
    for (let cut = lastStart; cut < bytes.length; cut++) {
      const scan = scanRecords(bytes.subarray(0, cut), FILE, 'truncate');
      expect(scan.validBytes, `cut at ${cut}`).toBe(lastStart);
      expect(scan.records.map((record) => record.offset)).toEqual(offsets.slice(0, -1));
    }
  });

  it('a damaged last record is a torn tail, at whichever byte the damage is', () => {
    const { bytes, offsets } = sampleLog();
    const lastStart = offsets[offsets.length - 1]!;
    for (let at = lastStart; at < bytes.length; at++) {
      const damaged = Buffer.from(bytes);
      damaged[at] = damaged[at]! ^ 0x5a;
      expect(scanRecords(damaged, FILE, 'truncate').validBytes, `byte ${at}`).toBe(lastStart);
    }
  });

  it('zeros after the last record (space the file system allocated) are a torn tail', () => {
    const { bytes } = sampleLog();
    const scan = scanRecords(Buffer.concat([bytes, Buffer.alloc(4096)]), FILE, 'truncate');
    expect(scan.validBytes).toBe(bytes.length);
  });

  it('a damaged record followed by valid ones is corruption, reported with the file and its offset, at every byte', () => {
    const { bytes, offsets } = sampleLog();
    const start = offsets[2]!;
    const end = offsets[3]!;
    for (let at = start; at < end; at++) {
      const damaged = Buffer.from(bytes);
      damaged[at] = damaged[at]! ^ 0xff;
      let thrown: unknown;
      try {
        scanRecords(damaged, FILE, 'truncate');
      } catch (error) {
        thrown = error;
      }
      expect(thrown, `byte ${at}`).toBeInstanceOf(CorruptLogError);
      const error = thrown as CorruptLogError;
      expect(error.file).toBe(FILE);
      expect(error.offset).toBe(start);
      expect(error.message).toContain(`${FILE} is corrupt at byte ${start}`);
      expectOneSentence(error.message, FILE);
    }
  });

  it('a torn tail where none may be (an older segment, the snapshot file) is corruption', () => {
    const { bytes, offsets } = sampleLog();
    const lastStart = offsets[offsets.length - 1]!;
    const length = bytes.length - lastStart - RECORD_HEADER_BYTES;
    expect(() => scanRecords(bytes.subarray(0, bytes.length - 1), FILE, 'refuse')).toThrow(
      new CorruptLogError(FILE, lastStart, `the record of ${length} bytes runs past the end of the file, and this file is never left with a torn tail`),
    );
  });

  it('a record header is nine bytes: length, checksum, type', () => {
    const record = encodeJsonRecord(RecordType.hardState, { term: 1, votedFor: 2 });
    expect(record.readUInt32LE(0)).toBe(record.length - RECORD_HEADER_BYTES);
    expect(record.readUInt8(8)).toBe(RecordType.hardState);
  });
});
