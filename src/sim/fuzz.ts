// Randomized runs with faults. Everything about a run — cluster size, timings, fault rates, the schedule of
// crashes, partitions and client requests — is drawn from its seed, so one number replays it exactly.
// A run has a faulty phase, checked after every event, then a liveness phase that must converge.
import { SeededRandom } from '../core/random.ts';
import { checkKvHistory } from '../check/kv-linearizability.ts';
import { checkQueueHistory } from '../check/queue-guarantees.ts';
import { ClientFleet, DEFAULT_CLIENT_FLEET } from './clients.ts';
import { runLivenessPhase } from './liveness.ts';
import type { SimConfig } from './scenario.ts';
import { Simulation } from './simulation.ts';
import type { Violation } from './safety-checker.ts';
import type { TraceEvent } from './trace.ts';

export interface FuzzSettings {
  readonly nodes: number;
  readonly config: SimConfig;
  /** Add and remove servers during the faulty phase, keeping 3 to 7 voters (thesis §4). */
  readonly membershipChurn: boolean;
  readonly faultyMs: number;
  /** Mean time between faults. */
  readonly faultEveryMs: number;
  /** Simulated clients, and the longest pause between one's answer and its next call. */
  readonly clients: number;
  readonly requestEveryMs: number;
}

export interface FuzzOutcome {
  readonly seed: number;
  readonly settings: FuzzSettings;
  readonly ok: boolean;
  readonly violation?: Violation;
  /** Set when the cluster did not converge in the liveness phase. */
  readonly livenessProblem?: string;
  readonly events: number;
  readonly endMs: number;
  readonly committed: number;
  /** The clients' history checked for linearizability ('unknown' when the search budget ran out). */
  readonly linearizability: 'linearizable' | 'not-linearizable' | 'unknown' | 'not-checked';
  /** The linearizability search's steps on that history (0 when not checked), and the operations in it. */
  readonly linearizabilitySteps: number;
  readonly operations: number;
  readonly traceHash: string;
  readonly recent: readonly TraceEvent[];
}

/** Search steps for one run's linearizability check: a run's history is a few hundred operations. */
const LINEARIZABILITY_STEPS_MAX = 2_000_000;

/** Draw a run's settings from its seed. */
export function drawSettings(seed: number, nodes?: number): FuzzSettings {
  const random = new SeededRandom(seed).fork(0xf022);
  const electionMin = random.pick([100, 150, 200, 300]);
  const latencyMin = random.intBetween(1, 20);
  const config: Omit<SimConfig, 'snapshotChunkBytes' | 'diskLatencyMs' | 'subMillisecond'> = {
    electionTimeoutMs: [electionMin, electionMin * 2],
    heartbeatMs: Math.max(10, Math.floor(electionMin / random.intBetween(3, 6))),
    latencyMs: [latencyMin, latencyMin + random.intBetween(0, 30)],
    lossRatio: random.chance(0.3) ? 0 : random.next() * 0.25,
    duplicateRatio: random.chance(0.5) ? 0 : random.next() * 0.1,
    preVote: random.chance(0.5),
    checkQuorum: random.chance(0.5),
    snapshotEveryEntries: random.pick([0, 0, 4, 16, 64]),
    // Small batching and pipelining bounds split what a leader sends, which exposes other orders.
    entriesPerMessageMax: random.pick([1, 2, 4, 64]),
    inflightMessagesMax: random.pick([1, 2, 8]),
    readMode: random.pick(['log', 'read-index', 'read-index', 'lease'] as const),
    clockDriftBound: 0.1,
    unsafeSkipVoteRestriction: false,
    unsafeCommitPreviousTerms: false,
    unsafeForgetVoteOnRestart: false,
  };
  // Drawn in this order, so that each seed keeps the run it always had.
  const nodeCount = nodes ?? random.pick([1, 2, 3, 3, 4, 5, 5, 5, 6, 7, 7, 9]);
  // Small chunks split a snapshot into many InstallSnapshot messages.
  const snapshotChunkBytes = random.pick([8, 64, 1024]);
  // A slow disk holds back what follows each write; a fine clock breaks the ties of whole milliseconds.
  const diskMin = random.chance(0.6) ? 0 : random.intBetween(0, 10);
  const diskLatencyMs: [number, number] = [diskMin, diskMin === 0 ? 0 : diskMin + random.intBetween(0, 10)];
  const subMillisecond = random.chance(0.3);
  return {
    nodes: nodeCount,
    config: { ...config, snapshotChunkBytes, diskLatencyMs, subMillisecond },
    membershipChurn: random.chance(0.25),
    faultyMs: random.intBetween(2000, 5000),
    faultEveryMs: random.intBetween(50, 400),
    clients: random.intBetween(1, 6),
    requestEveryMs: random.intBetween(5, 60),
  };
}

export interface FuzzRunOptions {
  readonly nodes?: number;
  /** Force membership churn on (true) or off (false) instead of drawing it. */
  readonly membershipChurn?: boolean;
  /** Change the drawn settings (used by tests that pin one property, e.g. a teaching switch). */
  readonly adjust?: (settings: FuzzSettings) => FuzzSettings;
}

export function fuzzRun(seed: number, options: FuzzRunOptions = {}): FuzzOutcome {
  const drawn = drawSettings(seed, options.nodes);
  const churnChosen = options.membershipChurn === undefined ? drawn : { ...drawn, membershipChurn: options.membershipChurn };
  // A removed server that never learns of its removal campaigns again and again; without PreVote or
  // CheckQuorum its terms depose every leader (thesis §4.2.3, shown in membership.test.ts). Churn keeps one on.
  const churn =
    churnChosen.membershipChurn && !churnChosen.config.preVote && !churnChosen.config.checkQuorum
      ? { ...churnChosen, config: { ...churnChosen.config, preVote: true } }
      : churnChosen;
  // Churn keeps 3 to 7 voters, so it starts from 3 to 5.
  const sized = churn.membershipChurn && options.nodes === undefined ? { ...churn, nodes: 3 + (seed % 3) } : churn;
  const settings = options.adjust ? options.adjust(sized) : sized;
  const sim = new Simulation({
    seed,
    nodes: settings.nodes,
    config: settings.config,
  });
  const random = new SeededRandom(seed).fork(0xfa17);

  // Faults: each one at a random moment of the faulty phase.
  for (let t = random.intBetween(0, settings.faultEveryMs); t < settings.faultyMs; t += random.intBetween(1, 2 * settings.faultEveryMs)) {
    sim.at(t, () => injectFault(sim, random));
  }
  if (settings.membershipChurn) {
    for (let t = random.intBetween(100, 600); t < settings.faultyMs; t += random.intBetween(200, 800)) {
      sim.at(t, () => changeMembership(sim, random));
    }
  }
  // Clients in closed loops: writes in sessions, linearizable reads, redirects, timeouts and retries.
  const fleet = new ClientFleet(sim, new SeededRandom(seed).fork(0xc11e), {
    ...DEFAULT_CLIENT_FLEET,
    clients: settings.clients,
    thinkMsMax: settings.requestEveryMs,
  });
  fleet.start(0);

  // Stop at the first violation, so that the events kept for the report are the ones that led to it.
  sim.runUntil(settings.faultyMs, () => sim.violations.length > 0);
  fleet.stop();
  let livenessProblem: string | undefined;
  if (sim.violations.length === 0) {
    const outcome = runLivenessPhase(sim);
    if (!outcome.converged && sim.violations.length === 0) {
      livenessProblem = `not converged ${outcome.endMs - outcome.healedAtMs} ms after healing: ${outcome.problem}`;
    }
  }
  let linearizability: FuzzOutcome['linearizability'] = 'not-checked';
  let linearizabilitySteps = 0;
  let operations = 0;
  if (sim.violations.length === 0) {
    const history = fleet.takeHistory();
    operations = history.length;
    const check = checkKvHistory(history, { stepsMax: LINEARIZABILITY_STEPS_MAX });
    linearizability = check.verdict;
    linearizabilitySteps = check.steps;
    if (check.verdict === 'not-linearizable') sim.checker?.reportClientViolation(0, 'Linearizability', check.explanation ?? 'the history cannot be ordered', sim.now);
    const queues = checkQueueHistory(fleet.takeQueueHistory());
    if (!queues.ok) sim.checker?.reportClientViolation(0, 'QueueGuarantee', queues.problems.join('; '), sim.now);
  }
  const violation = sim.violations[0];
  const leader = sim.leader();
  return {
    seed,
    settings,
    ok: violation === undefined && livenessProblem === undefined,
    ...(violation ? { violation } : {}),
    ...(livenessProblem ? { livenessProblem } : {}),
    events: sim.trace.count,
    endMs: sim.now,
    committed: leader === null ? 0 : sim.node(leader).raft!.commit,
    linearizability,
    linearizabilitySteps,
    operations,
    traceHash: sim.trace.traceHash(),
    recent: sim.trace.latest(),
  };
}

/** Add a server or remove a voter, keeping between 3 and 7 voters. */
function changeMembership(sim: Simulation, random: SeededRandom): void {
  const leader = sim.leader();
  if (leader === null) return;
  const { voters, learners } = sim.node(leader).raft!.config;
  const members = voters.length + learners.length; // a learner becomes a voter once it catches up
  if (members < 7 && (voters.length <= 3 || random.chance(0.5))) sim.addServer();
  else if (voters.length > 3) sim.removeServer(random.pick(voters));
}

function injectFault(sim: Simulation, random: SeededRandom): void {
  // Servers added by membership churn are fair game too.
  const ids = sim.nodes.map((n) => n.id);
  const up = ids.filter((id) => sim.node(id).raft);
  const down = ids.filter((id) => !sim.node(id).raft);
  const roll = random.next();
  if (roll < 0.2 && up.length > 0) {
    // Crash the leader half of the time: that is where the interesting cases are.
    const leader = sim.leader();
    sim.crash(leader !== null && random.chance(0.5) ? leader : random.pick(up));
  } else if (roll < 0.4 && down.length > 0) {
    sim.restart(random.pick(down));
  } else if (roll < 0.55) {
    const shuffled = ids.map((id) => ({ id, key: random.next() }));
    shuffled.sort((a, b) => a.key - b.key);
    const split = random.intBetween(1, Math.max(1, ids.length - 1));
    sim.network.partition([shuffled.slice(0, split).map((x) => x.id)], ids);
  } else if (roll < 0.7) {
    sim.network.heal();
  } else if (roll < 0.8 && ids.length > 1) {
    const from = random.pick(ids);
    const to = random.pick(ids.filter((id) => id !== from));
    if (random.chance(0.5)) sim.network.cut(from, to);
    else sim.network.mend(from, to);
  } else if (roll < 0.85 && up.length > 0) {
    // A forced timeout, like a clock running fast, makes a node campaign inside the lease it granted: lease
    // reads assume neither happens (the lease-read-clock-drift scenario shows what follows), so not then.
    if (sim.config.readMode !== 'lease') sim.timeout(random.pick(up));
  } else if (roll < 0.9 && up.length > 0) {
    sim.snapshot(random.pick(up));
  } else if (ids.length > 1) {
    sim.transfer(random.pick(ids));
  }
}

/** The command that replays one seed (add the run's --nodes and --unsafe flags, if any). */
export function replayCommand(seed: number): string {
  return `npx raft-playground fuzz --seeds 1 --first ${seed}`;
}
