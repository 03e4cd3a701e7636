// Every node's log, one row per node and one column per index, so that the rows line up and a reader sees
// where logs agree, where they diverge (§5.3) and how far each node has committed and applied (§5.4).
import { memo, useDeferredValue, useEffect, useRef, useState, type RefObject } from 'react';
import type { NodeId } from '../core/types.ts';
import type { LiveNode, LiveView } from '../playground/live-cluster.ts';
import { useLessonShow, usePointedPanel } from '../playground/lesson-store.ts';
import { shownPanelView, usePlayground, type Selection } from '../playground/store.ts';
import {
  cellAt,
  chooseLogWindow,
  findLeader,
  gridFit,
  INDEX_COLUMN_REM,
  MARKER_LETTER,
  MARKER_NAME,
  NAME_COLUMN_REM,
  placeMarkers,
  rowMarkers,
  shortLabel,
  showsIndexLabel,
  termTone,
  windowIndexes,
  type GridFit,
  type LogWindow,
  type Marker,
} from './log-grid-model.ts';
import { ROLE_NAME } from './panel-format.ts';
import { RoleBadge } from './role-badge.tsx';
import './panels.css';

/** app.css lays the page out in one scrolling column here: the grid may then be as tall as it likes. */
const ONE_COLUMN_QUERY = '(max-width: 900px), (max-height: 640px)';
/** What the details under the grid keep at the least (app.css .tab-body), in rem. */
const DETAILS_MIN_REM = 2.5;

export function LogGrid() {
  // Drawn in the background, in slices that let the ring's frames through (a busy 9-node grid is a frame's work).
  const view = useDeferredValue(usePlayground(shownPanelView));
  const selection = usePlayground((s) => s.selection);
  const pointed = usePointedPanel('logs');
  const entries = useLessonShow()?.entries;
  const pointedCells = entries ? entries.map((entry) => `${entry.node}-${entry.index}`).join(' ') : '';
  const ref = useRef<HTMLElement>(null);
  const fit = useGridFit(ref, view?.nodes.length ?? 0);
  return (
    <section ref={ref} className={`panel log-grid-panel${pointed ? ' is-pointed' : ''}`} aria-label="Logs" aria-busy={view ? undefined : true} data-density={fit.density}>
      {view && <LogGridOf view={view} selection={selection} fit={fit} pointedCells={pointedCells} />}
    </section>
  );
}

/**
 * The density and columns that let every row show in the room the column leaves the grid: its width, and the
 * column's height less what the panels beside it take (they are measured, so opening the settings re-fits).
 */
function useGridFit(ref: RefObject<HTMLElement | null>, rows: number): GridFit {
  const [room, setRoom] = useState<Room>({ widthRem: null, heightRem: null, panelRem: undefined });
  useEffect(() => {
    const panel = ref.current;
    const column = panel?.parentElement;
    if (!panel || !column) return;
    const oneColumn = matchMedia(ONE_COLUMN_QUERY);
    const measure = () => {
      const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
      const widthRem = panel.clientWidth / rem;
      // The panel besides its rows: everything but the scroller, plus the scroller's index row.
      const scroller = panel.querySelector<HTMLElement>('.panel-scroll');
      const head = panel.querySelector<HTMLElement>('thead');
      const panelRem = scroller && head ? (panel.offsetHeight - scroller.clientHeight + head.offsetHeight) / rem : undefined;
      if (oneColumn.matches) return setRoom({ widthRem, heightRem: null, panelRem });
      const gap = parseFloat(getComputedStyle(column).rowGap) || 0;
      let others = 0;
      let details = false;
      for (const child of column.children) {
        if (child === panel || !(child instanceof HTMLElement) || child.offsetParent === null) continue;
        if (child.classList.contains('tab-body')) details = true;
        else others += child.offsetHeight;
        others += gap;
      }
      const heightRem = (column.clientHeight - others) / rem - (details ? DETAILS_MIN_REM : 0);
      setRoom((before) =>
        before.widthRem === widthRem && before.heightRem === heightRem && before.panelRem === panelRem ? before : { widthRem, heightRem, panelRem },
      );
    };
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(column);
    for (const child of column.children) observer.observe(child);
    // A panel that appears later (the lesson's) takes room too.
    const arrivals = new MutationObserver((changes) => {
      for (const change of changes) for (const node of change.addedNodes) if (node instanceof Element) observer.observe(node);
      measure();
    });
    arrivals.observe(column, { childList: true });
    oneColumn.addEventListener('change', measure);
    return () => {
      observer.disconnect();
      arrivals.disconnect();
      oneColumn.removeEventListener('change', measure);
    };
  }, [ref]);
  return gridFit(rows, room.widthRem, room.heightRem, room.panelRem);
}

interface Room {
  readonly widthRem: number | null;
  readonly heightRem: number | null;
  readonly panelRem: number | undefined;
}

/** What the grid shows of the cluster: when it is unchanged, so is the grid (the view changes every frame). */
function gridKey(view: LiveView): string {
  return view.nodes
    .map((n) => {
      const last = n.log[n.log.length - 1];
      const progress = n.progress.map((p) => `${p.id}/${p.next}/${p.match}`).join(',');
      return `${n.id}|${n.status}|${n.role}|${n.leader}|${n.lastIndex}|${last?.term ?? 0}|${n.log.length}|${n.commitIndex}|${n.lastApplied}|${n.snapshotIndex}|${progress}`;
    })
    .join(';');
}

const LogGridOf = memo(
  function LogGridOf({ view, selection, fit, pointedCells }: { view: LiveView; selection: Selection; fit: GridFit; pointedCells: string }) {
    const logWindow = chooseLogWindow(view.nodes, fit.columns);
    const indexes = windowIndexes(logWindow);
    const leader = findLeader(view.nodes, view.leader);
    const selectedNode: NodeId | null = selection?.kind === 'node' ? selection.id : null;

    return (
      <>
        <h2 className="panel-title">Logs</h2>
        <div className="panel-scroll">
          <table className="log-grid" style={{ width: `${NAME_COLUMN_REM + indexes.length * INDEX_COLUMN_REM}rem` }}>
            <thead>
              <tr>
                <th scope="col" className="log-corner">
                  index
                </th>
                {indexes.map((index) => (
                  <th key={index} scope="col" className="log-index">
                    {showsIndexLabel(index, logWindow) ? index : ''}
                  </th>
                ))}
              </tr>
            </thead>
            {view.nodes.map((node) => (
              <LogRow key={node.id} node={node} leader={leader} logWindow={logWindow} indexes={indexes} selected={node.id === selectedNode} pointedCells={pointedCells} />
            ))}
          </table>
        </div>
        <p className="legend">
          <span className="legend-cell legend-committed">3</span> committed <span className="legend-cell legend-uncommitted">3</span> not yet
          committed <span className="legend-cell legend-compacted" /> in the snapshot{' '}
          <span className="legend-cell legend-commit-unknown">?</span>{' '}
          <b className="marker marker-commit-unknown">C?</b> node down, commit index unknown · <b className="marker marker-commit">C</b> commitIndex{' '}
          <b className="marker marker-applied">A</b> lastApplied <b className="marker marker-match">M</b> leader's matchIndex{' '}
          <b className="marker marker-next">N</b> leader's nextIndex (§5.3)
          {fit.density === 'compact' ? ' · markers: in the Inspector, for want of room' : ''}
        </p>
      </>
    );
  },
  (before, after) =>
    before.selection === after.selection &&
    before.pointedCells === after.pointedCells &&
    before.fit.columns === after.fit.columns &&
    before.fit.density === after.fit.density &&
    gridKey(before.view) === gridKey(after.view),
);

function LogRow({
  node,
  leader,
  logWindow,
  indexes,
  selected,
  pointedCells,
}: {
  node: LiveNode;
  leader: LiveNode | null;
  logWindow: LogWindow;
  indexes: readonly number[];
  selected: boolean;
  /** The cells a lesson's step points at, as "node-index" words. */
  pointedCells: string;
}) {
  const pointed = new Set(pointedCells.split(' '));
  const down = node.status === 'down';
  const placed = placeMarkers(rowMarkers(node, leader), logWindow);
  const roleShown = down ? 'down' : node.role;
  return (
    <tbody className={`log-row${down ? ' is-down' : ''}${selected ? ' is-selected' : ''}`} data-node={node.id}>
      <tr className="log-cells">
        <th scope="row" className="log-node">
          <button
            type="button"
            className="log-node-button"
            aria-pressed={selected}
            aria-label={`S${node.id}, ${ROLE_NAME[roleShown]}${down ? ', commit index unknown' : ''}`}
            onClick={() => usePlayground.getState().select({ kind: 'node', id: node.id })}
          >
            <RoleBadge id={node.id} role={roleShown} />
            {down ? <span className="log-down">down</span> : null}
          </button>
        </th>
        {indexes.map((index) => (
          <LogCellView key={index} node={node} index={index} pointed={pointed.has(`${node.id}-${index}`)} />
        ))}
      </tr>
      <tr className="log-markers">
        <td className="log-outside" title={outsideTitle(node, placed.outside)}>
          {down ? (
            <span className="marker marker-commit-unknown" data-testid={`commit-unknown-${node.id}`}>
              C?
            </span>
          ) : null}
          {placed.outside.map((marker) => (
            <span key={marker.kind} className={`marker marker-${marker.kind}`}>
              {MARKER_LETTER[marker.kind]}
              {marker.index}
            </span>
          ))}
        </td>
        {indexes.map((index) => {
          const here = placed.byIndex.get(index);
          return (
            <td key={index} className="marker-cell" title={here ? here.map(describeMarker).join('; ') : undefined}>
              {here?.map((marker) => (
                <span key={marker.kind} className={`marker marker-${marker.kind}`}>
                  {MARKER_LETTER[marker.kind]}
                </span>
              ))}
            </td>
          );
        })}
      </tr>
    </tbody>
  );
}

function LogCellView({ node, index, pointed }: { node: LiveNode; index: number; pointed: boolean }) {
  const cell = cellAt(node, index);
  const point = pointed ? ' is-pointed' : '';
  const testId = `entry-${node.id}-${index}`;
  switch (cell.kind) {
    case 'empty':
      return <td className={`cell cell-empty${point}`} />;
    case 'compacted':
      return (
        <td
          className={`cell cell-compacted${point}`}
          data-testid={testId}
          data-committed="true"
          data-commit-known="true"
          data-compacted="true"
          {...(cell.term !== null ? { 'data-term': cell.term } : {})}
          title={`S${node.id} index ${index}: compacted into the snapshot${cell.term !== null ? ` (term ${cell.term})` : ''} (§7)`}
        >
          <span className="cell-term">{cell.term ?? ''}</span>
        </td>
      );
    case 'entry': {
      const { entry, committed, commitKnown } = cell;
      if (!commitKnown) {
        // Down: its commitIndex went with it (volatile, Figure 2). The entry may well be committed; the node
        // will learn so again from a leader once it restarts.
        const said = `S${node.id} index ${index}, term ${entry.term}: ${entry.label} (commit index unknown while S${node.id} is down)`;
        return (
          <td
            className={`cell cell-entry term-${termTone(entry.term)} is-commit-unknown${point}`}
            data-testid={testId}
            data-term={entry.term}
            data-committed="false"
            data-commit-known="false"
            title={said}
            aria-label={said}
          >
            <span className="cell-term">{entry.term}</span>
            <span className="cell-label" aria-hidden="true">
              ?
            </span>
          </td>
        );
      }
      return (
        <td
          className={`cell cell-entry term-${termTone(entry.term)} ${committed ? 'is-committed' : 'is-uncommitted'}${point}`}
          data-testid={testId}
          data-term={entry.term}
          data-committed={committed ? 'true' : 'false'}
          data-commit-known="true"
          title={`S${node.id} index ${index}, term ${entry.term}: ${entry.label} (${committed ? 'committed' : 'not committed'})`}
        >
          <span className="cell-term">{entry.term}</span>
          <span className="cell-label">{shortLabel(entry)}</span>
        </td>
      );
    }
  }
}

/** The row header's markers said in words; a down node's commitIndex is unknown, not zero. */
function outsideTitle(node: LiveNode, outside: readonly Marker[]): string | undefined {
  const said = outside.map(describeMarker);
  if (node.status === 'down') said.unshift(`commitIndex unknown while S${node.id} is down (it is volatile, Figure 2; a leader tells it again after a restart)`);
  return said.length > 0 ? said.join('; ') : undefined;
}

function describeMarker(marker: Marker): string {
  return `${MARKER_NAME[marker.kind]} ${marker.index}`;
}
