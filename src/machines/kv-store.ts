// A key-value store: put, get, delete and compare-and-set (SPEC §5). The simulator's machine for now; the full
// service (sessions, task queues, SPEC §5 result shapes) is ReplicatedService in replicated-service.ts.
import { hashString } from '../sim/hash.ts';
import type { StateMachine } from './state-machine.ts';

export type KvCommand =
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'delete'; readonly key: string }
  | { readonly op: 'cas'; readonly key: string; readonly from: string; readonly to: string };

export type KvResult =
  | { readonly ok: true; readonly value?: string | null }
  | { readonly ok: false; readonly error: 'cas_mismatch'; readonly value: string | null };

export class KvStore implements StateMachine<KvCommand, KvResult> {
  private readonly data = new Map<string, string>();

  apply(command: KvCommand): KvResult {
    switch (command.op) {
      case 'put':
        this.data.set(command.key, command.value);
        return { ok: true };
      case 'get':
        return { ok: true, value: this.data.get(command.key) ?? null };
      case 'delete':
        this.data.delete(command.key);
        return { ok: true };
      case 'cas': {
        const current = this.data.get(command.key) ?? null;
        if (current !== command.from) return { ok: false, error: 'cas_mismatch', value: current };
        this.data.set(command.key, command.to);
        return { ok: true };
      }
    }
  }

  get(key: string): string | undefined {
    return this.data.get(key);
  }

  entries(): [string, string][] {
    return [...this.data].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  snapshot(): string {
    return JSON.stringify(this.entries());
  }

  restore(data: string): void {
    this.data.clear();
    for (const [key, value] of JSON.parse(data) as [string, string][]) this.data.set(key, value);
  }

  hash(): string {
    let h = 0x811c9dc5;
    for (const [key, value] of this.entries()) {
      h = hashString(key, h);
      h = hashString('\u0000', h);
      h = hashString(value, h);
      h = hashString('\u0001', h);
    }
    return h.toString(16).padStart(8, '0');
  }
}
