// The command envelope: what one Raft log entry carries, JSON-encoded.
//
//   { "timeMs": 1200, "session": { "client": "c7", "sequence": 3 }, "command": { "op": "put", "key": "x", "value": "1" } }
//
// `timeMs` is stamped by the leader when it proposes the entry; it is the only clock the machines ever see.
// `session` is optional: without it a command is applied every time it is committed (no retry protection).

import { findJsonProblem, type JsonValue } from './json-value.ts';
import { utf8ByteLength } from './fingerprint.ts';
import { KV_OPS, type KvCommand } from './key-value-table.ts';
import { QUEUE_OPS, type QueueCommand } from './task-queues.ts';
import type { SessionTag } from './client-sessions.ts';

export type ServiceCommand = KvCommand | QueueCommand;

export interface CommandEnvelope {
  /** Log time in ms, stamped by the leader at proposal. */
  readonly timeMs: number;
  readonly session?: SessionTag;
  readonly command: ServiceCommand;
}

/** Sizes are in UTF-8 bytes; the value and payload limits match the scenario format's. */
export const ENVELOPE_LIMITS = {
  encodedBytesMax: 262_144,
  keyBytesMax: 1024,
  valueBytesMax: 65_536,
  queueNameBytesMax: 256,
  workerBytesMax: 256,
  clientBytesMax: 256,
  payloadBytesMax: 65_536,
  leaseMsMax: 86_400_000,
} as const;

export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
}

/** Validates `envelope` (check on the way out too) and encodes it as JSON text for a log entry. */
export function encodeEnvelope(envelope: CommandEnvelope): string {
  const valid = validateEnvelope(envelope);
  const text = JSON.stringify(valid);
  checkEncodedSize(text);
  return text;
}

/** Parses and validates a log entry's text. Throws an EnvelopeError naming the JSON path and what was expected. */
export function decodeEnvelope(data: string): CommandEnvelope {
  checkEncodedSize(data);
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch (error) {
    throw new EnvelopeError(`envelope: expected JSON text (${(error as Error).message})`);
  }
  return validateEnvelope(parsed);
}

/** Checks that `value` is a well-formed envelope and returns it typed; throws an EnvelopeError otherwise. */
export function validateEnvelope(value: unknown, path = 'envelope'): CommandEnvelope {
  const fields = expectObject(value, path, ['timeMs', 'command'], ['session']);
  const timeMs = expectWholeNumber(fields.timeMs, `${path}.timeMs`, 0, Number.MAX_SAFE_INTEGER);
  const command = validateCommand(fields.command, `${path}.command`);
  if (fields.session === undefined) return { timeMs, command };
  const session = expectObject(fields.session, `${path}.session`, ['client', 'sequence'], []);
  const client = expectText(session.client, `${path}.session.client`, ENVELOPE_LIMITS.clientBytesMax);
  const sequence = expectWholeNumber(session.sequence, `${path}.session.sequence`, 1, Number.MAX_SAFE_INTEGER);
  return { timeMs, session: { client, sequence }, command };
}

const COMMAND_OPS: readonly string[] = [...KV_OPS, ...QUEUE_OPS];

// Every log entry is decoded on every replica: these run hot, so they build no closures, and build paths for
// error messages only when there is an error.
const text = (fields: Record<string, unknown>, path: string, name: string, bytesMax: number): string =>
  expectTextField(fields[name], path, name, bytesMax);
const key = (fields: Record<string, unknown>, path: string): string => text(fields, path, 'key', ENVELOPE_LIMITS.keyBytesMax);
const queue = (fields: Record<string, unknown>, path: string): string => text(fields, path, 'queue', ENVELOPE_LIMITS.queueNameBytesMax);

function validateCommand(value: unknown, path: string): ServiceCommand {
  const op = (value as { op?: unknown } | null)?.op;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'an object', value);
  if (typeof op !== 'string' || !COMMAND_OPS.includes(op)) fail(`${path}.op`, `one of ${COMMAND_OPS.join(', ')}`, op);
  switch (op as ServiceCommand['op']) {
    case 'put': {
      const fields = expectObject(value, path, ['op', 'key', 'value'], []);
      return { op: 'put', key: key(fields, path), value: text(fields, path, 'value', ENVELOPE_LIMITS.valueBytesMax) };
    }
    case 'get':
    case 'delete': {
      const fields = expectObject(value, path, ['op', 'key'], []);
      return { op: op as 'get' | 'delete', key: key(fields, path) };
    }
    case 'cas': {
      const fields = expectObject(value, path, ['op', 'key', 'from', 'to'], []);
      return {
        op: 'cas',
        key: key(fields, path),
        from: text(fields, path, 'from', ENVELOPE_LIMITS.valueBytesMax),
        to: text(fields, path, 'to', ENVELOPE_LIMITS.valueBytesMax),
      };
    }
    case 'enqueue': {
      const fields = expectObject(value, path, ['op', 'queue', 'payload'], []);
      const problem = findJsonProblem(fields.payload, `${path}.payload`);
      if (problem) throw new EnvelopeError(problem);
      const payloadBytes = utf8ByteLength(JSON.stringify(fields.payload));
      if (payloadBytes > ENVELOPE_LIMITS.payloadBytesMax) {
        throw new EnvelopeError(`${path}.payload: expected at most ${ENVELOPE_LIMITS.payloadBytesMax} bytes of JSON, got ${payloadBytes}`);
      }
      return { op: 'enqueue', queue: queue(fields, path), payload: fields.payload as JsonValue };
    }
    case 'claim': {
      const fields = expectObject(value, path, ['op', 'queue', 'worker', 'leaseMs'], []);
      return {
        op: 'claim',
        queue: queue(fields, path),
        worker: text(fields, path, 'worker', ENVELOPE_LIMITS.workerBytesMax),
        leaseMs: expectWholeNumber(fields.leaseMs, `${path}.leaseMs`, 1, ENVELOPE_LIMITS.leaseMsMax),
      };
    }
    case 'ack':
    case 'nack': {
      const fields = expectObject(value, path, ['op', 'queue', 'task'], ['worker']);
      const task = expectWholeNumber(fields.task, `${path}.task`, 1, Number.MAX_SAFE_INTEGER);
      const base = { op: op as 'ack' | 'nack', queue: queue(fields, path), task };
      return fields.worker === undefined ? base : { ...base, worker: text(fields, path, 'worker', ENVELOPE_LIMITS.workerBytesMax) };
    }
    case 'stats':
    case 'peek': {
      const fields = expectObject(value, path, ['op', 'queue'], []);
      return { op: op as 'stats' | 'peek', queue: queue(fields, path) };
    }
  }
}

function checkEncodedSize(text: string): void {
  // Every UTF-16 unit takes at least one byte, so the length alone rejects a huge text before it is scanned.
  if (text.length > ENVELOPE_LIMITS.encodedBytesMax || !fitsInBytes(text, ENVELOPE_LIMITS.encodedBytesMax)) {
    throw new EnvelopeError(`envelope: expected at most ${ENVELOPE_LIMITS.encodedBytesMax} bytes of JSON, got ${utf8ByteLength(text)}`);
  }
}

/** The object's fields; unknown fields are errors, not silently ignored. */
function expectObject(value: unknown, path: string, required: readonly string[], optional: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'an object', value);
  // A missing required field is reported by the validator of that field, which knows what it expects.
  const fields = value as Record<string, unknown>;
  for (const name of Object.keys(fields)) {
    if (!required.includes(name) && !optional.includes(name)) {
      throw new EnvelopeError(`${path}.${name}: unknown field (expected only ${[...required, ...optional].join(', ')})`);
    }
  }
  return fields;
}

function expectText(value: unknown, path: string, bytesMax: number): string {
  if (typeof value !== 'string') fail(path, `a string of at most ${bytesMax} bytes`, value);
  if (!fitsInBytes(value as string, bytesMax)) {
    fail(path, `a string of at most ${bytesMax} bytes`, value, `a string of ${utf8ByteLength(value as string)} bytes`);
  }
  return value as string;
}

function expectTextField(value: unknown, path: string, name: string, bytesMax: number): string {
  if (typeof value === 'string' && fitsInBytes(value, bytesMax)) return value;
  return expectText(value, `${path}.${name}`, bytesMax);
}

/** A UTF-16 unit takes at most 3 bytes in UTF-8, so short text needs no count. */
function fitsInBytes(text: string, bytesMax: number): boolean {
  return text.length * 3 <= bytesMax || utf8ByteLength(text) <= bytesMax;
}

function expectWholeNumber(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    fail(path, `a whole number from ${min} to ${max}`, value);
  }
  return value as number;
}

function fail(path: string, expected: string, got: unknown, gotDescription = describeValue(got)): never {
  throw new EnvelopeError(`${path}: expected ${expected}, got ${gotDescription}`);
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}…` : JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}
