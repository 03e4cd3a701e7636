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
  readonly replies: ((output: ReplicaOutput) => void)[];
}

export class WorkerHost {
  private readonly workers = new Map<NodeId, NodeWorker>();
  /** Answers to deliveries handed over early, by the message's trace id, until their events come up. */
  private readonly early = new Map<number, Promise<ReplicaOutput>>();

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
          if (!this.early.has(delivery.event)) this.early.set(delivery.event, this.deliver(delivery));
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
        return early;
      }
    }
    return this.call(call);
  }

  private deliver(call: Extract<HostCall, { kind: 'input' }>): Promise<ReplicaOutput> {
    const node = this.workers.get(call.node);
    if (!node) throw new Error(`S${call.node} has no worker`);
    if (call.input.kind !== 'message') throw new Error('only deliveries travel on the network port');
    const delivery: Delivery = { message: call.input.message, nowMs: call.nowMs };
    return new Promise((resolve) => {
      node.replies.push(resolve);
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
        return node.api.handle(call.input, call.nowMs);
      }
    }
  }

  private async boot(call: Extract<HostCall, { kind: 'boot' }>): Promise<ReplicaOutput> {
    this.stop(call.node);
    const worker = new Worker(new URL('../worker/node.worker.ts', import.meta.url), { type: 'module', name: `S${call.node}` });
    const channel = new MessageChannel();
    const node: NodeWorker = { worker, api: wrap<NodeWorkerApi>(worker), port: channel.port1, replies: [] };
    channel.port1.onmessage = (event: MessageEvent<ReplicaOutput>) => node.replies.shift()?.(event.data);
    this.workers.set(call.node, node);
    return node.api.boot(call.boot, transfer(channel.port2, [channel.port2]));
  }

  /** What node `id`'s state machine holds now (null when it is down). */
  async machine(id: NodeId): Promise<MachineView | null> {
    const node = this.workers.get(id);
    return node ? node.api.machine() : null;
  }

  /** Terminate node `id`'s worker: its memory is gone, as in a crash. */
  stop(id: NodeId): void {
    const node = this.workers.get(id);
    if (!node) return;
    node.port.close();
    node.worker.terminate();
    this.workers.delete(id);
  }

  stopAll(): void {
    for (const id of [...this.workers.keys()]) this.stop(id);
  }

  get running(): number {
    return this.workers.size;
  }
}
