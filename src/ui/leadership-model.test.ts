import { describe, expect, it } from 'vitest';
import type { NodeId, Role } from '../core/types.ts';
import type { LiveLink } from '../playground/live-cluster.ts';
import type { LinkState } from '../sim/network.ts';
import { classifyLeaders, standingNotes, staleTag } from './leadership-model.ts';

interface Sketch {
  readonly size?: number;
  /** Term of each node (default 1). */
  readonly terms?: Readonly<Record<NodeId, number>>;
  readonly roles?: Readonly<Record<NodeId, Role>>;
  readonly down?: readonly NodeId[];
  /** Links not up, as `a-b` (either order). */
  readonly cuts?: Readonly<Record<string, LinkState>>;
  readonly voters?: readonly NodeId[];
}

/** A view of `size` nodes, every link up unless cut, every node a follower in term 1 unless told. */
function view({ size = 5, terms = {}, roles = {}, down = [], cuts = {}, voters }: Sketch) {
  const ids = Array.from({ length: size }, (_, i) => i + 1);
  const cutState = new Map(Object.entries(cuts).map(([key, state]) => [key.split('-').map(Number).sort((x, y) => x - y).join('-'), state]));
  const links: LiveLink[] = [];
  for (const a of ids) for (const b of ids.filter((b) => b > a)) links.push({ a, b, state: cutState.get(`${a}-${b}`) ?? 'up' });
  return {
    nodes: ids.map((id) => ({
      id,
      status: down.includes(id) ? ('down' as const) : ('up' as const),
      role: down.includes(id) ? ('follower' as const) : (roles[id] ?? 'follower'),
      term: terms[id] ?? 1,
      voters: down.includes(id) ? [] : (voters ?? ids),
    })),
    links,
  };
}

/** Cut every link between the two groups, both ways. */
function partition(left: readonly NodeId[], right: readonly NodeId[]): Record<string, LinkState> {
  const cuts: Record<string, LinkState> = {};
  for (const a of left) for (const b of right) cuts[`${a}-${b}`] = 'down';
  return cuts;
}

describe('classifyLeaders: which leaders can commit', () => {
  it('a leader reaching every voter in the newest term is current, with no sentence', () => {
    const [s1] = classifyLeaders(view({ roles: { 1: 'leader' }, terms: { 1: 2, 2: 2, 3: 2, 4: 2, 5: 2 } }));
    expect(s1).toMatchObject({ id: 1, standing: 'current', reasons: [], reached: [1, 2, 3, 4, 5], needed: 3, newer: null, sentence: null });
    expect(standingNotes(view({ roles: { 1: 'leader' } }))).toEqual([]);
  });

  it('a leader partitioned into a minority while the majority has a newer leader is stale by term and cut off (§5.1, §5.3)', () => {
    const standings = classifyLeaders(
      view({ roles: { 1: 'leader', 3: 'leader' }, terms: { 1: 2, 2: 2, 3: 3, 4: 3, 5: 3 }, cuts: partition([1, 2], [3, 4, 5]) }),
    );
    expect(standings.map((s) => [s.id, s.standing])).toEqual([
      [1, 'stale'],
      [3, 'current'],
    ]);
    const s1 = standings[0]!;
    expect(s1).toMatchObject({ reasons: ['term', 'cut-off'], reached: [1, 2], needed: 3, newer: { term: 3, leader: 3 } });
    expect(s1.sentence).toBe(
      'S1 still believes it leads term 2, but S3 leads term 3. S1 reaches only 2 of 5 voters (itself and S2) and needs 3 to commit anything (§5.3); it steps down when it hears of term 3 (§5.1).',
    );
    expect(staleTag(s1)).toBe('stale');
  });

  it('a leader cut off before the majority has moved on is stale because it reaches too few voters (§5.3)', () => {
    const [s1] = classifyLeaders(view({ roles: { 1: 'leader' }, cuts: partition([1, 2], [3, 4, 5]) }));
    expect(s1).toMatchObject({ standing: 'stale', reasons: ['cut-off'], reached: [1, 2] });
    expect(s1!.sentence).toBe('S1 leads term 1 but reaches only 2 of 5 voters (itself and S2): it needs 3 to commit anything (§5.3).');
    expect(staleTag(s1!)).toBe('no majority');
  });

  it('says CheckQuorum steps it down when CheckQuorum is on (thesis §6.2)', () => {
    const [note] = standingNotes(view({ roles: { 1: 'leader' }, cuts: partition([1], [2, 3, 4, 5]) }), { checkQuorum: true });
    expect(note!.text).toBe(
      'S1 leads term 1 but reaches only 1 of 5 voters (itself): it needs 3 to commit anything (§5.3). With CheckQuorum on, it steps down after an election timeout without a majority (thesis §6.2).',
    );
  });

  it('a one-way link does not count: an entry needs the append to arrive and the reply to come back', () => {
    // S1 reaches S2 and S3 both ways, S4 and S5 one way only (either way round): 3 of 5, current.
    expect(classifyLeaders(view({ roles: { 1: 'leader' }, cuts: { '1-4': 'one-way', '1-5': 'one-way' } }))[0]).toMatchObject({ standing: 'current', reached: [1, 2, 3] });
    // One more one-way link and it reaches only 2.
    const [s1] = classifyLeaders(view({ roles: { 1: 'leader' }, cuts: { '1-3': 'one-way', '1-4': 'one-way', '1-5': 'one-way' } }));
    expect(s1).toMatchObject({ standing: 'stale', reasons: ['cut-off'], reached: [1, 2] });
  });

  it('a crashed peer is not reached even though its link is up', () => {
    expect(classifyLeaders(view({ roles: { 1: 'leader' }, down: [4, 5] }))[0]).toMatchObject({ standing: 'current', reached: [1, 2, 3] });
    const [s1] = classifyLeaders(view({ roles: { 1: 'leader' }, down: [3, 4, 5] }));
    expect(s1).toMatchObject({ standing: 'stale', reasons: ['cut-off'], reached: [1, 2] });
    expect(s1!.sentence).toContain('reaches only 2 of 5 voters (itself and S2)');
  });

  it('a single-node cluster is never stale: it is its own majority', () => {
    expect(classifyLeaders(view({ size: 1, roles: { 1: 'leader' } }))).toEqual([expect.objectContaining({ standing: 'current', reached: [1], needed: 1 })]);
  });

  it('a leader reaching a majority that has moved to a newer term is stale by term: they refuse its requests (§5.1)', () => {
    const [s1] = classifyLeaders(view({ roles: { 1: 'leader', 3: 'leader' }, terms: { 1: 2, 2: 2, 3: 3, 4: 3, 5: 3 } }));
    expect(s1).toMatchObject({ standing: 'stale', reasons: ['term'], refusing: [3, 4, 5] });
    expect(s1!.sentence).toBe(
      'S1 still believes it leads term 2, but S3 leads term 3: S3, S4 and S5 refuse its requests, so nothing it appends can commit; it steps down at the first reply (§5.1).',
    );
  });

  it('names a node in the newer term when nobody leads it yet', () => {
    const [s1] = classifyLeaders(view({ roles: { 1: 'leader', 4: 'candidate' }, terms: { 1: 2, 2: 2, 3: 2, 4: 3, 5: 2 }, cuts: partition([1, 2], [3, 4, 5]) }));
    expect(s1!.newer).toEqual({ term: 3, node: 4, leader: null });
    expect(s1!.sentence).toMatch(/^S1 still believes it leads term 2, but S4 is in term 3\. /);
  });

  it('a leader with a majority is current even when a cut-off node has raised its term: it still commits', () => {
    // S5 alone, campaigning without PreVote: its term climbs, but S1, S2, S3, S4 still commit in term 2.
    const standings = classifyLeaders(view({ roles: { 1: 'leader', 5: 'candidate' }, terms: { 1: 2, 2: 2, 3: 2, 4: 2, 5: 7 }, cuts: partition([5], [1, 2, 3, 4]) }));
    expect(standings).toEqual([expect.objectContaining({ id: 1, standing: 'current', newer: { term: 7, node: 5, leader: null } })]);
  });

  it('counts only the voters of the leader’s configuration', () => {
    // Voters S1–S3 (S4 and S5 are learners or gone): S1 with S2 is a majority of three.
    expect(classifyLeaders(view({ roles: { 1: 'leader' }, voters: [1, 2, 3], cuts: partition([1, 2], [3, 4, 5]) }))[0]).toMatchObject({
      standing: 'current',
      reached: [1, 2],
      needed: 2,
    });
  });

  it('ignores a down node and any node not in the leader role', () => {
    expect(classifyLeaders(view({ roles: { 2: 'candidate', 3: 'follower' }, down: [1] }))).toEqual([]);
  });
});
