// Reading a JSON document field by field, for the scenario file and its lesson block (SPEC §3, §8): every
// problem is one ScenarioError that names the JSON path and says what was expected and what was found.

export class ScenarioError extends Error {
  override name = 'ScenarioError';

  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}

// ---- rendering what was found ----

const RENDERED_CHARACTERS_MAX = 80;

/** How a found value reads after "got": JSON for JSON values, "nothing" when the field is missing. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined; // a cycle
  }
  if (text === undefined) return Array.isArray(value) ? 'an array' : 'an object';
  return text.length > RENDERED_CHARACTERS_MAX ? `${text.slice(0, RENDERED_CHARACTERS_MAX - 3)}...` : text;
}

export function fail(path: string, expected: string, found: unknown): never {
  throw new ScenarioError(path, `expected ${expected}, got ${describeValue(found)}`);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.prototype.toString.call(value) === '[object Object]'
  );
}

export function fieldPath(parent: string, key: string): string {
  const name = /^[A-Za-z_$][\w$-]*$/.test(key) ? key : JSON.stringify(key);
  if (parent === '') return name;
  return name.startsWith('"') ? `${parent}[${name}]` : `${parent}.${name}`;
}

export function readObject(value: unknown, path: string, expected = 'an object'): Record<string, unknown> {
  if (!isRecord(value)) fail(path, expected, value);
  return value;
}

/** Unknown fields are errors, not silently ignored (SPEC §3). */
export function rejectUnknownFields(record: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key)) {
      const names = [...allowed].sort().join(', ');
      throw new ScenarioError(fieldPath(path, key), `unknown field (expected one of ${names})`);
    }
  }
}

/** A field's value; an explicit `undefined` counts as missing. `__proto__` and friends are never read. */
export function field(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

// ---- numbers, strings, booleans ----

export function describeWholeRange(min: number, max: number): string {
  return `a whole number from ${min} to ${max}`;
}

export function readWhole(value: unknown, path: string, min: number, max: number, expected?: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    fail(path, expected ?? describeWholeRange(min, max), value);
  }
  return value + 0; // -0 becomes 0
}

export function readWholeAtLeast(value: unknown, path: string, min: number): number {
  return readWhole(value, path, min, Number.MAX_SAFE_INTEGER, `a whole number >= ${min}`);
}

export function readRatio(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    fail(path, 'a number from 0 to 1', value);
  }
  return value + 0;
}

export function readBoolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') fail(path, 'true or false', value);
  return value;
}

export function countCharacters(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

export function countUtf8Bytes(text: string): number {
  let bytes = 0;
  for (const character of text) {
    const code = character.codePointAt(0)!;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/** A string of 1 (or 0) to `max` characters; a too-long string is described by its length, not printed. */
export function readText(value: unknown, path: string, options: { nonEmpty: boolean; charactersMax: number }): string {
  const expected = options.nonEmpty
    ? `a non-empty string of at most ${options.charactersMax} characters`
    : `a string of at most ${options.charactersMax} characters`;
  if (typeof value !== 'string' || (options.nonEmpty && value === '')) fail(path, expected, value);
  const characters = countCharacters(value);
  if (characters > options.charactersMax) {
    throw new ScenarioError(path, `expected ${expected}, got a string of ${characters} characters`);
  }
  return value;
}
