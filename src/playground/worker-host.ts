// Hosts each simulated node in its own Web Worker and answers the simulation's calls on them. Raft messages go
// over one MessageChannel per node; everything else over comlink. The simulation awaits every call before it
// takes the next event, or has every node work out its share of a lookahead window at once and then runs the
// window's events in order (src/sim/lookahead.ts): either way a run in workers is the same run as in one process.
import { transfer, wrap, type Remote } from 'comlink';
import type { NodeId } from '../core/types.ts';
import type { ReplicaOutput } from '../sim/replica.ts';
import { PlannedAnswers, type PlannedInput, type Window } from '../sim/lookahead.ts';
import type { HostCall, Simulation, Work } from '../sim/simulation.ts';
import type { MachineView, NodeWorkerApi, PortRequest } from '../worker/node.worker.ts';

interface NodeWorker {
  readonly worker: Worker;
  readonly api: Remote<NodeWorkerApi>;
  /** The page's end of the node's network port. */
  readonly port: MessagePort;
  /** Port requests awaiting the node's answer, oldest first. */
  readonly replies: { readonly resolve: (answer: never) => void; readonly reject: (error: Error) => void }[];
  /** Rejects when the worker is stopped: a control call still waiting on it hears so. */
  readonly stopped: Promise<never>;
  readonly stop: (error: Error) => void;
}

export class WorkerHost {
  private readonly workers = new Map<NodeId, NodeWorker>();

  /** Run one event's work, answering each of its calls from the workers. */
  async run(work: Work): Promise<void> {
    let step = work.next();
    while (!step.done) step = work.next(await this.call(step.value));
  }

  /** Run a lookahead window: every node in it works out its share at once, then the window's events run in order. */
  async runWindow(sim: Simulation, window: Window): Promise<void> {
    const plans = await Promise.all(
      window.nodes.map((share) => this.request<PlannedInput[]>(share.node, { kind: 'window', window: share, endMs: window.endMs })),
    );
    sim.runWindow(window, new PlannedAnswers(new Map(window.nodes.map((share, i) => [share.node, plans[i]!]))));
  }

  /** Send a request on node's network port; its answers come back in order. */
  private request<T>(id: NodeId, request: PortRequest): Promise<T> {
    const node = this.workers.get(id);
    if (!node) throw new Error(`S${id} has no worker`);
    return new Promise<T>((resolve, reject) => {
      node.replies.push({ resolve: resolve as (answer: never) => void, reject });
      node.port.postMessage(request);
    });
  }

  private async call(call: HostCall): Promise<ReplicaOutput | null> {
    switch (call.kind) {
      case 'boot':
        return this.boot(call);
      case 'crash':
        this.stop(call.node);
        return null;
      case 'input': {
        if (call.input.kind === 'message') return this.request(call.node, { kind: 'deliver', message: call.input.message, nowMs: call.nowMs });
        const node = this.workers.get(call.node);
        if (!node) throw new Error(`S${call.node} has no worker`);
        return Promise.race([node.api.handle(call.input, call.nowMs), node.stopped]);
      }
    }
  }

  private async boot(call: Extract<HostCall, { kind: 'boot' }>): Promise<ReplicaOutput> {
    this.stop(call.node);
    const worker = new Worker(new URL('../worker/node.worker.ts', import.meta.url), { type: 'module', name: `S${call.node}` });
    const channel = new MessageChannel();
    let stop: (error: Error) => void = () => undefined;
    const stopped = new Promise<never>((_, reject) => (stop = reject));
    stopped.catch(() => undefined); // nobody may be waiting when it stops
    const node: NodeWorker = { worker, api: wrap<NodeWorkerApi>(worker), port: channel.port1, replies: [], stopped, stop };
    channel.port1.onmessage = (event: MessageEvent<ReplicaOutput | PlannedInput[] | { readonly error: string }>) => {
      const reply = node.replies.shift();
      const answer = event.data;
      if (!Array.isArray(answer) && 'error' in answer) reply?.reject(new Error(`S${call.node}: ${answer.error}`));
      else reply?.resolve(answer as never);
    };
    this.workers.set(call.node, node);
    return Promise.race([node.api.boot(call.boot, transfer(channel.port2, [channel.port2])), stopped]);
  }

  /** What node `id`'s state machine holds now (null when it is down). */
  async machine(id: NodeId): Promise<MachineView | null> {
    const node = this.workers.get(id);
    return node ? Promise.race([node.api.machine(), node.stopped]) : null;
  }

  /**
   * Terminate node `id`'s worker: its memory is gone, as in a crash. Whoever still waits on it hears so, rather
   * than waiting for ever.
   */
  stop(id: NodeId): void {
    const node = this.workers.get(id);
    if (!node) return;
    node.port.close();
    node.worker.terminate();
    this.workers.delete(id);
    const stopped = new Error(`S${id}'s worker was stopped`);
    for (const reply of node.replies.splice(0)) reply.reject(stopped);
    node.stop(stopped);
  }

  stopAll(): void {
    for (const id of [...this.workers.keys()]) this.stop(id);
  }
}
