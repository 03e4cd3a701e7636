// Simulated clients of the replicated service. Each works in a closed loop: one operation at a time,
// sent to the node it believes leads; it follows redirects, times out and retries elsewhere, and numbers its
// writes in a session (thesis §6.3), so a write retried through leader changes takes effect exactly once.
// Every operation is recorded with the virtual times of its call and return: key-value operations for the
// linearizability checker, queue operations for the queue's guarantees (src/check). An operation still
// unanswered when the history is taken may or may not have taken effect.
import type { SeededRandom } from '../core/random.ts';
import { NONE, type NodeId } from '../core/types.ts';
import type { KvOperation, KvOperationResult } from '../check/kv-linearizability.ts';
import type { QueueOperation, QueueOperationResult } from '../check/queue-guarantees.ts';
import type { KvCommand } from '../machines/key-value-table.ts';
import type { QueueCommand } from '../machines/task-queues.ts';
import type { RequestFailure, Simulation } from './simulation.ts';

export interface ClientFleetOptions {
  readonly clients: number;
  readonly keys: number;
  /** Without an answer for this long, a client sends the same request to another node. */
  readonly requestTimeoutMs: number;
  /** Pause between one operation's answer and the next call. */
  readonly thinkMsMax: number;
}

export const DEFAULT_CLIENT_FLEET: ClientFleetOptions = { clients: 4, keys: 3, requestTimeoutMs: 400, thinkMsMax: 40 };

export const QUEUE = 'jobs';

type ClientCommand = KvCommand | Extract<QueueCommand, { op: 'enqueue' | 'claim' | 'ack' | 'nack' }>;

interface Call {
  readonly command: ClientCommand;
  readonly callMs: number;
  /** The session sequence number of a write: the same on every retry. */
  readonly sequence: number;
  attempt: number;
  done: boolean;
}

class SimulatedClient {
  private believedLeader: NodeId = NONE;
  private sequence = 0;
  private call: Call | null = null;
  private values = 0;
  /** A task this client claimed and has not yet acknowledged or given back. */
  private held: number | null = null;

  constructor(
    private readonly fleet: ClientFleet,
    readonly id: string,
  ) {}

  /** Start the next operation. */
  begin(): void {
    const command = this.nextCommand();
    this.call = { command, callMs: this.fleet.sim.now, sequence: command.op === 'get' ? 0 : ++this.sequence, attempt: 0, done: false };
    this.attempt();
  }

  private nextCommand(): ClientCommand {
    const { random, options } = this.fleet;
    const roll = random.next();
    if (this.held !== null) {
      // A worker finishes its task: mostly done, sometimes it gives it back for another try.
      return { op: roll < 0.75 ? 'ack' : 'nack', queue: QUEUE, task: this.held, worker: this.id };
    }
    const key = `k${random.intBetween(1, options.keys)}`;
    const value = `${this.id}-${++this.values}`;
    if (roll < 0.35) return { op: 'get', key };
    if (roll < 0.6) return { op: 'put', key, value };
    if (roll < 0.68) return { op: 'cas', key, from: this.fleet.lastValueSeen(key) ?? '', to: value };
    if (roll < 0.72) return { op: 'delete', key };
    if (roll < 0.86) return { op: 'enqueue', queue: QUEUE, payload: value };
    return { op: 'claim', queue: QUEUE, worker: this.id, leaseMs: random.intBetween(100, 400) };
  }

  private attempt(): void {
    const call = this.call;
    if (!call || call.done || !this.fleet.running) return;
    const sim = this.fleet.sim;
    const attempt = ++call.attempt;
    const target = this.believedLeader !== NONE ? this.believedLeader : this.fleet.random.pick(sim.nodes).id;
    const onDone = (result: unknown) => this.finish(call, result as KvOperationResult & QueueOperationResult);
    const onFail = (failure: RequestFailure) => {
      if (call.done || call.attempt !== attempt) return;
      // Redirect to the leader the node named, or try another node after a short pause.
      this.believedLeader = failure.leader;
      sim.at(sim.now + (failure.leader === NONE ? 20 : 1), () => this.attempt());
    };
    if (call.command.op === 'get') sim.read(target, call.command.key, onDone, { onFail });
    else sim.submit(target, call.command.op, call.command, onDone, { session: { client: this.id, sequence: call.sequence }, onFail });
    // No answer in time: the request or its answer may be lost, or the node gone. Ask another node.
    sim.at(sim.now + this.fleet.options.requestTimeoutMs, () => {
      if (call.done || call.attempt !== attempt) return;
      this.believedLeader = NONE;
      this.attempt();
    });
  }

  private finish(call: Call, result: KvOperationResult & QueueOperationResult): void {
    if (call.done) return; // an earlier attempt answered first: a retry's answer is the same result (§6.3)
    call.done = true;
    this.call = null;
    const command = call.command;
    if (command.op === 'claim' && result.ok && !result.empty && result.id !== undefined) this.held = result.id;
    if (command.op === 'ack' || command.op === 'nack') this.held = null; // done, given back, or no longer ours
    this.fleet.record(this.id, command, call.callMs, this.fleet.sim.now, result);
    const sim = this.fleet.sim;
    if (this.fleet.running) sim.at(sim.now + this.fleet.random.intBetween(0, this.fleet.options.thinkMsMax), () => this.begin());
  }

  /** The operation under way, if any: its outcome is unknown. */
  outstanding(): Call | null {
    return this.call;
  }
}

export class ClientFleet {
  readonly history: KvOperation[] = [];
  readonly queueHistory: QueueOperation[] = [];
  running = true;
  private readonly clients: SimulatedClient[] = [];
  private readonly lastValues = new Map<string, string>();

  constructor(
    readonly sim: Simulation,
    readonly random: SeededRandom,
    readonly options: ClientFleetOptions = DEFAULT_CLIENT_FLEET,
  ) {
    for (let i = 1; i <= options.clients; i++) this.clients.push(new SimulatedClient(this, `c${i}`));
  }

  start(atMs: number): void {
    for (const client of this.clients) this.sim.at(atMs + this.random.intBetween(0, this.options.thinkMsMax), () => client.begin());
  }

  /** Issue no more operations or retries (answers to requests already sent still count). */
  stop(): void {
    this.running = false;
  }

  /** Every key-value operation so far; those still unanswered have an unknown outcome. */
  takeHistory(): KvOperation[] {
    const history = [...this.history];
    for (const client of this.clients) {
      const call = client.outstanding();
      if (call && !isQueueCommand(call.command)) history.push(toOperation(client.id, call.command, call.callMs, Infinity, undefined));
    }
    return history;
  }

  /** Every queue operation so far; those still unanswered have an unknown outcome. */
  takeQueueHistory(): QueueOperation[] {
    const history = [...this.queueHistory];
    for (const client of this.clients) {
      const call = client.outstanding();
      if (call && isQueueCommand(call.command)) history.push(toQueueOperation(client.id, call.command, call.callMs, Infinity, undefined));
    }
    return history;
  }

  record(client: string, command: ClientCommand, callMs: number, returnMs: number, result: KvOperationResult & QueueOperationResult): void {
    if (isQueueCommand(command)) {
      this.queueHistory.push(toQueueOperation(client, command, callMs, returnMs, result));
      return;
    }
    this.history.push(toOperation(client, command, callMs, returnMs, result));
    if (command.op === 'get' && result.ok && typeof result.value === 'string') this.lastValues.set(command.key, result.value);
    if (command.op === 'put' && result.ok) this.lastValues.set(command.key, command.value);
  }

  /** A value the clients last saw for `key`: a good guess for compare-and-set. */
  lastValueSeen(key: string): string | undefined {
    return this.lastValues.get(key);
  }
}

function toOperation(client: string, command: KvCommand, callMs: number, returnMs: number, result: KvOperationResult | undefined): KvOperation {
  const base = { client, key: command.key, callMs, returnMs, ...(result ? { result } : {}) };
  switch (command.op) {
    case 'get':
      return { ...base, op: 'get' };
    case 'put':
      return { ...base, op: 'put', value: command.value };
    case 'delete':
      return { ...base, op: 'delete' };
    case 'cas':
      return { ...base, op: 'cas', from: command.from, to: command.to };
  }
}

function isQueueCommand(command: ClientCommand): command is Exclude<ClientCommand, KvCommand> {
  return command.op === 'enqueue' || command.op === 'claim' || command.op === 'ack' || command.op === 'nack';
}

function toQueueOperation(
  client: string,
  command: Exclude<ClientCommand, KvCommand>,
  callMs: number,
  returnMs: number,
  result: QueueOperationResult | undefined,
): QueueOperation {
  const base = { client, op: command.op, queue: command.queue, callMs, returnMs, ...(result ? { result } : {}) };
  switch (command.op) {
    case 'enqueue':
      return { ...base, payload: command.payload };
    case 'claim':
      return { ...base, worker: command.worker, leaseMs: command.leaseMs };
    case 'ack':
    case 'nack':
      return { ...base, task: command.task };
  }
}
