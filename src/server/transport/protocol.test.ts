import { describe, expect, test } from 'vitest';
import { MalformedFrameError, computeProof, createNonce, parseHello, parseWelcome, proofMatches, type HandshakeTranscript } from './protocol.ts';

const secret = Buffer.from('correct horse battery staple');
const transcript: HandshakeTranscript = { cluster: 'lab', dialer: 1, listener: 2, dialerNonce: createNonce(), listenerNonce: createNonce() };

describe('handshake proofs', () => {
  test('a proof checks against the same secret and transcript, and not against another secret', () => {
    const proof = computeProof(secret, 'dialer', transcript);
    expect(proof).toMatch(/^[0-9a-f]{64}$/);
    expect(proofMatches(secret, 'dialer', transcript, proof)).toBe(true);
    expect(proofMatches(Buffer.from('another secret'), 'dialer', transcript, proof)).toBe(false);
  });

  test("a proof is bound to its role, both nonces, the cluster and both ids: none can be replayed elsewhere", () => {
    const proof = computeProof(secret, 'listener', transcript);
    expect(proofMatches(secret, 'dialer', transcript, proof)).toBe(false);
    for (const changed of [
      { ...transcript, dialerNonce: createNonce() },
      { ...transcript, listenerNonce: createNonce() },
      { ...transcript, cluster: 'prod' },
      { ...transcript, dialer: 3 },
      { ...transcript, dialer: 2, listener: 1 },
    ]) {
      expect(proofMatches(secret, 'listener', changed, proof)).toBe(false);
    }
  });

  test('a proof of the wrong shape never matches (and never throws)', () => {
    expect(proofMatches(secret, 'dialer', transcript, '')).toBe(false);
    expect(proofMatches(secret, 'dialer', transcript, 'ab')).toBe(false);
    expect(proofMatches(secret, 'dialer', transcript, 'z'.repeat(64))).toBe(false);
  });

  test('handshake frames are parsed strictly', () => {
    const hello = { version: 1, cluster: 'lab', from: 1, to: 2, nonce: transcript.dialerNonce };
    expect(parseHello(Buffer.from(JSON.stringify(hello)))).toEqual(hello);
    expect(() => parseHello(Buffer.from('{'))).toThrow(MalformedFrameError);
    expect(() => parseHello(Buffer.from(JSON.stringify({ ...hello, extra: 1 })))).toThrow(/unknown field/);
    expect(() => parseHello(Buffer.from(JSON.stringify({ ...hello, from: 0 })))).toThrow(/from: expected a node id/);
    expect(() => parseHello(Buffer.from(JSON.stringify({ ...hello, nonce: 'abc' })))).toThrow(/nonce/);
    expect(() => parseWelcome(Buffer.from(JSON.stringify({ ...hello, proof: 'secret' })))).toThrow(/proof/);
  });
});
