// `raft-playground bench sim|check|cluster`: figures, never pass/fail. Wall time is read here, in the CLI, never in the
// simulator: the simulator only ever sees virtual time.
import { SeededRandom } from '../core/random.ts';
import { checkKvHistory, type KvOperation } from '../check/kv-linearizability.ts';
import { encodeEnvelope, decodeEnvelope, type ServiceCommand } from '../machines/envelope.ts';
import { ReplicatedService } from '../machines/replicated-service.ts';
import { ClientFleet } from '../sim/clients.ts';
import { FIGURE16_RANGES, FIGURE16_SETUP, figure16Row, GIVE_UP_MS } from '../sim/figure16.ts';
import { Simulation } from '../sim/simulation.ts';
import { parseFlags, UsageError } from './args.ts';
import { benchCluster } from './bench-cluster.ts';
import type { Command } from './main.ts';

export const benchCommand: Command = {
  summary:
    'Print measured figures: `bench sim` (simulator speed and throughput), `bench check` (checker and state machines), `bench cluster [--seconds 12] [--etcd auto|off]` (real node processes, and etcd when on the PATH), `bench figure16 [--trials 1000]` (the paper\'s Figure 16: time without a leader after its crash, per election timeout range).',
  async run(argv) {
    const [target, ...rest] = argv;
    if (target === 'cluster') return benchCluster(rest);
    if (target === 'figure16') return benchFigure16(rest);
    if (rest.length > 0) throw new UsageError(`bench takes one target, got '${argv.join(' ')}'.`);
    if (target === 'check') return benchCheck();
    if (target !== 'sim') throw new UsageError(`bench expects the target 'sim', 'check', 'cluster' or 'figure16', got ${target === undefined ? 'nothing' : `'${target}'`}.`);
    for (const checkSafety of [true, false]) {
      const speed = measureSimulatedSpeed(checkSafety);
      process.stdout.write(
        `sim speed (5 nodes, heartbeat 50 ms, election 150-300 ms, 1000 commands/s, faults on, checker ${checkSafety ? 'on' : 'off'}): ` +
          `${speed.simulatedMs} ms simulated in ${speed.wallMs.toFixed(0)} ms wall = ${(speed.simulatedMs / speed.wallMs).toFixed(0)}x real time; ` +
          `${speed.events.toLocaleString('en')} events, ${speed.committed.toLocaleString('en')} commands committed\n`,
      );
    }
    for (const checkSafety of [true, false]) {
      const throughput = measureThroughput(checkSafety);
      process.stdout.write(
        `sim throughput (3 nodes, no faults, full load, checker ${checkSafety ? 'on' : 'off'}): ` +
          `${Math.round(throughput.committed / (throughput.wallMs / 1000)).toLocaleString('en')} commands committed per wall second ` +
          `(${throughput.committed.toLocaleString('en')} in ${throughput.wallMs.toFixed(0)} ms)\n`,
      );
    }
    return 0;
  },
};

function committedCommands(sim: Simulation): number {
  const leader = sim.leader();
  if (leader === null) return 0;
  const raft = sim.node(leader).raft!;
  let count = 0;
  for (let index = raft.log.firstIndex(); index <= raft.commit; index++) if (raft.log.entryAt(index)?.type === 'command') count++;
  return count;
}

function measureSimulatedSpeed(checkSafety: boolean) {
  const simulatedMs = 30_000;
  const sim = new Simulation({ seed: 7, nodes: 5, config: { lossRatio: 0.01, duplicateRatio: 0.01 }, checkSafety });
  const random = new SeededRandom(7).fork(1);
  // Faults: every 2 s a node crashes and comes back 1 s later; every 5 s a 500 ms partition.
  for (let t = 2000; t < simulatedMs; t += 2000) {
    const victim = random.intBetween(1, 5);
    sim.at(t, () => sim.crash(victim));
    sim.at(t + 1000, () => sim.restart(victim));
  }
  for (let t = 5000; t < simulatedMs; t += 5000) {
    sim.at(t, () => sim.network.partition([[1, 2]], [1, 2, 3, 4, 5]));
    sim.at(t + 500, () => sim.network.heal());
  }
  // 1000 client commands per simulated second, one every millisecond, to the current leader. The load
  // reschedules itself, so the event queue holds one pending client event, not thirty thousand.
  const clientTick = (t: number) => {
    const leader = sim.leader();
    if (leader !== null) sim.submit(leader, 'put', { op: 'put', key: `k${t % 100}`, value: `v${t}` });
    if (t + 1 < simulatedMs) sim.at(t + 1, () => clientTick(t + 1));
  };
  sim.at(0, () => clientTick(0));
  const started = performance.now();
  sim.runUntil(simulatedMs);
  const wallMs = performance.now() - started;
  return { simulatedMs, wallMs, events: sim.trace.count, committed: committedCommands(sim) };
}

function measureThroughput(checkSafety: boolean) {
  const simulatedMs = 5_000;
  const sim = new Simulation({ seed: 3, nodes: 3, checkSafety, tuning: { uncommittedEntriesMax: 8192 } });
  let sequence = 0;
  // Keep the leader's pipeline full: every millisecond, propose until it refuses (or 512 at most).
  const clientTick = (t: number) => {
    const leader = sim.leader();
    for (let i = 0; leader !== null && i < 512; i++) {
      if (!sim.submit(leader, 'put', { op: 'put', key: `k${sequence % 1000}`, value: `v${sequence++}` }).ok) break;
    }
    if (t + 1 < simulatedMs) sim.at(t + 1, () => clientTick(t + 1));
  };
  sim.at(0, () => clientTick(0));
  const started = performance.now();
  sim.runUntil(simulatedMs);
  return { wallMs: performance.now() - started, committed: committedCommands(sim) };
}

/** Histories recorded from 10 simulated clients on a 5-node cluster with loss and leader crashes. */
function recordHistory(operations: number): KvOperation[] {
  const sim = new Simulation({ seed: 11, nodes: 5, config: { lossRatio: 0.02, latencyMs: [2, 15] }, checkSafety: false });
  const fleet = new ClientFleet(sim, new SeededRandom(11), { clients: 10, keys: 8, requestTimeoutMs: 300, thinkMsMax: 10 });
  fleet.start(0);
  for (let t = 1000; ; t += 1000) {
    sim.at(t, () => sim.crash(sim.leader() ?? 1));
    sim.at(t + 300, () => sim.nodes.filter((n) => !n.raft).forEach((n) => sim.restart(n.id)));
    sim.runUntil(t + 1000);
    if (fleet.history.length >= operations) break;
  }
  fleet.stop();
  return fleet.takeHistory().sort((a, b) => a.callMs - b.callMs).slice(0, operations);
}

async function benchCheck(): Promise<number> {
  for (const size of [1_000, 10_000]) {
    const history = recordHistory(size);
    const started = performance.now();
    const result = checkKvHistory(history);
    const wallMs = performance.now() - started;
    process.stdout.write(
      `linearizability check of ${history.length.toLocaleString('en')} operations from 10 clients with faults: ` +
        `${result.verdict} in ${wallMs.toFixed(0)} ms (${result.steps.toLocaleString('en')} search steps, ${result.partitions} keys)\n`,
    );
  }
  const commands: [string, (i: number) => ServiceCommand][] = [
    ['put', (i) => ({ op: 'put', key: `k${i % 1000}`, value: `v${i}` })],
    ['enqueue', (i) => ({ op: 'enqueue', queue: 'jobs', payload: i })],
    ['claim', (i) => ({ op: 'claim', queue: 'jobs', worker: `w${i % 16}`, leaseMs: 60_000 })],
    ['ack', (i) => ({ op: 'ack', queue: 'jobs', task: i + 1 })],
  ];
  const machine = new ReplicatedService();
  const count = 50_000;
  for (const [name, make] of commands) {
    const entries = Array.from({ length: count }, (_, i) => encodeEnvelope({ timeMs: i, session: { client: `c${i % 64}`, sequence: Math.floor(i / 64) + 1 + (name === 'put' ? 0 : name === 'enqueue' ? 1000 : name === 'claim' ? 2000 : 3000) }, command: make(i) }));
    const started = performance.now();
    for (const data of entries) machine.apply(decodeEnvelope(data));
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(`state machine: ${Math.round(count / seconds).toLocaleString('en')} ${name} commands applied per second (decoding included, with sessions)\n`);
  }
  return 0;
}

const span = ([min, max]: readonly [number, number]) => `${min}–${max}`;

/** The paper's Figure 16, range by range: each row's median, p90, p99 and max beside what the paper states. */
function benchFigure16(argv: readonly string[]): number {
  const flags = parseFlags([...argv], { trials: { kind: 'number' } });
  const trials = flags.trials ?? 1000;
  if (!Number.isInteger(trials) || trials < 1) throw new UsageError(`--trials expects a whole number of at least 1, got ${trials}.`);
  process.stdout.write(
    `Figure 16 (§9.3): 5 servers; broadcast time about 15 ms (network ${span(FIGURE16_SETUP.latencyMs)} ms one way, disk ${span(FIGURE16_SETUP.diskLatencyMs)} ms a write, ` +
      `answers leave once on disk); heartbeat every half minimum timeout, the leader crashed at a random phase of it; ${trials} trials a range, ms without a leader ` +
      `("no lead": trials with none within ${GIVE_UP_MS / 1000} s, counted at that)\n`,
  );
  process.stdout.write(`${'timeout'.padEnd(12)}${['median', 'mean', 'p90', 'p99', 'max', 'no lead'].map((h) => h.padStart(8)).join('')}   the paper\n`);
  for (const range of FIGURE16_RANGES) {
    const row = figure16Row(range, trials);
    const paper = range.paper ? `${range.paper.what} ${range.paper.ms} (here ${Math.round(row[range.paper.what])}, ${(row[range.paper.what] / range.paper.ms).toFixed(2)}x)` : '';
    const cells = [row.median, row.mean, row.p90, row.p99, row.max, row.gaveUp].map((v) => String(Math.round(v)).padStart(8)).join('');
    process.stdout.write(`${`${range.timeoutMs[0]}-${range.timeoutMs[1]}`.padEnd(12)}${cells}   ${paper}\n`);
  }
  return 0;
}
