// `raft-playground check-history FILE`: is a key-value client history linearizable? The file is the checker's
// format: `{ "operations": [ { "client", "op", "key", "value" | "from", "to", "callMs", "returnMs", "result" } ] }`,
// `returnMs` null (or absent) for an operation whose answer never came. Exit 0 when linearizable, 1 when not
// (or the file is malformed), 3 when the checker could not decide within its budget.
import { readFileSync } from 'node:fs';
import { checkKvHistory, type KvOperation } from '../check/kv-linearizability.ts';
import { UsageError } from './args.ts';
import type { Command } from './main.ts';

export const EXIT_UNDECIDED = 3;

export const checkHistoryCommand: Command = {
  summary: 'Check that a key-value client history is linearizable (FILE, the checker\'s JSON format).',
  async run(argv) {
    if (argv.length !== 1 || argv[0]!.startsWith('--')) throw new UsageError('Expected one history file.');
    const file = argv[0]!;
    let operations: KvOperation[];
    try {
      operations = readHistory(readFileSync(file, 'utf8'));
    } catch (error) {
      process.stderr.write(`raft-playground check-history: ${file}: ${(error as Error).message}\n`);
      return 1;
    }
    let result;
    try {
      result = checkKvHistory(operations);
    } catch (error) {
      process.stderr.write(`raft-playground check-history: ${file}: ${(error as Error).message}\n`);
      return 1;
    }
    const size = `${operations.length} operations on ${result.partitions} key${result.partitions === 1 ? '' : 's'}, ${result.steps} search steps`;
    if (result.verdict === 'linearizable') {
      process.stdout.write(`linearizable: ${size}\n`);
      return 0;
    }
    if (result.verdict === 'unknown') {
      process.stdout.write(`undecided: ${size}; ${result.explanation ?? 'the search ran out of budget'}\n`);
      return EXIT_UNDECIDED;
    }
    // The explanation names the smallest set of operations that cannot be ordered, and why.
    process.stdout.write(`not linearizable: ${size}\n${result.explanation ?? ''}\n`);
    return 1;
  },
};

/** The file's operations, with null or absent returnMs read as Infinity (no answer); one sentence if malformed. */
export function readHistory(text: string): KvOperation[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`not valid JSON: ${(error as Error).message}`);
  }
  const operations = (parsed as { operations?: unknown } | null)?.operations;
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray(operations)) throw new Error('expected an object with an "operations" array');
  return operations.map((operation: unknown, i) => {
    if (typeof operation !== 'object' || operation === null || Array.isArray(operation)) throw new Error(`operations[${i}]: expected an object`);
    const record = operation as Record<string, unknown>;
    if (typeof record['client'] !== 'string') throw new Error(`operations[${i}].client: expected a string`);
    const returnMs = record['returnMs'];
    return { ...(record as unknown as KvOperation), returnMs: returnMs === null || returnMs === undefined ? Infinity : (returnMs as number) };
  });
}
