// Small pure helpers the side panels share: how a time, a role and a node are written. No React, no store, so
// the tests run in node.
import type { NodeId, Role } from '../core/types.ts';

/** A role as the panels show it; `down` is a node whose worker is stopped. */
export type RoleShown = Role | 'down';

/** One letter per role, so a badge never rests on its colour alone. */
export const ROLE_LETTER: Record<RoleShown, string> = {
  leader: 'L',
  candidate: 'C',
  precandidate: 'P',
  follower: 'F',
  down: '×',
};

export const ROLE_NAME: Record<RoleShown, string> = {
  leader: 'leader',
  candidate: 'candidate',
  precandidate: 'pre-candidate',
  follower: 'follower',
  down: 'down',
};

export function formatNode(id: NodeId): string {
  return id === 0 ? 'nobody' : `S${id}`;
}

/** Virtual time in seconds with millisecond precision: `1.234 s`. */
export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(3)} s`;
}

/** A short span of virtual time, as a lease's remaining time: `0.25 s`, never negative. */
export function formatRemainingSeconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(2)} s`;
}

/**
 * How many narration lines happened at or before `clockMs`. The narration is in trace order, so time never
 * goes down along it, and a binary search finds the cut.
 */
export function countUpTo(items: readonly { readonly t: number }[], clockMs: number): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (items[mid]!.t <= clockMs) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The role of each node at the moment shown, as one string so that a selector's result compares by value. */
export function encodeRoles(nodes: readonly { readonly id: NodeId; readonly status: 'up' | 'down'; readonly role: Role }[]): string {
  return nodes.map((node) => `${node.id}:${node.status === 'down' ? 'down' : node.role}`).join(',');
}

export function decodeRoles(encoded: string): Map<NodeId, RoleShown> {
  const roles = new Map<NodeId, RoleShown>();
  if (encoded === '') return roles;
  for (const part of encoded.split(',')) {
    const [id, role] = part.split(':');
    if (id !== undefined && role !== undefined && role in ROLE_LETTER) roles.set(Number(id), role as RoleShown);
  }
  return roles;
}
