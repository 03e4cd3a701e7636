// The --peers address book: each member's Raft address and, after a slash, its HTTP address.
import { describe, expect, test } from 'vitest';
import { AddressError, formatPeers, parseHostPort, parsePeers } from './peers.ts';

describe('--peers', () => {
  test('ID=HOST:PORT/HTTPPORT takes the HTTP host from the Raft address; /HOST:PORT names another', () => {
    expect(parsePeers('1=10.0.0.1:7001/8001,2=node-b:7002/10.9.9.9:9002,3=[::1]:7003/8003,4=h:7004')).toEqual([
      { id: 1, raft: { host: '10.0.0.1', port: 7001 }, http: { host: '10.0.0.1', port: 8001 } },
      { id: 2, raft: { host: 'node-b', port: 7002 }, http: { host: '10.9.9.9', port: 9002 } },
      { id: 3, raft: { host: '::1', port: 7003 }, http: { host: '::1', port: 8003 } },
      { id: 4, raft: { host: 'h', port: 7004 }, http: null },
    ]);
  });

  test('formatting and parsing round-trip', () => {
    const text = '1=127.0.0.1:7001/127.0.0.1:8001,2=[::1]:7002/[::1]:8002,3=h:7003';
    expect(formatPeers(parsePeers(text))).toBe(text);
  });

  test('a malformed list is an error that names the member and what was expected', () => {
    expect(() => parsePeers('1=127.0.0.1')).toThrow(new AddressError('--peers: node 1: expected HOST:PORT, got "127.0.0.1"'));
    expect(() => parsePeers('x=h:1')).toThrow('--peers: node id "x" is not a positive whole number');
    expect(() => parsePeers('1=h:1,1=h:2')).toThrow('--peers: node 1 is listed twice');
    expect(() => parsePeers('1=h:70000')).toThrow('--peers: node 1: port 70000 is not in 1..65535');
    expect(() => parsePeers('1=h:7001/0')).toThrow('--peers: node 1 HTTP: port 0 is not in 1..65535');
    expect(() => parseHostPort('h:0', '--http')).toThrow('--http: port 0 is not in 1..65535');
    expect(parseHostPort('0.0.0.0:0', '--http', true)).toEqual({ host: '0.0.0.0', port: 0 });
  });
});
