// Task payloads are arbitrary JSON. They are stored as text so that a replica never shares a mutable object
// with a caller, and so that the fingerprint of the state does not depend on how an object was built.

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** Nesting beyond this is refused: a payload is data, and deep nesting only costs stack. */
export const JSON_DEPTH_MAX = 32;

/**
 * Describes why `value` is not plain JSON (a non-finite number, `undefined`, a function, a class instance, nesting
 * deeper than JSON_DEPTH_MAX), or returns undefined when it is. `path` names the place in the error.
 */
export function findJsonProblem(value: unknown, path: string, depth = 0): string | undefined {
  if (depth > JSON_DEPTH_MAX) return `${path}: expected JSON nested at most ${JSON_DEPTH_MAX} deep`;
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${path}: expected a finite number, got ${value}`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = findJsonProblem(value[i], `${path}[${i}]`, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, inner] of Object.entries(value)) {
      const problem = findJsonProblem(inner, `${path}.${key}`, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  return `${path}: expected a JSON value, got ${value === undefined ? 'nothing' : typeof value}`;
}
