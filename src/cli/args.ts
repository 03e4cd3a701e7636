// A small strict flag parser for the CLI subcommands.
//
//   const flags = parseFlags(argv, {
//     seeds: { kind: 'number', required: true },
//     out: { kind: 'string' },
//     verbose: { kind: 'boolean' },
//   });
//   flags.seeds   // number
//   flags.out     // string | undefined
//   flags.verbose // boolean (false when absent)
//
// Accepted forms: `--name value`, `--name=value`; booleans are `--name`
// (or `--name=true` / `--name=false`). Anything else throws a UsageError whose
// message is one sentence naming the flag.

export class UsageError extends Error {
  override name = 'UsageError';
}

export type FlagKind = 'string' | 'number' | 'boolean';

export interface FlagSpec {
  kind: FlagKind;
  required?: boolean;
}

export type FlagsSpec = Record<string, FlagSpec>;

type ValueOf<K extends FlagKind> = K extends 'string' ? string : K extends 'number' ? number : boolean;

/** Result type: required and boolean flags are always present, others may be undefined. */
export type ParsedFlags<S extends FlagsSpec> = {
  [N in keyof S]: S[N]['kind'] extends 'boolean'
    ? boolean
    : S[N]['required'] extends true
      ? ValueOf<S[N]['kind']>
      : ValueOf<S[N]['kind']> | undefined;
};

/**
 * Parses `argv` (the arguments after the subcommand name) against `spec`.
 * Numbers must be whole numbers (e.g. seeds, counts, milliseconds).
 * Positional arguments are not allowed.
 */
export function parseFlags<const S extends FlagsSpec>(argv: readonly string[], spec: S): ParsedFlags<S> {
  const out: Record<string, string | number | boolean | undefined> = {};
  for (const [name, flag] of Object.entries(spec)) {
    out[name] = flag.kind === 'boolean' ? false : undefined;
  }
  const seen = new Set<string>();

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      throw new UsageError(`Unexpected argument '${arg}'; only --flags are accepted.`);
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const flag = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (!flag) {
      throw new UsageError(`Unknown flag --${name}.`);
    }
    if (seen.has(name)) {
      throw new UsageError(`--${name} is given more than once.`);
    }
    seen.add(name);

    if (flag.kind === 'boolean') {
      if (inline === undefined || inline === 'true') out[name] = true;
      else if (inline === 'false') out[name] = false;
      else throw new UsageError(`--${name} is a switch and takes no value, got '${inline}'.`);
      continue;
    }

    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        throw new UsageError(`--${name} expects a value.`);
      }
      value = next;
      i++;
    }

    if (flag.kind === 'number') {
      if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
        throw new UsageError(`--${name} expects a whole number, got '${value}'.`);
      }
      out[name] = Number(value);
    } else {
      if (value === '') throw new UsageError(`--${name} expects a value.`);
      out[name] = value;
    }
  }

  for (const [name, flag] of Object.entries(spec)) {
    if (flag.required && !seen.has(name)) {
      throw new UsageError(`Missing required flag --${name}.`);
    }
  }
  return out as ParsedFlags<S>;
}
