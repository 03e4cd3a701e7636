// Which of the nodes that believe they lead can actually commit. After a partition two nodes can both be in the
// leader role: the one cut off in a minority, or left behind in an older term, still believes it leads, but
// nothing it appends can be stored on a majority, so nothing it appends commits (§5.3). Pure: the ring draws
// such a leader as stale and the narration's "Right now" block says why, both from what this returns.
import type { NodeId } from '../core/types.ts';
import type { LiveLink, LiveNode } from '../playground/live-cluster.ts';
import { listed } from '../sim/explain.ts';

/**
 * Why a leader cannot commit: `term`, some up node is in a newer term (§5.1: nodes in the newer term refuse
 * its requests, and it steps down as soon as it hears of that term); `cut-off`, counting itself, the voters it
 * reaches both ways are fewer than a majority (§5.3).
 */
export type StaleReason = 'term' | 'cut-off';

export interface LeaderStanding {
  readonly id: NodeId;
  readonly term: number;
  /** `current`: a majority of voters it reaches both ways is in its term or older, so it can commit. */
  readonly standing: 'current' | 'stale';
  /** Empty for a current leader; for a stale one at least one, `term` first. */
  readonly reasons: readonly StaleReason[];
  /** Its configuration's voters (the whole cluster when the view does not say), ascending. */
  readonly voters: readonly NodeId[];
  /** The voters it reaches both ways, itself included when it is a voter, ascending. */
  readonly reached: readonly NodeId[];
  /** Of those, the ones in a newer term, which refuse its requests (§5.1). */
  readonly refusing: readonly NodeId[];
  /** A majority of the voters: the replicas an entry needs to commit (§5.3). */
  readonly needed: number;
  /** The newest term any up node is in, when above the leader's, and who leads that term (null: nobody yet). */
  readonly newer: { readonly term: number; readonly node: NodeId; readonly leader: NodeId | null } | null;
  /** For a stale leader: one plain sentence saying why it cannot commit, citing the rule. */
  readonly sentence: string | null;
}

export interface StandingOptions {
  /** CheckQuorum is on: a leader that has not heard from a majority for an election timeout steps down. */
  readonly checkQuorum?: boolean;
}

type ViewPart = {
  readonly nodes: readonly Pick<LiveNode, 'id' | 'status' | 'role' | 'term' | 'voters'>[];
  readonly links: readonly LiveLink[];
};

/** The last answer for each view (views are immutable): the ring and the "Right now" block ask alike. */
const classified = new WeakMap<ViewPart, { readonly checkQuorum: boolean; readonly standings: readonly LeaderStanding[] }>();

/** Every up node in the leader role, in id order, with whether it can commit and, if not, why. */
export function classifyLeaders(view: ViewPart, options: StandingOptions = {}): readonly LeaderStanding[] {
  const checkQuorum = options.checkQuorum ?? false;
  const known = classified.get(view);
  if (known && known.checkQuorum === checkQuorum) return known.standings;
  const standings = classify(view, options);
  classified.set(view, { checkQuorum, standings });
  return standings;
}

function classify(view: ViewPart, options: StandingOptions): LeaderStanding[] {
  const byId = new Map(view.nodes.map((node) => [node.id, node]));
  const linkState = new Map(view.links.map((link) => [linkKey(link.a, link.b), link.state]));
  // A pair the view has no link for has no cut recorded: it is up.
  const bothWays = (a: NodeId, b: NodeId) => (linkState.get(linkKey(a, b)) ?? 'up') === 'up';
  const up = view.nodes.filter((node) => node.status === 'up');
  const allIds = view.nodes.map((node) => node.id).sort(ascending);

  const standings: LeaderStanding[] = [];
  for (const leader of [...up].sort((x, y) => x.id - y.id)) {
    if (leader.role !== 'leader') continue;
    const voters = leader.voters.length > 0 ? [...leader.voters].sort(ascending) : allIds;
    const needed = Math.floor(voters.length / 2) + 1;
    const reached = voters.filter((id) => id === leader.id || (byId.get(id)?.status === 'up' && bothWays(leader.id, id)));
    const refusing = reached.filter((id) => byId.get(id)!.term > leader.term);
    const accepting = reached.length - refusing.length;

    const newest = up.reduce<(typeof up)[number] | null>((best, node) => (node.term > (best?.term ?? leader.term) ? node : best), null);
    const newer = newest
      ? {
          term: newest.term,
          node: newest.id,
          leader: up.find((node) => node.role === 'leader' && node.term === newest.term)?.id ?? null,
        }
      : null;

    const stale = accepting < needed;
    const reasons: StaleReason[] = [];
    if (stale && newer) reasons.push('term');
    if (stale && reached.length < needed) reasons.push('cut-off');
    assert(!stale || reasons.length > 0, `S${leader.id} cannot commit but no reason was found`);
    const standing = { id: leader.id, term: leader.term, voters, reached, refusing, needed, newer };
    standings.push({
      ...standing,
      standing: stale ? 'stale' : 'current',
      reasons,
      sentence: stale ? staleSentence({ ...standing, reasons }, options) : null,
    });
  }
  return standings;
}

/** The stale leaders' sentences, in id order: what the narration's "Right now" block says (empty: nothing). */
export function standingNotes(view: ViewPart | null, options: StandingOptions = {}): { readonly node: NodeId; readonly text: string }[] {
  if (!view) return [];
  return classifyLeaders(view, options).flatMap((s) => (s.sentence ? [{ node: s.id, text: s.sentence }] : []));
}

/** The short tag the ring writes under a stale leader. */
export function staleTag(standing: Pick<LeaderStanding, 'reasons'>): string {
  return standing.reasons.includes('term') ? 'stale' : 'no majority';
}

type SentenceParts = Pick<LeaderStanding, 'id' | 'term' | 'reasons' | 'voters' | 'reached' | 'refusing' | 'needed' | 'newer'>;

function staleSentence(s: SentenceParts, options: StandingOptions): string {
  const name = `S${s.id}`;
  const cutOff = s.reasons.includes('cut-off');
  const reach = `reaches only ${s.reached.length} of ${s.voters.length} voters (${describeReached(s.id, s.reached)})`;
  const stepsDown = options.checkQuorum ? ` With CheckQuorum on, it steps down after an election timeout without a majority (thesis §6.2).` : '';
  if (!s.reasons.includes('term')) {
    return `${name} leads term ${s.term} but ${reach}: it needs ${s.needed} to commit anything (§5.3).${stepsDown}`;
  }
  const newer = s.newer!;
  const elsewhere = newer.leader !== null ? `S${newer.leader} leads term ${newer.term}` : `S${newer.node} is in term ${newer.term}`;
  const believes = `${name} still believes it leads term ${s.term}, but ${elsewhere}`;
  if (cutOff) {
    return `${believes}. ${name} ${reach} and needs ${s.needed} to commit anything (§5.3); it steps down when it hears of term ${newer.term} (§5.1).`;
  }
  return `${believes}: ${listNames(s.refusing)} refuse${s.refusing.length === 1 ? 's' : ''} its requests, so nothing it appends can commit; it steps down at the first reply (§5.1).`;
}

/** `itself and S2`, `itself, S2 and S4`, `itself`; a leader outside its own configuration is not counted. */
function describeReached(self: NodeId, reached: readonly NodeId[]): string {
  const names = reached.map((id) => (id === self ? 'itself' : `S${id}`));
  if (names.length === 0) return 'none';
  const own = names.indexOf('itself');
  if (own > 0) names.unshift(...names.splice(own, 1));
  return listed(names);
}

function listNames(ids: readonly NodeId[]): string {
  return listed(ids.map((id) => `S${id}`));
}

function linkKey(a: NodeId, b: NodeId): string {
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}

function ascending(x: number, y: number): number {
  return x - y;
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}
