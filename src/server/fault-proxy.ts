// A TCP proxy in front of one node's Raft port that a test (or a lesson) controls: while cut, it closes every
// connection through it and refuses new ones, as a network partition would. Put one proxy on each directed link
// (A's address for B in A's peer list points at the proxy A→B), and any partition can be built from cuts.
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import type { HostPort } from './peers.ts';

export class FaultProxy {
  private server: Server | null = null;
  private readonly pairs = new Set<[Socket, Socket]>();
  private cutValue = false;
  private addressValue: HostPort | null = null;

  constructor(private readonly target: HostPort) {}

  get address(): HostPort {
    if (!this.addressValue) throw new Error('the proxy is not listening');
    return this.addressValue;
  }

  get isCut(): boolean {
    return this.cutValue;
  }

  /** Listens on 127.0.0.1 and a free port. */
  async start(): Promise<HostPort> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.addressValue = { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
    return this.addressValue;
  }

  /** Break the link: close what is open and refuse new connections until `heal`. */
  cut(): void {
    this.cutValue = true;
    for (const [client, upstream] of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  heal(): void {
    this.cutValue = false;
  }

  async stop(): Promise<void> {
    this.cut();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    client.on('error', () => {});
    if (this.cutValue) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: this.target.host, port: this.target.port });
    upstream.on('error', () => {});
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const close = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close);
    upstream.on('close', close);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
