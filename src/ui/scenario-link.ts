// Scenarios travel in the URL as `#scenario=<base64url of the JSON file>` (SPEC §7).

export function encodeScenarioLink(json: string): string {
  const bytes = new TextEncoder().encode(json);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The scenario JSON from a location hash, null when there is none; throws a sentence when it is garbled. */
export function scenarioFromHash(hash: string): string | null {
  const match = /^#scenario=(.*)$/.exec(hash);
  if (!match) return null;
  const encoded = match[1]!.replace(/-/g, '+').replace(/_/g, '/');
  let binary: string;
  try {
    binary = atob(encoded + '='.repeat((4 - (encoded.length % 4)) % 4));
  } catch {
    throw new Error('the #scenario= part of the link is not valid base64url');
  }
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}
