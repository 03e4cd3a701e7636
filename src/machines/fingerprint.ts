// Stable, fast fingerprints of state for comparing replicas. Not cryptographic: they detect divergence, they do not
// defend against an adversary. Kept here rather than imported from the simulator so that the machines stand alone.

/** A 64-bit fingerprint of `text` (two independent 32-bit lanes), printed as 16 hex digits. */
export function fingerprint(text: string): string {
  let low = 0x811c9dc5; // FNV-1a offset basis
  let high = 0x6a09e667; // a different start so that the two lanes do not move together
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    low = Math.imul(low ^ code, 0x01000193);
    high = Math.imul(high ^ code, 0x5bd1e995);
    high ^= high >>> 15;
  }
  high = Math.imul(high ^ low, 0x85ebca6b);
  high ^= high >>> 13;
  return (high >>> 0).toString(16).padStart(8, '0') + (low >>> 0).toString(16).padStart(8, '0');
}

/** The number of bytes `text` takes in UTF-8, the unit every size limit of the service is stated in. */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4; // a surrogate pair is one code point of four bytes
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
