import { describe, expect, it } from 'vitest';
import { parseFlags, UsageError } from './args.ts';

const spec = {
  seeds: { kind: 'number', required: true },
  scenario: { kind: 'string' },
  verbose: { kind: 'boolean' },
} as const;

function usageErrorOf(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a UsageError, but nothing was thrown');
}

describe('parseFlags', () => {
  it('parses string, number and boolean flags in both --x v and --x=v forms', () => {
    expect(parseFlags(['--seeds', '100', '--scenario=split-brain', '--verbose'], spec)).toEqual({
      seeds: 100,
      scenario: 'split-brain',
      verbose: true,
    });
    expect(parseFlags(['--seeds=-3'], spec)).toEqual({ seeds: -3, scenario: undefined, verbose: false });
  });

  it('defaults booleans to false and optional flags to undefined', () => {
    const flags = parseFlags(['--seeds', '1'], spec);
    expect(flags.verbose).toBe(false);
    expect(flags.scenario).toBeUndefined();
  });

  it('accepts --flag=false for booleans', () => {
    expect(parseFlags(['--seeds', '1', '--verbose=false'], spec).verbose).toBe(false);
  });

  it('rejects an unknown flag, naming it', () => {
    expect(usageErrorOf(() => parseFlags(['--seeds', '1', '--sedes', '2'], spec)).message).toBe(
      'Unknown flag --sedes.',
    );
  });

  it('rejects a missing value, naming the flag', () => {
    expect(usageErrorOf(() => parseFlags(['--seeds'], spec)).message).toBe('--seeds expects a value.');
    expect(usageErrorOf(() => parseFlags(['--scenario', '--seeds', '1'], spec)).message).toBe(
      '--scenario expects a value.',
    );
    expect(usageErrorOf(() => parseFlags(['--seeds', '1', '--scenario='], spec)).message).toBe(
      '--scenario expects a value.',
    );
  });

  it.each(['abc', '1.5', '1e3', '', '0x10', '99999999999999999999'])(
    'rejects the non-whole number %j, naming the flag',
    (bad) => {
      expect(usageErrorOf(() => parseFlags([`--seeds=${bad}`], spec)).message).toBe(
        `--seeds expects a whole number, got '${bad}'.`,
      );
    },
  );

  it('rejects a missing required flag, naming it', () => {
    expect(usageErrorOf(() => parseFlags(['--verbose'], spec)).message).toBe('Missing required flag --seeds.');
  });

  it('rejects positional arguments, repeated flags and values on switches', () => {
    expect(usageErrorOf(() => parseFlags(['--seeds', '1', 'extra'], spec)).message).toMatch(/'extra'/);
    expect(usageErrorOf(() => parseFlags(['--seeds', '1', '--seeds', '2'], spec)).message).toMatch(/--seeds/);
    expect(usageErrorOf(() => parseFlags(['--seeds', '1', '--verbose=yes'], spec)).message).toMatch(/--verbose/);
  });

  it('does not treat Object.prototype members as flags', () => {
    expect(usageErrorOf(() => parseFlags(['--toString', 'x'], spec)).message).toBe('Unknown flag --toString.');
  });
});
