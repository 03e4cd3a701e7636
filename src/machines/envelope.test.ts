import { describe, expect, it } from 'vitest';
import { ENVELOPE_LIMITS, EnvelopeError, decodeEnvelope, encodeEnvelope, type CommandEnvelope } from './envelope.ts';

describe('encodeEnvelope / decodeEnvelope', () => {
  const envelopes: CommandEnvelope[] = [
    { timeMs: 0, command: { op: 'put', key: 'x', value: '1' } },
    { timeMs: 5, session: { client: 'c1', sequence: 7 }, command: { op: 'cas', key: 'x', from: '1', to: '2' } },
    { timeMs: 9, command: { op: 'get', key: 'ключ' } },
    { timeMs: 9, command: { op: 'delete', key: 'x' } },
    { timeMs: 9, command: { op: 'enqueue', queue: 'jobs', payload: { nested: [1, 'two', null, true] } } },
    { timeMs: 9, command: { op: 'claim', queue: 'jobs', worker: 'w1', leaseMs: 30_000 } },
    { timeMs: 9, command: { op: 'ack', queue: 'jobs', task: 3, worker: 'w1' } },
    { timeMs: 9, command: { op: 'nack', queue: 'jobs', task: 3 } },
    { timeMs: 9, command: { op: 'stats', queue: 'jobs' } },
    { timeMs: 9, command: { op: 'peek', queue: 'jobs' } },
  ];

  it.each(envelopes.map((envelope) => [envelope.command.op, envelope] as const))('round-trips %s', (_op, envelope) => {
    expect(decodeEnvelope(encodeEnvelope(envelope))).toEqual(envelope);
  });

  it.each([
    ['not JSON', '{', 'envelope: expected JSON text'],
    ['not an object', '[1]', 'envelope: expected an object, got a list'],
    ['no command', '{"timeMs":1}', 'envelope.command: expected an object, got nothing'],
    ['no payload', '{"timeMs":1,"command":{"op":"enqueue","queue":"q"}}', 'envelope.command.payload: expected a JSON value, got nothing'],
    ['no time', '{"command":{"op":"get","key":"x"}}', 'envelope.timeMs: expected a whole number from 0 to 9007199254740991, got nothing'],
    ['negative time', '{"timeMs":-1,"command":{"op":"get","key":"x"}}', 'envelope.timeMs: expected a whole number from 0 to 9007199254740991, got -1'],
    ['unknown op', '{"timeMs":1,"command":{"op":"drop","key":"x"}}', 'envelope.command.op: expected one of put, get, delete, cas, enqueue, claim, ack, nack, stats, peek, got "drop"'],
    ['missing value', '{"timeMs":1,"command":{"op":"put","key":"x"}}', 'envelope.command.value: expected a string of at most 65536 bytes, got nothing'],
    ['value not a string', '{"timeMs":1,"command":{"op":"put","key":"x","value":7}}', 'envelope.command.value: expected a string of at most 65536 bytes, got 7'],
    ['unknown field', '{"timeMs":1,"command":{"op":"get","key":"x","stale":true}}', 'envelope.command.stale: unknown field (expected only op, key)'],
    ['unknown envelope field', '{"timeMs":1,"term":3,"command":{"op":"get","key":"x"}}', 'envelope.term: unknown field'],
    ['sequence 0', '{"timeMs":1,"session":{"client":"c","sequence":0},"command":{"op":"get","key":"x"}}', 'envelope.session.sequence: expected a whole number from 1'],
    ['lease of zero', '{"timeMs":1,"command":{"op":"claim","queue":"q","worker":"w","leaseMs":0}}', 'envelope.command.leaseMs: expected a whole number from 1 to 86400000, got 0'],
    ['fractional task', '{"timeMs":1,"command":{"op":"ack","queue":"q","task":1.5}}', 'envelope.command.task: expected a whole number from 1'],
  ])('refuses %s, naming the path', (_name, text, message) => {
    expect(() => decodeEnvelope(text)).toThrow(EnvelopeError);
    expect(() => decodeEnvelope(text)).toThrow(message);
  });

  it('measures sizes in UTF-8 bytes', () => {
    const key = 'é'.repeat(ENVELOPE_LIMITS.keyBytesMax / 2);
    expect(decodeEnvelope(encodeEnvelope({ timeMs: 0, command: { op: 'get', key } })).command).toEqual({ op: 'get', key });
    expect(() => encodeEnvelope({ timeMs: 0, command: { op: 'get', key: `${key}x` } })).toThrow(
      'envelope.command.key: expected a string of at most 1024 bytes, got a string of 1025 bytes',
    );
  });

  it('refuses a payload that is not plain JSON, or too large, on the way out as well as in', () => {
    const enqueue = (payload: unknown) => ({ timeMs: 0, command: { op: 'enqueue', queue: 'q', payload } }) as CommandEnvelope;
    expect(() => encodeEnvelope(enqueue({ n: Number.NaN }))).toThrow('envelope.command.payload.n: expected a finite number, got NaN');
    expect(() => encodeEnvelope(enqueue([undefined]))).toThrow('envelope.command.payload[0]: expected a JSON value, got nothing');
    expect(() => encodeEnvelope(enqueue(new Date(0)))).toThrow('envelope.command.payload: expected a JSON value, got object');
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(() => encodeEnvelope(enqueue(deep))).toThrow('nested at most 32 deep');
    expect(() => encodeEnvelope(enqueue('x'.repeat(ENVELOPE_LIMITS.payloadBytesMax)))).toThrow('envelope.command.payload: expected at most 65536 bytes of JSON');
  });

  it('refuses an entry larger than the envelope limit before parsing it', () => {
    expect(() => decodeEnvelope(' '.repeat(ENVELOPE_LIMITS.encodedBytesMax + 1))).toThrow('envelope: expected at most 262144 bytes of JSON');
  });
});
