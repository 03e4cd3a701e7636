// Framing of the peer wire protocol (SPEC §6): every frame is a 4-byte big-endian length followed by that many
// bytes of payload. TCP delivers a byte stream in chunks of any size, so the decoder takes chunks as they come and
// hands back whole payloads, one at a time.

export const FRAME_HEADER_BYTES = 4;
/** The default largest payload accepted; the core's bound on bytes per AppendEntries must stay below it. */
export const FRAME_BYTES_MAX_DEFAULT = 16 * 1024 * 1024;
/** What 4 bytes of length can say at most. */
const FRAME_BYTES_MAX_LIMIT = 0xffff_ffff;

export class FrameTooLargeError extends Error {
  override readonly name = 'FrameTooLargeError';

  constructor(
    readonly frameBytes: number,
    readonly frameBytesMax: number,
  ) {
    super(`a frame announces ${frameBytes} bytes, above the limit of ${frameBytesMax} bytes`);
  }
}

/** Prefixes `payload` with its length: one buffer ready for `socket.write`. */
export function encodeFrame(payload: Uint8Array, frameBytesMax = FRAME_BYTES_MAX_DEFAULT): Buffer {
  if (payload.byteLength > frameBytesMax) throw new FrameTooLargeError(payload.byteLength, frameBytesMax);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.byteLength);
  frame.writeUInt32BE(payload.byteLength, 0);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * An incremental decoder: `push` each chunk read from the socket, then call `next` until it returns null.
 *
 * The length in a header is checked against `frameBytesMax` as soon as the header is complete, before any of the
 * body is kept beyond the chunk that brought it: a peer cannot make us hold more than the limit (plus one chunk).
 * `frameBytesMax` may change between frames (a connection allows small frames only until its handshake is done);
 * each header is checked against the value in force when it is read.
 */
export class FrameDecoder {
  /** Unconsumed chunks, oldest first; the first one is consumed from `firstChunkOffset` on. */
  private readonly chunks: Buffer[] = [];
  private firstChunkOffset = 0;
  private bufferedBytesValue = 0;
  /** The length of the frame whose body we wait for, or null while waiting for a header. */
  private bodyBytes: number | null = null;
  private failed = false;

  constructor(public frameBytesMax: number = FRAME_BYTES_MAX_DEFAULT) {
    assertFrameBytesMax(frameBytesMax);
  }

  /** Bytes received and not yet returned in a frame. */
  get bufferedBytes(): number {
    return this.bufferedBytesValue;
  }

  push(chunk: Buffer): void {
    if (this.failed) throw new Error('frame decoder: push after a framing error; the connection must be closed');
    if (chunk.byteLength === 0) return;
    this.chunks.push(chunk);
    this.bufferedBytesValue += chunk.byteLength;
  }

  /** The next whole payload, or null when more bytes are needed. Throws a FrameTooLargeError (and stays failed). */
  next(): Buffer | null {
    if (this.failed) throw new Error('frame decoder: read after a framing error; the connection must be closed');
    if (this.bodyBytes === null) {
      if (this.bufferedBytesValue < FRAME_HEADER_BYTES) return null;
      const length = this.take(FRAME_HEADER_BYTES).readUInt32BE(0);
      assertFrameBytesMax(this.frameBytesMax);
      if (length > this.frameBytesMax) {
        this.failed = true;
        this.chunks.length = 0;
        this.bufferedBytesValue = 0;
        throw new FrameTooLargeError(length, this.frameBytesMax);
      }
      this.bodyBytes = length;
    }
    if (this.bufferedBytesValue < this.bodyBytes) return null;
    const body = this.take(this.bodyBytes);
    this.bodyBytes = null;
    return body;
  }

  /** Removes `byteCount` bytes from the front: a view into one chunk when they lie in it, a copy otherwise. */
  private take(byteCount: number): Buffer {
    this.bufferedBytesValue -= byteCount;
    const first = this.chunks[0];
    if (first === undefined) return Buffer.alloc(0);
    if (first.byteLength - this.firstChunkOffset >= byteCount) {
      const view = first.subarray(this.firstChunkOffset, this.firstChunkOffset + byteCount);
      this.consumeFirstChunk(byteCount);
      return view;
    }
    const copy = Buffer.allocUnsafe(byteCount);
    let copied = 0;
    while (copied < byteCount) {
      const chunk = this.chunks[0]!;
      const count = Math.min(byteCount - copied, chunk.byteLength - this.firstChunkOffset);
      chunk.copy(copy, copied, this.firstChunkOffset, this.firstChunkOffset + count);
      copied += count;
      this.consumeFirstChunk(count);
    }
    return copy;
  }

  private consumeFirstChunk(byteCount: number): void {
    this.firstChunkOffset += byteCount;
    if (this.firstChunkOffset === this.chunks[0]!.byteLength) {
      this.chunks.shift();
      this.firstChunkOffset = 0;
    }
  }
}

function assertFrameBytesMax(frameBytesMax: number): void {
  if (!Number.isSafeInteger(frameBytesMax) || frameBytesMax < 1 || frameBytesMax > FRAME_BYTES_MAX_LIMIT) {
    throw new Error(`frameBytesMax must be an integer in 1..${FRAME_BYTES_MAX_LIMIT}, got ${frameBytesMax}`);
  }
}
