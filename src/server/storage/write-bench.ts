// How should the log make a record durable? Figures, never pass/fail.
//
//   npx tsx src/server/storage/write-bench.ts
//
// Two writers at once (as a leader and a follower on one machine), each appending 300-byte records to its own
// file and making each durable before the next, in three ways: write then fsync (what the log did first), one
// O_DSYNC write, and one O_DSYNC write into space zero-filled beforehand (what the log does now). Prints the
// median and the 90th percentile of a durable append. Wall time is read here, in a script, never in the core.
import { constants } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const RECORDS = 1500;
const RECORD = Buffer.alloc(300, 7);
const ZERO_FILLED_BYTES = RECORDS * RECORD.length + 4096;

interface Way {
  readonly name: string;
  readonly flags: number;
  readonly zeroFilled: boolean;
  append(handle: FileHandle, position: number): Promise<void>;
}

const WAYS: readonly Way[] = [
  {
    name: 'write, then fsync',
    flags: constants.O_RDWR | constants.O_CREAT,
    zeroFilled: false,
    append: async (handle, position) => {
      await handle.write(RECORD, 0, RECORD.length, position);
      await handle.sync();
    },
  },
  {
    name: 'O_DSYNC write',
    flags: constants.O_RDWR | constants.O_CREAT | constants.O_DSYNC,
    zeroFilled: false,
    append: async (handle, position) => {
      await handle.write(RECORD, 0, RECORD.length, position);
    },
  },
  {
    name: 'O_DSYNC write, zero-filled',
    flags: constants.O_RDWR | constants.O_CREAT | constants.O_DSYNC,
    zeroFilled: true,
    append: async (handle, position) => {
      await handle.write(RECORD, 0, RECORD.length, position);
    },
  },
];

/** Milliseconds of each durable append, one writer. */
async function writer(path: string, way: Way): Promise<number[]> {
  const handle = await open(path, way.flags);
  try {
    if (way.zeroFilled) await handle.write(Buffer.alloc(ZERO_FILLED_BYTES), 0, ZERO_FILLED_BYTES, 0);
    const times: number[] = [];
    for (let i = 0; i < RECORDS; i++) {
      const started = performance.now();
      await way.append(handle, i * RECORD.length);
      times.push(performance.now() - started);
    }
    return times;
  } finally {
    await handle.close();
  }
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

const dir = await mkdtemp(join(tmpdir(), 'raft-write-bench-'));
try {
  process.stdout.write(`durable appends of ${RECORD.length}-byte records, two writers at once, ${RECORDS} each, in ${dir}\n`);
  for (const way of WAYS) {
    const times = (await Promise.all([writer(join(dir, 'a'), way), writer(join(dir, 'b'), way)])).flat().sort((a, b) => a - b);
    await Promise.all([rm(join(dir, 'a')), rm(join(dir, 'b'))]);
    process.stdout.write(`${way.name.padEnd(28)} p50 ${quantile(times, 0.5).toFixed(3)} ms, p90 ${quantile(times, 0.9).toFixed(3)} ms\n`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
