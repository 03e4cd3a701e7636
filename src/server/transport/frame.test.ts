import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { FrameDecoder, FrameTooLargeError, encodeFrame } from './frame.ts';

function drain(decoder: FrameDecoder): Buffer[] {
  const frames: Buffer[] = [];
  for (let frame = decoder.next(); frame !== null; frame = decoder.next()) frames.push(frame);
  return frames;
}

function texts(frames: readonly Buffer[]): string[] {
  return frames.map((frame) => frame.toString('utf8'));
}

describe('frame decoder', () => {
  test('a frame is a 4-byte big-endian length followed by the payload (SPEC §6)', () => {
    expect([...encodeFrame(Buffer.from('abc'))]).toEqual([0, 0, 0, 3, 97, 98, 99]);
  });

  test('a frame split across chunks, even inside its header, comes out whole once its last byte arrives', () => {
    const decoder = new FrameDecoder();
    const bytes = encodeFrame(Buffer.from('hello, raft'));
    decoder.push(bytes.subarray(0, 2));
    expect(decoder.next()).toBeNull();
    decoder.push(bytes.subarray(2, 6));
    expect(decoder.next()).toBeNull();
    decoder.push(bytes.subarray(6, bytes.length - 1));
    expect(decoder.next()).toBeNull();
    decoder.push(bytes.subarray(bytes.length - 1));
    expect(texts(drain(decoder))).toEqual(['hello, raft']);
    expect(decoder.bufferedBytes).toBe(0);
  });

  test('many frames in one chunk come out one by one, in order, empty frames included', () => {
    const decoder = new FrameDecoder();
    decoder.push(Buffer.concat([encodeFrame(Buffer.from('one')), encodeFrame(Buffer.alloc(0)), encodeFrame(Buffer.from('three')), encodeFrame(Buffer.from('fo'))]));
    expect(texts(drain(decoder))).toEqual(['one', '', 'three', 'fo']);
  });

  test('an oversized length prefix fails as soon as the header is complete, before the body arrives', () => {
    const decoder = new FrameDecoder(1024);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1025);
    decoder.push(header);
    expect(() => decoder.next()).toThrow(FrameTooLargeError);
    expect(decoder.bufferedBytes).toBe(0);
    expect(() => decoder.push(Buffer.from('more'))).toThrow(/after a framing error/);
  });

  test('a frame of exactly the limit is accepted', () => {
    const decoder = new FrameDecoder(8);
    decoder.push(encodeFrame(Buffer.from('12345678')));
    expect(texts(drain(decoder))).toEqual(['12345678']);
    expect(() => encodeFrame(Buffer.from('123456789'), 8)).toThrow(FrameTooLargeError);
  });

  test('the limit may change between frames: each header is checked against the limit when it is read', () => {
    const decoder = new FrameDecoder(4);
    decoder.push(Buffer.concat([encodeFrame(Buffer.from('abcd')), encodeFrame(Buffer.from('a longer frame'))]));
    expect(decoder.next()?.toString()).toBe('abcd');
    decoder.frameBytesMax = 64;
    expect(decoder.next()?.toString()).toBe('a longer frame');
  });

  test('any chunking of any frames gives back the same frames (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 40 }),
        (payloads, chunkSizes) => {
          const stream = Buffer.concat(payloads.map((payload) => encodeFrame(payload)));
          const decoder = new FrameDecoder(300);
          const frames: Buffer[] = [];
          let offset = 0;
          for (let i = 0; offset < stream.length; i++) {
            const size = chunkSizes[i % chunkSizes.length]!;
            decoder.push(stream.subarray(offset, offset + size));
            offset += size;
            frames.push(...drain(decoder));
          }
          expect(frames.map((frame) => [...frame])).toEqual(payloads.map((payload) => [...payload]));
          expect(decoder.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
