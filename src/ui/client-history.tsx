// The client history view: what the clients saw, each request an interval from its call to its answer, and the
// linearizability checker's verdict on it: the order it found drawn as a dot inside each interval, or the
// operations no order explains, marked and listed in words. Exports the history in the checker's format, which
// `raft-playground check-history FILE` reads.
import { useEffect, useRef, useState } from 'react';
import { currentTimeline, shownClock, usePlayground } from '../playground/store.ts';
import type { KvCheckResult } from '../check/kv-linearizability.ts';
import { historyFile, kvHistory, type HistoryOperation } from '../sim/timeline.ts';
import { checkHistory, historyPicture, isRefused, type HistoryBar, type HistoryPicture } from './client-history-model.ts';
import { downloadText } from './controls.tsx';
import { usePresentation } from './legibility.ts';
import { useBoxSize } from './use-box-size.ts';

/** How often (wall ms) the view looks for new requests and answers: the check runs only when there are some. */
const REFRESH_MS = 250;
const ROW_PX = 34;
const LANE_GAP_PX = 10;
const AXIS_PX = 26;

export function ClientHistory() {
  const [picture, setPicture] = useState<{ picture: HistoryPicture; file: () => string } | null>(null);
  const boxRef = useRef<HTMLDivElement>(null);
  const width = Math.max(300, useBoxSize(boxRef).width);
  const charPx = useCharWidth(boxRef);

  useEffect(() => {
    let laidOut = '';
    let checked: { key: string; history: HistoryOperation[]; result: KvCheckResult } | null = null;
    const refresh = () => {
      const source = currentTimeline();
      if (!source) return;
      const timeline = source.timeline;
      const state = usePlayground.getState();
      const untilMs = state.scrubMs ?? Infinity;
      const nowMs = Math.floor(shownClock(state));
      // The check runs when the history changes; the picture follows the clock (open requests grow with it).
      const checkKey = `${source.key}:${timeline.callsVersion}:${untilMs}`;
      if (checked?.key !== checkKey) {
        const history = kvHistory(timeline.calls, untilMs);
        checked = { key: checkKey, history, result: checkHistory(history) };
      }
      const key = `${checkKey}:${Math.floor(nowMs / REFRESH_MS)}:${width}:${charPx}`;
      if (key === laidOut) return;
      laidOut = key;
      const { history, result } = checked;
      const layout = { plotPx: plotWidth(width, nameWidth(history.map((h) => h.operation.client), charPx)), charPx };
      setPicture({ picture: historyPicture(history, nowMs, layout, result), file: () => historyFile(history) });
    };
    refresh();
    const timer = setInterval(refresh, REFRESH_MS);
    return () => clearInterval(timer);
  }, [width, charPx]);

  const verdict = picture?.picture.result.verdict;
  return (
    <div className="client-history" ref={boxRef}>
      <div className="view-tools">
        <p className="history-verdict" data-testid="history-verdict" data-verdict={verdict ?? 'none'}>
          {/* Announced when the verdict changes, not at every request: the count is outside the live region. */}
          <span role="status">
            {!picture || picture.picture.bars.length === 0
              ? 'No key-value requests yet: Put, Get or Delete from the controls, and each shows here from its call to its answer.'
              : picture.picture.verdict}
          </span>
          {picture && picture.picture.bars.length > 0 && <span className="history-count"> ({picture.picture.size})</span>}
        </p>
        <button type="button" className="advanced" disabled={!picture || picture.picture.bars.length === 0} onClick={() => picture && downloadText(picture.file(), 'history.json')}>
          History JSON
        </button>
      </div>
      {picture && picture.picture.bars.length > 0 && <HistoryChart picture={picture.picture} width={width} charPx={charPx} />}
      {picture?.picture.result.violation && <Offenders bars={picture.picture.bars} minimal={picture.picture.result.violation.minimal} />}
    </div>
  );
}

function HistoryChart({ picture, width, charPx }: { readonly picture: HistoryPicture; readonly width: number; readonly charPx: number }) {
  const names = nameWidth(picture.clients.map((c) => c.name), charPx);
  const laneTops: number[] = [];
  let y = AXIS_PX;
  for (const client of picture.clients) {
    laneTops.push(y);
    y += client.rows * ROW_PX + LANE_GAP_PX;
  }
  const height = y;
  const span = Math.max(1, picture.endMs - picture.startMs);
  const plot = plotWidth(width, names);
  const x = (t: number) => names + ((Math.min(t, picture.endMs) - picture.startMs) / span) * plot;
  const ticks = axisTicks(picture.startMs, picture.endMs);
  return (
    <svg className="history-chart" width={width} height={height} role="group" aria-label="Each client's requests over time">
      {ticks.map((t) => (
        <g key={t} className="tick">
          <line x1={x(t)} x2={x(t)} y1={AXIS_PX - 4} y2={height} />
          <text x={x(t)} y={AXIS_PX - 8} textAnchor="middle">
            {(t / 1000).toFixed(2)} s
          </text>
        </g>
      ))}
      {picture.clients.map((client, lane) => (
        <text key={client.name} className="client-name" x={names - 8} y={laneTops[lane]! + ROW_PX * 0.65} textAnchor="end">
          {client.name}
        </text>
      ))}
      {picture.bars.map((bar) => (
        <Bar key={bar.operation.call.request} bar={bar} top={laneTops[bar.lane]! + bar.row * ROW_PX} x={x} endMs={picture.endMs} />
      ))}
    </svg>
  );
}

function Bar({ bar, top, x, endMs }: { readonly bar: HistoryBar; readonly top: number; readonly x: (t: number) => number; readonly endMs: number }) {
  const op = bar.operation.operation;
  const open = op.returnMs === Infinity;
  const x0 = x(op.callMs);
  const x1 = Math.max(x0 + 3, x(open ? endMs : op.returnMs));
  const refused = isRefused(op);
  const className = `operation${bar.offending ? ' is-offending' : ''}${bar.culprit ? ' is-culprit' : ''}${open ? ' is-open' : ''}${refused ? ' is-refused' : ''}`;
  const when = open ? `called at ${ms(op.callMs)}, no answer` : `${ms(op.callMs)} to ${ms(op.returnMs)}`;
  return (
    <g
      className={className}
      data-testid="history-operation"
      data-offending={bar.offending}
      data-request={bar.operation.call.request}
      aria-label={`${bar.label}, ${when}${bar.offending ? ', cannot be ordered' : ''}`}
      role="img"
    >
      <title>{`${bar.label} (${when})`}</title>
      <rect x={x0} y={top + 6} width={x1 - x0} height={ROW_PX - 14} rx={3} />
      {bar.pointMs !== undefined && <circle className="point" cx={x(bar.pointMs)} cy={top + ROW_PX / 2 - 1} r={5} />}
      <text x={bar.labelLeft ? x0 - 4 : x0 + 4} y={top + ROW_PX - 12} textAnchor={bar.labelLeft ? 'end' : 'start'}>
        {`${bar.offending ? '! ' : ''}${bar.label}`}
      </text>
    </g>
  );
}

function Offenders({ bars, minimal }: { readonly bars: readonly HistoryBar[]; readonly minimal: boolean }) {
  const offending = bars.filter((bar) => bar.offending);
  return (
    <div className="offenders" data-testid="history-offenders">
      <p>
        {minimal ? `These ${offending.length} operations cannot be ordered` : `These ${offending.length} operations cannot be ordered (the checker stopped shrinking them at its budget)`}: no
        order of them, each taking effect at one moment between its call and its answer, gives every one its answer.
      </p>
      <ul>
        {offending.map((bar) => {
          const op = bar.operation.operation;
          return (
            <li key={bar.operation.call.request} className={bar.culprit ? 'is-culprit' : ''}>
              {bar.label}, {op.returnMs === Infinity ? `called at ${ms(op.callMs)}, no answer` : `${ms(op.callMs)} to ${ms(op.returnMs)}`}
              {bar.culprit ? ' (the answer no order explains)' : ''}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

/** Room for the lane names, left of the time axis. */
function nameWidth(names: readonly string[], charPx: number): number {
  return Math.max(4, ...names.map((name) => name.length)) * charPx * 1.15 + 14;
}

function plotWidth(width: number, names: number): number {
  return Math.max(100, width - names - 16);
}

/** The chart's label type's average character width, measured once the box is on the page. */
function useCharWidth(ref: React.RefObject<HTMLElement | null>): number {
  const [width, setWidth] = useState(9);
  const presenting = usePresentation((s) => s.presenting); // its type is larger
  useEffect(() => {
    if (!ref.current) return;
    const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 20;
    setWidth(Math.ceil(rem * 0.7 * 0.56)); // 0.7rem type; a sans-serif character is about 0.56 em wide
  }, [ref, presenting]);
  return width;
}

function ms(t: number): string {
  return `${(t / 1000).toFixed(3)} s`;
}

function axisTicks(startMs: number, endMs: number): number[] {
  const span = endMs - startMs;
  const step = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000].find((s) => span / s <= 6) ?? 60_000;
  const ticks: number[] = [];
  for (let t = Math.ceil(startMs / step) * step; t <= endMs; t += step) ticks.push(t);
  return ticks;
}
