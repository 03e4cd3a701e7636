// The service's key-value store, with the results SPEC §5 describes: a get finds a value or reports
// 'not_found', a delete says whether the key existed, a failed compare-and-set reports the current value.

import type { ServiceOptions } from './service-options.ts';

export type KvCommand =
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'delete'; readonly key: string }
  | { readonly op: 'cas'; readonly key: string; readonly from: string; readonly to: string };

export type KvServiceResult =
  /** put, and cas that matched */
  | { readonly ok: true }
  /** get of a present key */
  | { readonly ok: true; readonly value: string }
  /** delete */
  | { readonly ok: true; readonly existed: boolean }
  | { readonly ok: false; readonly error: 'not_found'; readonly message: string }
  | { readonly ok: false; readonly error: 'cas_mismatch'; readonly value: string | null; readonly message: string }
  | { readonly ok: false; readonly error: 'limit_reached'; readonly message: string };

export const KV_OPS: readonly KvCommand['op'][] = ['put', 'get', 'delete', 'cas'];

export class KeyValueTable {
  private readonly data = new Map<string, string>();

  constructor(private readonly options: Pick<ServiceOptions, 'keysMax'>) {}

  get size(): number {
    return this.data.size;
  }

  apply(command: KvCommand): KvServiceResult {
    switch (command.op) {
      case 'put':
        return this.write(command.key, command.value);
      case 'get': {
        const value = this.data.get(command.key);
        if (value === undefined) return { ok: false, error: 'not_found', message: `key ${JSON.stringify(command.key)} is not set` };
        return { ok: true, value };
      }
      case 'delete':
        return { ok: true, existed: this.data.delete(command.key) };
      case 'cas': {
        const current = this.data.get(command.key) ?? null;
        if (current !== command.from) {
          const found = current === null ? 'it is not set' : `it holds ${JSON.stringify(current)}`;
          return { ok: false, error: 'cas_mismatch', value: current, message: `key ${JSON.stringify(command.key)} does not hold ${JSON.stringify(command.from)}: ${found}` };
        }
        return this.write(command.key, command.to);
      }
    }
  }

  get(key: string): string | undefined {
    return this.data.get(key);
  }

  /** Every pair, sorted by key (by UTF-16 code units, the same on every replica). */
  entries(): [string, string][] {
    return [...this.data].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  static fromEntries(entries: unknown, options: Pick<ServiceOptions, 'keysMax'>): KeyValueTable {
    if (!Array.isArray(entries)) throw new Error('key-value snapshot: expected a list of [key, value] pairs');
    const table = new KeyValueTable(options);
    entries.forEach((pair: unknown, index) => {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
        throw new Error(`key-value snapshot: entries[${index}]: expected [key, value], two strings`);
      }
      table.data.set(pair[0], pair[1]);
    });
    return table;
  }

  private write(key: string, value: string): KvServiceResult {
    if (!this.data.has(key) && this.data.size >= this.options.keysMax) {
      return { ok: false, error: 'limit_reached', message: `cannot add key ${JSON.stringify(key)}: the store holds ${this.data.size} keys, its limit (keysMax)` };
    }
    this.data.set(key, value);
    return { ok: true };
  }
}
