// Hosts each simulated node in its own Web Worker and answers the simulation's calls on them. Raft messages go
// over one MessageChannel per node; everything else over comlink. The simulation awaits every call before it
// takes the next event, so a run in workers is the same run as in one process.
import { transfer, wrap, type Remote } from 'comlink';
import type { NodeId } from '../core/types.ts';
import type { ReplicaOutput } from '../sim/replica.ts';
import type { EarlyDelivery, HostCall, Work } from '../sim/simulation.ts';
import type { Delivery, MachineView, NodeWorkerApi } from '../worker/node.worker.ts';

interface NodeWorker {
  readonly worker: Worker;
  readonly api: Remote<NodeWorkerApi>;
  /** The page's end of the node's network port. */
  readonly port: MessagePort;
  /** Deliveries awaiting the node's answer, oldest first. */
  readonly replies: { readonly resolve: (output: ReplicaOutput) => void; readonly reject: (error: Error) => void }[];
  /** Rejects when the worker is stopped: a control call still waiting on it hears so. */
  readonly stopped: Promise<never>;
  readonly stop: (error: Error) => void;
}

export class WorkerHost {
  private readonly workers = new Map<NodeId, NodeWorker>();
  /** Answers to deliveries handed over early, by the message's trace id, until their events come up. */
  private readonly early = new Map<number, { readonly node: NodeId; readonly answer: Promise<ReplicaOutput> }>();

  /**
   * Run one event's work, answering each of its calls from the workers. `settled` lists the deliveries that
   * other nodes may take now (Simulation.earlyDeliveries): they go out at once, so that the nodes work in
   * parallel, and their answers wait for their turn.
   */
  async run(work: Work, settled?: (busy: NodeId) => readonly EarlyDelivery[]): Promise<void> {
    let step = work.next();
    while (!step.done) {
      const call = step.value;
      if (settled && call.kind === 'input') {
        for (const delivery of settled(call.node)) {
          if (this.early.has(delivery.event)) continue;
          const answer = this.deliver(delivery);
          answer.catch(() => undefined); // a stopped worker's early answer may never be asked for
          this.early.set(delivery.event, { node: delivery.node, answer });
        }
      }
      step = work.next(await this.answer(call));
    }
  }

  /** Deliveries handed over early whose events have not come up yet. */
  get earlyPending(): number {
    return this.early.size;
  }

  private answer(call: HostCall): Promise<ReplicaOutput | null> {
    if (call.kind === 'input' && call.event !== undefined) {
      const early = this.early.get(call.event);
      if (early) {
        this.early.delete(call.event);
        return early.answer;
      }
    }
    return this.call(call);
  }

  private deliver(call: Extract<HostCall, { kind: 'input' }>): Promise<ReplicaOutput> {
    const node = this.workers.get(call.node);
    if (!node) throw new Error(`S${call.node} has no worker`);
    if (call.input.kind !== 'message') throw new Error('only deliveries travel on the network port');
    const delivery: Delivery = { message: call.input.message, nowMs: call.nowMs };
    return new Promise((resolve, reject) => {
      node.replies.push({ resolve, reject });
      node.port.postMessage(delivery);
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
        if (call.input.kind === 'message') return this.deliver(call);
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
    channel.port1.onmessage = (event: MessageEvent<ReplicaOutput | { readonly error: string }>) => {
      const reply = node.replies.shift();
      if ('error' in event.data) reply?.reject(new Error(`S${call.node}: ${event.data.error}`));
      else reply?.resolve(event.data);
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
    for (const [event, early] of this.early) if (early.node === id) this.early.delete(event);
    const stopped = new Error(`S${id}'s worker was stopped`);
    for (const reply of node.replies.splice(0)) reply.reject(stopped);
    node.stop(stopped);
  }

  stopAll(): void {
    for (const id of [...this.workers.keys()]) this.stop(id);
  }
}
