// `raft-playground <command> [flags]`: a small dispatcher. bin/raft-playground.mjs
// imports this module and calls main(); importing it has no side effects.
//
// To add a subcommand, write src/cli/<name>-command.ts exporting a `Command`
// and add one line to `commands` below. A command returns its exit code; it
// may throw UsageError (from ./args.ts) for bad flags, which prints the
// message plus usage and exits 2.
import { UsageError } from './args.ts';
import { benchCommand } from './bench-command.ts';
import {
  ackCommand,
  casCommand,
  claimCommand,
  delCommand,
  enqueueCommand,
  getCommand,
  nackCommand,
  putCommand,
  snapshotCommand,
  statusCommand,
  transferCommand,
} from './client-commands.ts';
import { checkHistoryCommand } from './check-history-command.ts';
import { clusterCommand } from './cluster-command.ts';
import { fuzzCommand } from './fuzz-command.ts';
import { lessonCommand } from './lesson-command.ts';
import { nodeCommand } from './node-command.ts';
import { simCommand } from './sim-command.ts';

export interface Command {
  /** One line shown by `raft-playground --help`. */
  summary: string;
  /** Receives the arguments after the command name; resolves to the exit code. */
  run(argv: string[]): Promise<number>;
}

export const commands: Record<string, Command> = {
  sim: simCommand,
  fuzz: fuzzCommand,
  lesson: lessonCommand,
  'check-history': checkHistoryCommand,
  bench: benchCommand,
  node: nodeCommand,
  cluster: clusterCommand,
  status: statusCommand,
  put: putCommand,
  get: getCommand,
  del: delCommand,
  cas: casCommand,
  enqueue: enqueueCommand,
  claim: claimCommand,
  ack: ackCommand,
  nack: nackCommand,
  transfer: transferCommand,
  snapshot: snapshotCommand,
};

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'Usage: raft-playground <command> [flags]',
    '',
    'Commands:',
    ...lines,
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const out = name === undefined ? process.stderr : process.stdout;
    out.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command) {
    process.stderr.write(`raft-playground: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`raft-playground ${name}: ${err.message}\n\n${usage()}`);
      return 2;
    }
    throw err;
  }
}
