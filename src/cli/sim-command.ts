// `raft-playground sim --scenario FILE [--json] [--trace OUT.ndjson]` (SPEC §2, §4).
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { formatMs } from '../check/linearizability.ts';
import { parseScenarioText, ScenarioError } from '../sim/scenario.ts';
import { runScenario } from '../sim/run-scenario.ts';
import { traceEventToJson, type TraceEvent } from '../sim/trace.ts';
import { parseFlags } from './args.ts';
import type { Command } from './main.ts';

export const simCommand: Command = {
  summary: 'Run a scenario file in the deterministic simulator (--scenario FILE [--json] [--trace OUT.ndjson]).',
  async run(argv) {
    const flags = parseFlags(argv, { scenario: { kind: 'string', required: true }, json: { kind: 'boolean' }, trace: { kind: 'string' } });
    let text: string;
    try {
      text = readFileSync(flags.scenario, 'utf8');
    } catch (error) {
      process.stderr.write(`raft-playground sim: cannot read ${flags.scenario}: ${(error as Error).message}\n`);
      return 1;
    }
    let scenario;
    try {
      scenario = parseScenarioText(text);
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      process.stderr.write(`raft-playground sim: ${flags.scenario}: ${error.message}\n`);
      return 1;
    }
    const trace = flags.trace === undefined ? null : new TraceWriter(flags.trace);
    const result = runScenario(scenario, trace ? { onTrace: (event) => trace.write(event) } : {});
    trace?.close();
    if (flags.json) {
      process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    } else {
      const lines = [
        `seed ${result.seed}, ${result.endMs} ms simulated, ${result.events} events, trace hash ${result.traceHash}`,
        `leader: ${result.leader === null ? 'none' : `S${result.leader}`}`,
        '',
        'node  status  role          term  commit  applied  last  machine',
        ...result.nodes.map(
          (n) =>
            `S${n.id}    ${n.status.padEnd(6)}  ${n.role.padEnd(12)}  ${String(n.term).padStart(4)}  ${String(n.commitIndex).padStart(6)}  ${String(n.lastApplied).padStart(7)}  ${String(n.lastLogIndex).padStart(4)}  ${n.machineHash}`,
        ),
        '',
        result.violations.length === 0
          ? 'safety: no violations'
          : `safety: ${result.violations.length} violation(s)\n` +
            result.violations.map((v) => `  t=${formatMs(v.t)}ms ${v.invariant}: ${v.message}`).join('\n'),
      ];
      process.stdout.write(lines.join('\n') + '\n');
    }
    return result.violations.length === 0 ? 0 : 1;
  },
};

/** Writes trace events as NDJSON in large chunks. */
class TraceWriter {
  private readonly fd: number;
  private buffer: string[] = [];

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  write(event: TraceEvent): void {
    this.buffer.push(traceEventToJson(event));
    if (this.buffer.length >= 4096) this.flush();
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private flush(): void {
    if (this.buffer.length > 0) writeSync(this.fd, this.buffer.join('\n') + '\n');
    this.buffer = [];
  }
}
