// What the inspector prints for a node and for a message, as plain rows. Pure, so it is tested in node.
import type { ClusterConfig, Entry, Message } from '../core/types.ts';
import type { LiveMessage, LiveNode } from '../playground/live-cluster.ts';
import { DROP_WORDS, explainMessageReason } from '../sim/explain.ts';
import { formatNode } from './panel-format.ts';

/** Entries listed for one AppendEntries; the rest are counted. */
export const ENTRIES_SHOWN_MAX = 10;
/** Characters of a snapshot chunk's data shown. */
const DATA_SHOWN_MAX = 40;

export type FieldValue =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'entries'; readonly lines: readonly string[]; readonly more: number };

export interface Field {
  readonly name: string;
  readonly value: FieldValue;
}

/** Header fields the inspector shows on their own line (type, from → to). */
const HEADER_FIELDS = new Set(['type', 'from', 'to']);

/** What became of a message that was lost, in words ("dropped because the link is cut"), or null. */
export function describeDrop(message: Pick<LiveMessage, 'message' | 'dropped'>): string | null {
  return message.dropped === undefined ? null : DROP_WORDS[message.dropped.reason](formatNode(message.message.to));
}

/** Every field of a message but its header, in the order the message has them. */
export function describeMessageFields(message: Message): Field[] {
  const fields: Field[] = [];
  for (const [name, value] of Object.entries(message)) {
    if (HEADER_FIELDS.has(name)) continue;
    // A vote's or an append's reason is a code: show the words for it, with the rule (explain.ts).
    if (name === 'reason' && 'reason' in message) fields.push({ name, value: { kind: 'text', text: explainMessageReason(message) } });
    else fields.push({ name, value: describeValue(name, value) });
  }
  return fields;
}

function describeValue(name: string, value: unknown): FieldValue {
  if (name === 'entries' && Array.isArray(value)) {
    const entries = value as readonly Entry[];
    return { kind: 'entries', lines: entries.slice(0, ENTRIES_SHOWN_MAX).map(describeEntry), more: Math.max(0, entries.length - ENTRIES_SHOWN_MAX) };
  }
  if (name === 'config' && isConfig(value)) return { kind: 'text', text: describeConfig(value) };
  if (typeof value === 'string') {
    return { kind: 'text', text: value.length > DATA_SHOWN_MAX ? `${value.slice(0, DATA_SHOWN_MAX)}… (${value.length} characters)` : value };
  }
  if (typeof value === 'number' || typeof value === 'boolean') return { kind: 'text', text: String(value) };
  return { kind: 'text', text: JSON.stringify(value) ?? String(value) };
}

function isConfig(value: unknown): value is ClusterConfig {
  return typeof value === 'object' && value !== null && Array.isArray((value as ClusterConfig).voters) && Array.isArray((value as ClusterConfig).learners);
}

export function describeConfig(config: ClusterConfig): string {
  const list = (ids: readonly number[]) => (ids.length === 0 ? 'none' : ids.map(formatNode).join(' '));
  return `voters ${list(config.voters)}; learners ${list(config.learners)}`;
}

/** `index:term label`, e.g. `7:3 put x=1`. */
export function describeEntry(entry: Entry): string {
  return `${entry.index}:${entry.term} ${entryLabel(entry)}`;
}

/** A few words for an entry's data: the command, `no-op`, or the configuration. */
export function entryLabel(entry: Pick<Entry, 'type' | 'data'>): string {
  if (entry.type === 'noop') return 'no-op';
  let parsed: unknown;
  try {
    parsed = JSON.parse(entry.data);
  } catch {
    return entry.type;
  }
  if (entry.type === 'config') return isConfig(parsed) ? describeConfig(parsed) : 'config';
  const envelope = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { command?: Record<string, unknown> };
  const command = envelope.command ?? {};
  const op = typeof command['op'] === 'string' ? command['op'] : 'command';
  switch (op) {
    case 'put':
      return `put ${String(command['key'])}=${String(command['value'])}`;
    case 'cas':
      return `cas ${String(command['key'])} ${String(command['from'])}→${String(command['to'])}`;
    case 'delete':
    case 'get':
      return `${op} ${String(command['key'])}`;
    case 'enqueue':
    case 'claim':
    case 'stats':
    case 'peek':
      return `${op} ${String(command['queue'])}`;
    case 'ack':
    case 'nack':
      return `${op} #${String(command['task'])}`;
    default:
      return op;
  }
}

/** The persistent part of a node (Figure 2): what it reads back from its disk after a crash. */
export function describePersistent(node: Pick<LiveNode, 'term' | 'votedFor' | 'snapshotIndex' | 'snapshotTerm' | 'lastIndex'>): [string, string][] {
  const log = node.lastIndex > node.snapshotIndex ? `${node.snapshotIndex + 1} … ${node.lastIndex}` : 'empty';
  const snapshot = node.snapshotIndex > 0 ? `up to index ${node.snapshotIndex}, term ${node.snapshotTerm}` : 'none';
  return [
    ['currentTerm', String(node.term)],
    ['votedFor', formatNode(node.votedFor)],
    ['log (indexes)', log],
    ['snapshot', snapshot],
  ];
}
