// Which codec should carry Raft messages between node processes? Figures, never pass/fail.
//
//   npx tsx src/server/transport/codec-bench.ts
//
// Encodes and decodes realistic messages (AppendEntries batches of 1, 16 and 256 entries whose data are ~300-byte
// JSON command envelopes, and the small messages that dominate an idle cluster) with JSON and with msgpackr, and
// prints operations per second and encoded bytes. Wall time is read here, in a script, never in the core.
import { performance } from 'node:perf_hooks';
import { Packr } from 'msgpackr';
import type { AppendEntries, Entry, Message } from '../../core/types.ts';

interface Candidate {
  readonly name: string;
  encode(message: Message): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

// Records (msgpackr's shared-structure extension) are off: they make a frame depend on frames sent before it,
// and the transport drops frames when a queue is full. Plain MessagePack maps are what the transport could use.
const packr = new Packr({ useRecords: false });

const candidates: readonly Candidate[] = [
  {
    name: 'JSON',
    encode: (message) => Buffer.from(JSON.stringify(message)),
    decode: (bytes) => JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')),
  },
  {
    name: 'msgpackr',
    encode: (message) => packr.pack(message),
    decode: (bytes) => packr.unpack(bytes),
  },
];

function makeEntryData(index: number): string {
  // A command envelope as the replicated service writes it (src/machines/envelope.ts), ~300 bytes.
  const key = `k${String(10_000_000 + index).slice(-8)}`;
  const value = Array.from({ length: 256 }, (_, i) => String.fromCharCode(97 + ((index * 7 + i * 13) % 26))).join('');
  return JSON.stringify({ timeMs: 1_700_000 + index, session: { client: 'c7', sequence: index }, command: { op: 'put', key, value } });
}

function makeAppendEntries(entryCount: number): AppendEntries {
  const entries: Entry[] = [];
  for (let i = 0; i < entryCount; i++) entries.push({ index: 12_001 + i, term: 7, type: 'command', data: makeEntryData(12_001 + i) });
  return { type: 'AppendEntries', from: 1, to: 3, term: 7, prevLogIndex: 12_000, prevLogTerm: 7, entries, leaderCommit: 11_998 };
}

const cases: readonly { readonly name: string; readonly message: Message }[] = [
  { name: 'Heartbeat', message: { type: 'Heartbeat', from: 1, to: 3, term: 7, leaderCommit: 11_998, round: 4_411 } },
  {
    name: 'AppendEntriesResponse',
    message: { type: 'AppendEntriesResponse', from: 3, to: 1, term: 7, success: true, matchIndex: 12_016, conflictTerm: 0, conflictIndex: 0, reason: 'ok' },
  },
  { name: 'AppendEntries x1', message: makeAppendEntries(1) },
  { name: 'AppendEntries x16', message: makeAppendEntries(16) },
  { name: 'AppendEntries x256', message: makeAppendEntries(256) },
];

const MEASURE_MS = 400;
const WARMUP_MS = 150;

/** Runs `operation` repeatedly for about `durationMs` and returns operations per second. */
function measureOpsPerSecond(operation: () => void, durationMs: number): number {
  let operations = 0;
  let batch = 1;
  const startMs = performance.now();
  let elapsedMs = 0;
  while (elapsedMs < durationMs) {
    for (let i = 0; i < batch; i++) operation();
    operations += batch;
    elapsedMs = performance.now() - startMs;
    if (elapsedMs < durationMs / 20) batch *= 2;
  }
  return (operations * 1000) / elapsedMs;
}

let sink = 0;

interface Figures {
  readonly encodeOpsPerSecond: number;
  readonly decodeOpsPerSecond: number;
  readonly bytes: number;
}

function measure(candidate: Candidate, message: Message): Figures {
  const encoded = candidate.encode(message);
  const decoded = candidate.decode(encoded);
  if (JSON.stringify(decoded) !== JSON.stringify(message)) throw new Error(`${candidate.name} does not round-trip ${message.type}`);
  const encode = (): void => {
    sink += candidate.encode(message).byteLength;
  };
  const decode = (): void => {
    sink += (candidate.decode(encoded) as Message).term;
  };
  measureOpsPerSecond(encode, WARMUP_MS);
  measureOpsPerSecond(decode, WARMUP_MS);
  return { encodeOpsPerSecond: measureOpsPerSecond(encode, MEASURE_MS), decodeOpsPerSecond: measureOpsPerSecond(decode, MEASURE_MS), bytes: encoded.byteLength };
}

function formatRate(opsPerSecond: number): string {
  return Math.round(opsPerSecond).toLocaleString('en').padStart(12);
}

process.stdout.write(`codec bench: node ${process.version}, ${MEASURE_MS} ms per figure after ${WARMUP_MS} ms warm-up\n`);
process.stdout.write(`${'message'.padEnd(24)}${'codec'.padEnd(10)}${'encode ops/s'.padStart(12)}${'decode ops/s'.padStart(14)}${'round trip ops/s'.padStart(18)}${'bytes'.padStart(10)}\n`);
// Per candidate: the sum over cases of log(round-trip ops/s), for a geometric mean that weighs every case alike.
const logRoundTripSums = new Map<string, number>();
for (const { name, message } of cases) {
  for (const candidate of candidates) {
    const figures = measure(candidate, message);
    const roundTripOpsPerSecond = 1 / (1 / figures.encodeOpsPerSecond + 1 / figures.decodeOpsPerSecond);
    logRoundTripSums.set(candidate.name, (logRoundTripSums.get(candidate.name) ?? 0) + Math.log(roundTripOpsPerSecond));
    process.stdout.write(
      `${name.padEnd(24)}${candidate.name.padEnd(10)}${formatRate(figures.encodeOpsPerSecond)}  ${formatRate(figures.decodeOpsPerSecond)}    ` +
        `${formatRate(roundTripOpsPerSecond)}${String(figures.bytes).padStart(10)}\n`,
    );
  }
}
const [baseline, ...others] = candidates;
if (baseline !== undefined) {
  const baselineLogSum = logRoundTripSums.get(baseline.name) ?? 0;
  for (const other of others) {
    const ratio = Math.exp(((logRoundTripSums.get(other.name) ?? 0) - baselineLogSum) / cases.length);
    process.stdout.write(`geometric mean over the cases, round trip: ${other.name} is ${ratio.toFixed(2)}x ${baseline.name}\n`);
  }
}
// Keeps the measured results alive, so that no engine can skip the work as unused.
if (sink < 0) process.stdout.write(`${sink}\n`);
