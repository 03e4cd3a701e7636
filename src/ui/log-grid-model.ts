// What the log grid draws, as plain data: which indexes get a column, what each cell holds, and where the
// markers (commit, applied, the leader's nextIndex and matchIndex) go. Pure, so it is tested in node.
import type { NodeId } from '../core/types.ts';
import type { LiveNode, LogCell } from '../playground/live-cluster.ts';

/** Columns the grid shows when it has not been measured yet (the panel's width decides: `gridFit`). */
export const LOG_GRID_COLUMNS = 20;
/** Term colours cycle through this many palette entries (panels.css: --term-0 … --term-6). */
export const TERM_TONES = 7;

/** Inclusive range of log indexes shown; empty when `last < first`. */
export interface LogWindow {
  readonly first: number;
  readonly last: number;
}

/**
 * At most `columns` indexes, up to the highest index any node holds plus one empty column after it, where the
 * next entry will go (and where an up-to-date follower's nextIndex points). Every row uses the same window, so
 * the rows align by index. A long log's window moves on by half its width at a time, not by one column per
 * entry: between moves each cell stays where it is, which is easier to follow and far cheaper to draw.
 */
export function chooseLogWindow(nodes: readonly Pick<LiveNode, 'lastIndex'>[], columns: number = LOG_GRID_COLUMNS): LogWindow {
  if (!Number.isInteger(columns) || columns < 1) throw new Error(`columns must be a positive whole number, got ${columns}`);
  const highest = nodes.reduce((most, node) => Math.max(most, node.lastIndex), 0);
  const last = highest + 1;
  const step = Math.max(1, Math.floor(columns / 2));
  return { first: Math.max(1, Math.ceil((last - columns) / step) * step + 1), last };
}

export function windowIndexes(window: LogWindow): number[] {
  const indexes: number[] = [];
  for (let index = window.first; index <= window.last; index++) indexes.push(index);
  return indexes;
}

export type CellState =
  /**
   * `committed`: at or below the node's own commitIndex. `commitKnown` is false while the node is down: its
   * commitIndex is volatile (Figure 2), so whether it knows these entries committed is unknown until it
   * restarts and hears from a leader. Then `committed` is false, which says only that the node does not know.
   */
  | { readonly kind: 'entry'; readonly entry: LogCell; readonly committed: boolean; readonly commitKnown: boolean }
  /** In the node's snapshot: committed, its entry gone. The term is known only at the snapshot's own index. */
  | { readonly kind: 'compacted'; readonly term: number | null }
  | { readonly kind: 'empty' };

type CellNode = Pick<LiveNode, 'status' | 'log' | 'snapshotIndex' | 'snapshotTerm' | 'lastIndex' | 'commitIndex'>;

export function cellAt(node: CellNode, index: number): CellState {
  if (index <= node.snapshotIndex) return { kind: 'compacted', term: index === node.snapshotIndex ? node.snapshotTerm : null };
  if (index > node.lastIndex) return { kind: 'empty' };
  const first = node.log[0];
  const entry = first ? node.log[index - first.index] : undefined;
  // The view carries only a node's latest entries; an index older than those has no cell to draw.
  if (!entry || entry.index !== index) return { kind: 'empty' };
  // A snapshot holds only committed entries and survives a crash; past it, a down node's commit is unknown.
  if (node.status === 'down') return { kind: 'entry', entry, committed: false, commitKnown: false };
  return { kind: 'entry', entry, committed: index <= node.commitIndex, commitKnown: true };
}

/** Which of the term colours a term gets; the number is always printed too, so the colour is a second cue. */
export function termTone(term: number): number {
  return ((term % TERM_TONES) + TERM_TONES) % TERM_TONES;
}

/** A label that fits a 30 px cell: the full one goes in the cell's title. */
export function shortLabel(cell: Pick<LogCell, 'type' | 'label'>): string {
  if (cell.type === 'noop') return 'nop';
  if (cell.type === 'config') return 'cfg';
  const [op = '', rest = ''] = cell.label.split(' ', 2);
  switch (op) {
    case 'put':
      return rest.length <= 3 ? rest : op;
    case 'delete':
      return 'del';
    case 'enqueue':
      return 'enq';
    case 'claim':
      return 'clm';
    case 'nack':
      return 'nak';
    default:
      return op.slice(0, 3);
  }
}

export type MarkerKind = 'commit' | 'applied' | 'match' | 'next';

export interface Marker {
  readonly kind: MarkerKind;
  readonly index: number;
}

/** Letters in the marker row; the legend spells them out. */
export const MARKER_LETTER: Record<MarkerKind, string> = { commit: 'C', applied: 'A', match: 'M', next: 'N' };
export const MARKER_NAME: Record<MarkerKind, string> = {
  commit: 'commitIndex',
  applied: 'lastApplied',
  match: "leader's matchIndex",
  next: "leader's nextIndex",
};

/**
 * A row's markers: the node's own commitIndex and lastApplied (volatile: none while it is down), then the
 * leader's matchIndex and nextIndex for it (§5.3), which the leader keeps even while the follower is down.
 * A commitIndex or lastApplied of 0 (nothing yet) and a matchIndex of 0 (nothing known) get no marker.
 */
export function rowMarkers(node: Pick<LiveNode, 'id' | 'status' | 'commitIndex' | 'lastApplied'>, leader: Pick<LiveNode, 'id' | 'progress'> | null): Marker[] {
  const markers: Marker[] = [];
  if (node.status === 'up') {
    if (node.commitIndex > 0) markers.push({ kind: 'commit', index: node.commitIndex });
    if (node.lastApplied > 0) markers.push({ kind: 'applied', index: node.lastApplied });
  }
  if (leader && leader.id !== node.id) {
    const progress = leader.progress.find((p) => p.id === node.id);
    if (progress) {
      if (progress.match > 0) markers.push({ kind: 'match', index: progress.match });
      markers.push({ kind: 'next', index: progress.next });
    }
  }
  return markers;
}

export interface PlacedMarkers {
  /** Markers inside the window, by index, in the order commit, applied, match, next. */
  readonly byIndex: ReadonlyMap<number, readonly Marker[]>;
  /** Markers left of the window (a node far behind), written out with their index in the row header. */
  readonly outside: readonly Marker[];
}

export function placeMarkers(markers: readonly Marker[], window: LogWindow): PlacedMarkers {
  const byIndex = new Map<number, Marker[]>();
  const outside: Marker[] = [];
  for (const marker of markers) {
    if (marker.index < window.first || marker.index > window.last) {
      outside.push(marker);
      continue;
    }
    const here = byIndex.get(marker.index) ?? [];
    here.push(marker);
    byIndex.set(marker.index, here);
  }
  return { byIndex, outside };
}

/** Column headers: every index while they are short, then every fifth (and the first) so they do not collide. */
export function showsIndexLabel(index: number, window: LogWindow): boolean {
  return index === window.first || index < 100 || index % 5 === 0;
}

/** The leader whose progress the grid shows: the view's leader, if it is up and leading. */
export function findLeader(nodes: readonly LiveNode[], leader: NodeId | null): LiveNode | null {
  if (leader === null) return null;
  const node = nodes.find((n) => n.id === leader);
  return node && node.status === 'up' && node.role === 'leader' ? node : null;
}

// ---- Fitting the panel ----------------------------------------------------------------------------------------

/**
 * How much of each row the grid draws: everything (term, label, markers), no labels, or terms alone (the
 * markers are then in the Inspector). The grid takes the fullest that lets every node's row show at once.
 */
export type GridDensity = 'full' | 'short' | 'compact';

/** A row's height at each density, and what the panel needs besides its rows, in rem (panels.css). */
export const ROW_REM: Readonly<Record<GridDensity, number>> = { full: 2.65, short: 2.2, compact: 1.2 };
/** The title, the index row, a two-line legend and the padding: the panel besides its rows, until measured. */
const PANEL_REM = 5.65;
/** Widths in rem, as panels.css has them: the node names, then each index. */
export const NAME_COLUMN_REM = 3.3;
export const INDEX_COLUMN_REM = 1.5;
const PANEL_PADDING_REM = 1.4;

export interface GridFit {
  readonly density: GridDensity;
  readonly columns: number;
}

/**
 * The density and column count for a panel `widthRem` wide with `heightRem` of height to spend (null: the page
 * scrolls, so the grid may take what it likes), of which `panelRem` goes to the panel besides its rows (its
 * title, index row, legend). Columns fill the width, at least 4, at most 60.
 */
export function gridFit(rows: number, widthRem: number | null, heightRem: number | null, panelRem = PANEL_REM): GridFit {
  const columns =
    widthRem === null ? LOG_GRID_COLUMNS : Math.max(4, Math.min(60, Math.floor((widthRem - PANEL_PADDING_REM - NAME_COLUMN_REM) / INDEX_COLUMN_REM)));
  if (heightRem === null) return { density: 'full', columns };
  const fits = (density: GridDensity) => panelRem + rows * ROW_REM[density] <= heightRem;
  const density = fits('full') ? 'full' : fits('short') ? 'short' : 'compact';
  return { density, columns };
}
