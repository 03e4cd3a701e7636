// The cluster's address book, as `node --peers` gives it: every member's Raft address and, after a slash, its
// HTTP address, so that a follower can redirect a client to the leader's API.
//
//   1=10.0.0.1:7001/8001,2=10.0.0.2:7001/8001,3=10.0.0.3:7001/8001
//   1=127.0.0.1:7001/127.0.0.1:8001              (an HTTP host other than the Raft host)
//   1=[::1]:7001/8001                           (IPv6 in brackets)
//
// `/PORT` means the Raft address's host with that port. Without the slash part, the member's HTTP address is
// unknown: requests that need that member as leader get 503 instead of a redirect.
import type { NodeId } from '../core/types.ts';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface PeerSpec {
  readonly id: NodeId;
  readonly raft: HostPort;
  readonly http: HostPort | null;
}

export class AddressError extends Error {
  override readonly name = 'AddressError';
}

/** `HOST:PORT`, `[IPV6]:PORT`; `allowZero` for a listening address where 0 picks a free port. */
export function parseHostPort(text: string, what: string, allowZero = false): HostPort {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._-]+)):(\d{1,5})$/.exec(text);
  if (!match) throw new AddressError(`${what}: expected HOST:PORT, got ${JSON.stringify(text)}`);
  const host = match[1] ?? match[2]!;
  const port = Number(match[3]);
  if (port > 65_535 || (port === 0 && !allowZero)) throw new AddressError(`${what}: port ${port} is not in 1..65535`);
  return { host, port };
}

export function formatHostPort(address: HostPort): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

export function httpUrl(address: HostPort): string {
  const host = address.host === '0.0.0.0' ? '127.0.0.1' : address.host === '::' ? '::1' : address.host;
  return `http://${formatHostPort({ host, port: address.port })}`;
}

/** Parses a `--peers` list; ids must be distinct positive integers. */
export function parsePeers(text: string): PeerSpec[] {
  const peers: PeerSpec[] = [];
  const items = text.split(',').map((item) => item.trim());
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new AddressError(`--peers: expected ID=HOST:PORT[/HTTPPORT] items separated by commas, got ${JSON.stringify(item)}`);
    const idText = item.slice(0, eq);
    const id = Number(idText);
    if (!/^\d+$/.test(idText) || !Number.isSafeInteger(id) || id < 1) throw new AddressError(`--peers: node id ${JSON.stringify(idText)} is not a positive whole number`);
    if (peers.some((peer) => peer.id === id)) throw new AddressError(`--peers: node ${id} is listed twice`);
    const rest = item.slice(eq + 1);
    const slash = rest.indexOf('/');
    const raft = parseHostPort(slash === -1 ? rest : rest.slice(0, slash), `--peers: node ${id}`);
    let http: HostPort | null = null;
    if (slash !== -1) {
      const httpText = rest.slice(slash + 1);
      if (/^\d{1,5}$/.test(httpText)) {
        const port = Number(httpText);
        if (port < 1 || port > 65_535) throw new AddressError(`--peers: node ${id} HTTP: port ${port} is not in 1..65535`);
        http = { host: raft.host, port };
      } else {
        http = parseHostPort(httpText, `--peers: node ${id} HTTP`);
      }
    }
    peers.push({ id, raft, http });
  }
  if (peers.length === 0) throw new AddressError('--peers: expected at least one member');
  return peers;
}

export function formatPeers(peers: readonly PeerSpec[]): string {
  return peers.map((peer) => `${peer.id}=${formatHostPort(peer.raft)}${peer.http ? `/${formatHostPort(peer.http)}` : ''}`).join(',');
}
